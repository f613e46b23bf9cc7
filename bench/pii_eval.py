"""Per-category precision / recall / F1 of the gateway detector on the labelled set.

    .venv/bin/python bench/pii_eval.py [--errors]

A detected span counts as a true positive when it has the label's category and exactly the
label's offsets (strict). A detected span of the right category that overlaps a label without
matching it exactly counts once as a false positive and once as a false negative. Customer and
proprietary spans come from the shop dictionaries in tests/fixtures/pii/*.csv.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from egressguard.gateway.detect import (  # noqa: E402  (import after the sys.path entry)
    DictionarySpec,
    PiiCategory,
    build_detector,
)

FIXTURES = ROOT / "tests" / "fixtures" / "pii"
LABELS = FIXTURES / "labels.jsonl"

Spans = set[tuple[int, int, str]]


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    text: str
    spans: Spans


def load_cases(path: Path = LABELS) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        spans = {(s["start"], s["end"], s["category"]) for s in raw["spans"]}
        cases.append(Case(raw["id"], raw["lang"], raw["text"], spans))
    return cases


def dictionaries() -> list[DictionarySpec]:
    return [
        DictionarySpec(FIXTURES / "customers.csv", PiiCategory.CUSTOMER, ("name", "email")),
        DictionarySpec(
            FIXTURES / "proprietary.csv",
            PiiCategory.PROPRIETARY,
            ("sku", "supplier", "cost_price", "codename"),
        ),
    ]


@dataclass
class Tally:
    tp: Counter[str]
    fp: Counter[str]
    fn: Counter[str]


def score(
    cases: Iterable[Case], predict: Callable[[str], Spans], errors: list[str] | None = None
) -> Tally:
    tally = Tally(Counter(), Counter(), Counter())
    for case in cases:
        found = predict(case.text)
        for span in found & case.spans:
            tally.tp[span[2]] += 1
        for span in found - case.spans:
            tally.fp[span[2]] += 1
            if errors is not None:
                errors.append(f"FP {case.id} {span[2]} {case.text[span[0] : span[1]]!r}")
        for span in case.spans - found:
            tally.fn[span[2]] += 1
            if errors is not None:
                errors.append(f"FN {case.id} {span[2]} {case.text[span[0] : span[1]]!r}")
    return tally


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def table(tally: Tally, categories: Sequence[str]) -> list[str]:
    rows = [f"| {'category':<12} | {'labels':>6} | {'P':>5} | {'R':>5} | {'F1':>5} |"]
    rows.append("|" + "|".join(["-" * 14, "-" * 8, "-" * 7, "-" * 7, "-" * 7]) + "|")
    for cat in [*categories, "all"]:
        if cat == "all":
            tp, fp, fn = (sum(c.values()) for c in (tally.tp, tally.fp, tally.fn))
        else:
            tp, fp, fn = tally.tp[cat], tally.fp[cat], tally.fn[cat]
        p, r, f = prf(tp, fp, fn)
        name = f"**{cat}**" if cat == "all" else cat
        rows.append(f"| {name:<12} | {tp + fn:>6} | {p:>5.3f} | {r:>5.3f} | {f:>5.3f} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every FP and FN")
    args = parser.parse_args(argv)
    detector = build_detector(dictionaries())
    cases = load_cases()

    def predict(text: str) -> Spans:
        return {(s.start, s.end, s.category.value) for s in detector.scan(text)}

    errors: list[str] = []
    tally = score(cases, predict, errors)
    labels = sum(len(c.spans) for c in cases)
    out = [f"{len(cases)} texts, {labels} labelled spans (strict offsets)", ""]
    out += table(tally, [c.value for c in PiiCategory])
    if args.errors:
        out += ["", *errors]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
