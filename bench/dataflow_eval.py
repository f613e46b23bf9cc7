"""Precision and recall of the data-flow analysis (rule data-flow-to-ai) on the labelled set.

Runs `egressguard audit CASE --format json` on every case folder of
tests/fixtures/dataflow/, matches the `data-flow-to-ai` findings to the AI calls labelled in
labels.toml (the labelling convention is written at the top of that file) and prints, per
data category, precision, recall, F1 and support, then micro totals and every miss and
false positive. It is a report, not a test: it always exits 0.

Scoring, per labelled AI call (sink) and category:
    predicted and labelled       true positive
    predicted, not labelled      false positive
    labelled, not predicted      false negative (miss)
A finding matches a sink in the same file when its line lies within [line - 2, end_line + 2]
or within 2 lines of one of the sink's `alt` locations (the nearest sink wins; several
findings on one sink are merged). A finding that matches no sink is a false positive for
each of its categories.

    .venv/bin/python bench/dataflow_eval.py
    .venv/bin/python bench/dataflow_eval.py --case php-fraud-check-curl --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULE = "data-flow-to-ai"
TOLERANCE = 2
CATEGORIES = (
    "customer_pii",
    "payment",
    "order",
    "cart",
    "proprietary_pricing",
    "catalog",
    "shopper_text",
    "credentials",
    "bulk_export",
)
DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dataflow"


class LabelError(Exception):
    """labels.toml does not follow the format described at its top."""


@dataclass(frozen=True, slots=True)
class Sink:
    """One labelled AI call."""

    file: str
    line: int
    end_line: int
    alt: tuple[tuple[str, int], ...]
    categories: frozenset[str]

    def distance(self, file: str, line: int) -> int | None:
        """How far a finding at file:line is from this sink, or None when it does not match."""
        spans = [(self.file, self.line, self.end_line)] + [(f, n, n) for f, n in self.alt]
        best: int | None = None
        for f, lo, hi in spans:
            if f != file or not lo - TOLERANCE <= line <= hi + TOLERANCE:
                continue
            d = 0 if lo <= line <= hi else min(abs(line - lo), abs(line - hi))
            best = d if best is None else min(best, d)
        return best


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    language: str
    kind: str
    description: str
    sinks: tuple[Sink, ...]


@dataclass(frozen=True, slots=True)
class Predicted:
    file: str
    line: int
    categories: frozenset[str]
    trace: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """A miss or a false positive, for the listing."""

    case: str
    file: str
    line: int
    category: str
    note: str = ""


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass(slots=True)
class CaseResult:
    case: Case
    predicted: list[Predicted] = field(default_factory=list)
    error: str = ""
    skipped: list[str] = field(default_factory=list)
    inventoried: frozenset[str] = frozenset()


@dataclass(slots=True)
class Score:
    per_category: dict[str, Counts]
    misses: list[Event]
    false_positives: list[Event]
    sinks_found: int
    sinks_with_data: int
    negative_calls_clean: int
    negative_calls: int


# -- labels -------------------------------------------------------------------------------


def load_labels(path: Path) -> list[Case]:
    """Parse labels.toml; raise LabelError naming the case on any malformed entry."""
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    raw_cases = doc.get("case")
    if not isinstance(raw_cases, list):
        raise LabelError("labels.toml has no [[case]] tables")
    return [_case(raw) for raw in raw_cases]


def _case(raw: Any) -> Case:
    if not isinstance(raw, dict):
        raise LabelError("a [[case]] entry is not a table")
    cid = _str(raw, "id", "?")
    sinks_raw = raw.get("sinks")
    if not isinstance(sinks_raw, list):
        raise LabelError(f"{cid}: `sinks` must be a list")
    return Case(
        id=cid,
        language=_str(raw, "language", cid),
        kind=_str(raw, "kind", cid),
        description=_str(raw, "description", cid),
        sinks=tuple(_sink(s, cid) for s in sinks_raw),
    )


def _sink(raw: Any, cid: str) -> Sink:
    if not isinstance(raw, dict):
        raise LabelError(f"{cid}: a sink is not a table")
    file = _str(raw, "file", cid)
    line = raw.get("line")
    end = raw.get("end_line", line)
    if not isinstance(line, int) or not isinstance(end, int) or line < 1 or end < line:
        raise LabelError(f"{cid}: {file}: bad line/end_line")
    cats = raw.get("categories")
    if not isinstance(cats, list) or any(c not in CATEGORIES for c in cats):
        raise LabelError(f"{cid}: {file}:{line}: categories must be a list of {CATEGORIES}")
    if len(set(cats)) != len(cats):
        raise LabelError(f"{cid}: {file}:{line}: duplicate category")
    return Sink(file, line, end, tuple(_alt(a, cid) for a in raw.get("alt", [])), frozenset(cats))


def _alt(raw: Any, cid: str) -> tuple[str, int]:
    if not isinstance(raw, str) or ":" not in raw:
        raise LabelError(f"{cid}: alt entries are 'file:line' strings")
    file, _, line = raw.rpartition(":")
    if not line.isdigit() or int(line) < 1:
        raise LabelError(f"{cid}: bad alt line in {raw!r}")
    return file, int(line)


def _str(raw: dict[str, Any], key: str, cid: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise LabelError(f"{cid}: `{key}` must be a non-empty string")
    return value


# -- running the scanner ------------------------------------------------------------------


def audit(case_dir: Path, command: Sequence[str], timeout: float) -> tuple[dict[str, Any], str]:
    """The JSON report of one case, or ({}, error text)."""
    argv = [*command, "audit", str(case_dir), "--format", "json", "--fail-on", "none"]
    argv.append("--no-history")  # labelled cases are not scans of a shop: keep them out of it
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {}, f"could not run egressguard: {exc}"
    if proc.returncode not in (0, 1):
        tail = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        return {}, f"exit {proc.returncode}: {tail[0]}"
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return {}, f"output is not JSON: {exc}"
    return (report, "") if isinstance(report, dict) else ({}, "output is not a JSON object")


def predictions(report: dict[str, Any]) -> list[Predicted]:
    out = []
    for f in report.get("findings", []):
        if f.get("rule") != RULE:
            continue
        cats = frozenset(str(c) for c in f.get("data_categories") or [])
        trace = tuple(
            (_norm(str(t.get("file", ""))), int(t.get("line", 0))) for t in f.get("trace") or []
        )
        out.append(Predicted(_norm(str(f.get("file", ""))), int(f.get("line", 0)), cats, trace))
    return out


def inventoried(report: dict[str, Any]) -> frozenset[str]:
    """Files in which the scanner located an AI integration (whether or not data flows)."""
    return frozenset(
        _norm(str(loc.get("file", "")))
        for integ in report.get("integrations", [])
        for loc in integ.get("locations", [])
    )


def _norm(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path


def run_cases(
    cases: Iterable[Case], fixtures: Path, command: Sequence[str], timeout: float, jobs: int
) -> list[CaseResult]:
    """Audit every case (in parallel subprocesses; results keep the labels' order)."""

    def one(case: Case) -> CaseResult:
        report, error = audit(fixtures / case.id, command, timeout)
        skipped = [f"{s.get('file')}: {s.get('reason')}" for s in report.get("skipped", [])]
        return CaseResult(case, predictions(report), error, skipped, inventoried(report))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, cases))


# -- scoring ------------------------------------------------------------------------------


def score(results: Iterable[CaseResult]) -> Score:
    s = Score({c: Counts() for c in CATEGORIES}, [], [], 0, 0, 0, 0)
    for r in results:
        _score_case(r, s)
    return s


def _score_case(r: CaseResult, s: Score) -> None:
    got: dict[int, set[str]] = {i: set() for i in range(len(r.case.sinks))}
    matched: set[int] = set()
    for p in r.predicted:
        idx = _nearest(r.case.sinks, p)
        if idx is None:
            for cat in sorted(p.categories):
                _count(s, cat).fp += 1
                s.false_positives.append(
                    Event(r.case.id, p.file, p.line, cat, "no labelled AI call here")
                )
            continue
        matched.add(idx)
        got[idx] |= p.categories
    for i, sink in enumerate(r.case.sinks):
        _score_sink(r, s, sink, got[i], i in matched)


def _score_sink(r: CaseResult, s: Score, sink: Sink, pred: set[str], found: bool) -> None:
    if sink.categories:
        s.sinks_with_data += 1
        s.sinks_found += 1 if found and pred & sink.categories else 0
    else:
        s.negative_calls += 1
        s.negative_calls_clean += 0 if pred else 1
    note = r.error or ("" if found else _why_missing(r, sink))
    for cat in sorted(pred | sink.categories):
        counts = _count(s, cat)
        if cat in pred and cat in sink.categories:
            counts.tp += 1
        elif cat in pred:
            counts.fp += 1
            s.false_positives.append(Event(r.case.id, sink.file, sink.line, cat, "not labelled"))
        else:
            counts.fn += 1
            s.misses.append(Event(r.case.id, sink.file, sink.line, cat, note))


def _why_missing(r: CaseResult, sink: Sink) -> str:
    files = {sink.file} | {f for f, _ in sink.alt}
    if files & r.inventoried:
        return "no data-flow finding at this AI call"
    return "no data-flow finding; the AI call's file is not even in the inventory"


def _count(s: Score, cat: str) -> Counts:
    return s.per_category.setdefault(cat, Counts())


def _nearest(sinks: Sequence[Sink], p: Predicted) -> int | None:
    best: tuple[int, int] | None = None
    for i, sink in enumerate(sinks):
        d = sink.distance(p.file, p.line)
        if d is not None and (best is None or d < best[0]):
            best = (d, i)
    return None if best is None else best[1]


def micro(per_category: dict[str, Counts]) -> Counts:
    total = Counts()
    for c in per_category.values():
        total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
    return total


# -- output -------------------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.2f}"


def table(per_category: dict[str, Counts]) -> list[str]:
    rows = ["| category | precision | recall | F1 | support | TP | FP | FN |", "|---" * 8 + "|"]
    for cat, c in per_category.items():
        rows.append(_row(cat, c))
    rows.append(_row("**micro**", micro(per_category)))
    return rows


def _row(name: str, c: Counts) -> str:
    cells = [_fmt(c.precision), _fmt(c.recall), _fmt(c.f1), str(c.support)]
    return f"| {name} | " + " | ".join([*cells, str(c.tp), str(c.fp), str(c.fn)]) + " |"


def by_language(results: Sequence[CaseResult]) -> dict[str, Counts]:
    langs = sorted({r.case.language for r in results})
    return {
        lang: micro(score([r for r in results if r.case.language == lang]).per_category)
        for lang in langs
    }


def trace_problems(results: Sequence[CaseResult], fixtures: Path) -> list[str]:
    """Findings whose trace is empty or names a file:line that does not exist in the case."""
    out = []
    for r in results:
        for p in r.predicted:
            if not p.trace:
                out.append(f"  {r.case.id}  {p.file}:{p.line}  empty trace")
            for file, line in p.trace:
                path = fixtures / r.case.id / file
                n = len(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else 0
                if not 1 <= line <= n:
                    out.append(f"  {r.case.id}  {p.file}:{p.line}  trace step {file}:{line}")
    return out


def report_lines(results: Sequence[CaseResult], s: Score) -> list[str]:
    n_sinks = sum(len(r.case.sinks) for r in results)
    lines = [
        f"cases: {len(results)}  labelled AI calls: {n_sinks} "
        f"({s.sinks_with_data} with shop data, {s.negative_calls} negative)",
        "",
        *table(s.per_category),
        "",
        f"AI calls with shop data that got a finding with a right category: "
        f"{s.sinks_found}/{s.sinks_with_data}",
        f"negative AI calls left clean: {s.negative_calls_clean}/{s.negative_calls}",
        "",
        "micro by language:",
        *table(by_language(results)),
        "",
    ]
    errors = [f"  {r.case.id}: {r.error}" for r in results if r.error]
    if errors:
        lines += ["scanner errors:", *errors, ""]
    skipped = [f"  {r.case.id}: {x}" for r in results for x in r.skipped]
    if skipped:
        lines += ["skipped files reported by the scanner:", *skipped, ""]
    lines += [f"misses ({len(s.misses)}):", *_events(s.misses), ""]
    lines += [f"false positives ({len(s.false_positives)}):", *_events(s.false_positives)]
    return lines


def _events(events: Iterable[Event]) -> list[str]:
    return [
        f"  {e.case}  {e.file}:{e.line}  {e.category}" + (f"  ({e.note})" if e.note else "")
        for e in events
    ]


def as_json(results: Sequence[CaseResult], s: Score) -> dict[str, Any]:
    def counts(c: Counts) -> dict[str, Any]:
        return {
            "precision": c.precision,
            "recall": c.recall,
            "f1": c.f1,
            "support": c.support,
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
        }

    return {
        "per_category": {k: counts(v) for k, v in s.per_category.items()},
        "micro": counts(micro(s.per_category)),
        "misses": [_event(e) for e in s.misses],
        "false_positives": [_event(e) for e in s.false_positives],
        "errors": {r.case.id: r.error for r in results if r.error},
    }


def _event(e: Event) -> dict[str, Any]:
    return {"case": e.case, "file": e.file, "line": e.line, "category": e.category, "note": e.note}


# -- command line -------------------------------------------------------------------------


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES, help="labelled set")
    p.add_argument("--case", action="append", default=[], help="only this case id (repeatable)")
    p.add_argument(
        "--egressguard",
        default=f"{sys.executable} -m egressguard",
        help="command that runs egressguard (default: this interpreter's -m egressguard)",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases run at once")
    p.add_argument("--json", type=Path, help="also write the scores as JSON here")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    try:
        cases = load_labels(args.fixtures / "labels.toml")
    except (OSError, tomllib.TOMLDecodeError, LabelError) as exc:
        print(f"dataflow_eval: cannot read the labels: {exc}", file=sys.stderr)
        return 0
    if args.case:
        cases = [c for c in cases if c.id in set(args.case)]
    results = run_cases(
        cases, args.fixtures, args.egressguard.split(), args.timeout, max(1, args.jobs)
    )
    s = score(results)
    print("\n".join(report_lines(results, s)))
    traces = trace_problems(results, args.fixtures)
    n_found = sum(len(r.predicted) for r in results)
    print(f"\ntrace problems in the {n_found} data-flow findings: {len(traces)}")
    print("\n".join(traces))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(results, s), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
