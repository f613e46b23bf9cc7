"""Side-by-side benchmark: `egressguard audit` vs ripgrep (`rg -j1`, the floor) vs Semgrep.

All three tools get exactly the same pattern set: the audit prefilter exported by
`egressguard.audit.prefilter.bench_patterns(load_catalog())`. ripgrep answers "which files
contain any pattern" (the cheapest possible version of the prefilter's question, single
thread), Semgrep runs the same regexes as `generic` rules, and egressguard runs the whole
audit (walk, prefilter, analysers, report).

Method: the corpus is read once to warm the page cache, then every tool runs `--runs` times,
interleaved (rg, egressguard, semgrep, semgrep -j1, rg, …), so machine noise hits all tools
alike. Wall time is measured here around each run; peak RSS is GNU time's %M, the child's
`ru_maxrss` (for a process tree such as Semgrep's: the largest single process).

Markdown goes to stdout, the full record (every sample, versions, machine) to
bench/results/audit-bench-<UTC time>.json.

    .venv/bin/python bench/audit_bench.py --corpus /work/corpus --runs 5 \
        --scaled-tree /work/corpus4x

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAX_TARGET_BYTES = 5 * 1024 * 1024  # egressguard's default --max-file-size
SEMGREP_ENV = dict(os.environ, SEMGREP_SEND_METRICS="off", SEMGREP_ENABLE_VERSION_CHECK="0")
GNU_TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
STUB_PATTERNS: list[tuple[str, bool]] = [
    ("openai", True),
    (r"api\.anthropic\.com", False),
    (r"generativelanguage\.googleapis\.com", False),
    ("sk-", False),
    ("chatgpt", True),
]


@dataclass
class Tool:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    samples: list[tuple[float, int]] = field(default_factory=list)  # (wall s, peak RSS KiB)
    exit_codes: list[int] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [w for w, _ in self.samples]

    @property
    def rss_mb(self) -> list[float]:
        return [kib / 1024 for _, kib in self.samples]


@dataclass(frozen=True)
class Sample:
    wall: float
    max_rss_kib: int
    exit_code: int


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Sample:
    """Run `argv` once, stdout/stderr discarded; wall time and peak RSS of the child.

    Peak RSS comes from GNU time's %M, not from our own wait4(): a child forked from this
    Python process starts with Python's RSS as its high-water mark (exec keeps the larger
    of the old and new image's peak), which would put a ~17 MB floor under ripgrep.
    """
    with tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt") as tf:
        cmd = [GNU_TIME, "-f", "%e %M", "-o", tf.name, *argv]
        started = time.perf_counter()
        done = subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
        )
        wall = time.perf_counter() - started
        last = Path(tf.name).read_text(encoding="utf-8").strip().splitlines()[-1]
    max_rss_kib = int(last.split()[1])
    return Sample(wall, max_rss_kib, done.returncode)


def warm_page_cache(root: Path) -> tuple[int, int]:
    """Read every regular file under `root` once (symlinks not followed); (files, bytes)."""
    files = total = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    total += len(chunk)
            files += 1
    return files, total


def load_patterns(stub: bool) -> list[tuple[str, bool]]:
    if stub:
        return list(STUB_PATTERNS)
    from egressguard.audit.prefilter import bench_patterns
    from egressguard.catalog import load_catalog

    return bench_patterns(load_catalog())


# Characters Rust's regex (ripgrep 13) lets you escape; it rejects any other escaped
# punctuation, such as the `\ ` that Python's re.escape() puts before a space.
_RUST_ESCAPABLE = frozenset("\\.+*?()|[]{}^$#&-~")


def portable(regex: str) -> str:
    """`regex` (re.escape()d literals) with escapes that ripgrep and PCRE both accept."""
    out: list[str] = []
    i = 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            out.append(nxt if not nxt.isalnum() and nxt not in _RUST_ESCAPABLE else ch + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def rg_pattern(regex: str, caseless: bool) -> str:
    """ripgrep has no per-pattern -i: caseless patterns carry an inline (?i)."""
    regex = portable(regex)
    return f"(?i){regex}" if caseless else regex


def write_rg_patterns(patterns: Sequence[tuple[str, bool]], path: Path) -> None:
    path.write_text("".join(rg_pattern(r, c) + "\n" for r, c in patterns), encoding="utf-8")


def write_semgrep_rules(patterns: Sequence[tuple[str, bool]], path: Path) -> None:
    """One `generic` rule whose `pattern-either` holds one `pattern-regex` per pattern.

    One rule rather than one rule per pattern: Semgrep then parses each target once per rule
    and reports one match set per file, which is the faster form for Semgrep (measured: see
    docs/benchmarks.md) and the same question the prefilter asks. JSON is valid YAML, so the
    regexes need no YAML quoting.
    """
    either = [{"pattern-regex": rg_pattern(r, c)} for r, c in patterns]
    rule = {
        "id": "egressguard-prefilter",
        "languages": ["generic"],
        "severity": "INFO",
        "message": "prefilter pattern",
        "pattern-either": either,
    }
    path.write_text(json.dumps({"rules": [rule]}, indent=1) + "\n", encoding="utf-8")


def default_egressguard() -> str:
    beside = Path(sys.executable).parent / "egressguard"
    if beside.exists():
        return str(beside)
    return shutil.which("egressguard") or "egressguard"


def default_semgrep() -> str:
    found = shutil.which("semgrep")
    if found:
        return found
    return "/work/bench-venv/bin/semgrep"


def version_of(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=60, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else f"unknown (exit {out.returncode})"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def engine_state() -> dict[str, str]:
    """Which egressguard code ran: git HEAD, and a digest of the package's files.

    The engine is developed in the same working tree; a digest that differs before and after
    the runs means the code changed under the benchmark (the script then warns).
    """
    import hashlib

    try:
        import egressguard
    except ImportError:
        return {}
    pkg = Path(egressguard.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(pkg.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".toml", ".j2", ".css", ".js"}:
            digest.update(str(path.relative_to(pkg)).encode())
            digest.update(path.read_bytes())
    head = subprocess.run(
        ["git", "-C", str(pkg), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"git": head, "package_sha256": digest.hexdigest()[:16]}


def compile_bytecode() -> None:
    """Write the package's bytecode before timing, as `pip install` does for a user.

    An editable install run with PYTHONDONTWRITEBYTECODE=1 (set on this machine) would
    otherwise compile ~100 modules from source on every run: ~0.1 s a real install never pays.
    """
    import compileall

    import egressguard

    compileall.compile_dir(Path(egressguard.__file__).resolve().parent, quiet=1)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def build_tools(
    args: argparse.Namespace, corpus: Path, work: Path, patterns: Sequence[tuple[str, bool]]
) -> tuple[list[Tool], dict[str, Path]]:
    rg_file = work / "patterns.rg.txt"
    rules = work / "patterns.semgrep.yml"
    write_rg_patterns(patterns, rg_file)
    write_semgrep_rules(patterns, rules)
    outs = {
        "rg": work / "rg-files.txt",
        "egressguard": work / "eg.json",
        "semgrep": work / "semgrep.json",
        "semgrep -j1": work / "semgrep-j1.json",
    }
    # rg prints the matching file names; measure() discards them (as it discards every
    # tool's stdout), and rg_candidates() counts them in one extra, untimed run.
    rg = [
        args.rg,
        "-j1",
        "-uu",  # hidden and .gitignored files too: egressguard reads them
        "--files-with-matches",
        "--no-messages",
        f"--max-filesize={MAX_TARGET_BYTES}",
        "-f",
        str(rg_file),
        str(corpus),
    ]
    eg = [
        args.egressguard,
        "audit",
        str(corpus),
        "--format",
        "json",
        "--output",
        str(outs["egressguard"]),
        "--fail-on",
        "none",
        "--no-progress",
    ]
    sg_env = SEMGREP_ENV
    sg_common = [
        args.semgrep,
        "scan",
        "--config",
        str(rules),
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        "--json",
        f"--max-target-bytes={MAX_TARGET_BYTES}",
        "--no-git-ignore",
        "--x-ignore-semgrepignore-files",  # else Semgrep's default ignores drop tests/ etc.
        "--scan-unknown-extensions",
        "--timeout=0",  # no per-file rule timeout: every file is fully searched
    ]
    tools = [Tool("rg -j1", rg), Tool("egressguard", eg)]
    if not args.no_semgrep:
        tools.append(
            Tool("semgrep", [*sg_common, "--output", str(outs["semgrep"]), str(corpus)], sg_env)
        )
        tools.append(
            Tool(
                "semgrep -j1",
                [*sg_common, "-j1", "--output", str(outs["semgrep -j1"]), str(corpus)],
                sg_env,
            )
        )
    return tools, outs


def rg_candidates(rg: Tool) -> int:
    out = subprocess.run(rg.argv, capture_output=True, check=False)
    return len(out.stdout.splitlines())


def eg_stats(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
    stats: dict[str, Any] = dict(report.get("stats", {}))
    stats["findings"] = len(report.get("findings", []))
    stats["skipped"] = len(report.get("skipped", []))
    return stats


def semgrep_stats(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
    scanned = report.get("paths", {}).get("scanned", [])
    matched = {r.get("path") for r in report.get("results", [])}
    return {
        "files_scanned": len(scanned),
        "candidate_files": len(matched),
        "matches": len(report.get("results", [])),
        "errors": len(report.get("errors", [])),
    }


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def shell_join(argv: Sequence[str]) -> str:
    import shlex

    return shlex.join(argv)


def markdown(tools: Sequence[Tool], record: dict[str, Any], scale: dict[str, Any] | None) -> str:
    by = {t.name: t for t in tools}
    floor = median(by["rg -j1"].walls)
    lines = [
        f"Runs per tool: {record['runs']} (interleaved), corpus `{record['corpus']}`, "
        f"{len(record['patterns'])} patterns, egressguard "
        f"`{record['egressguard_code']['before'].get('git', '?')}`, load average before/after "
        f"{record['loadavg_before']} / {record['loadavg_after']}.",
        "",
        "| tool | median wall (s) | min (s) | max (s) | median peak RSS (MB) | × rg -j1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in tools:
        m = median(t.walls)
        lines.append(
            f"| {t.name} | {m:.2f} | {min(t.walls):.2f} | {max(t.walls):.2f} "
            f"| {median(t.rss_mb):.0f} | {m / floor:.1f}× |"
        )
    eg = median(by["egressguard"].walls)
    lines.append("")
    for name in ("semgrep", "semgrep -j1"):
        if name in by:
            sg = median(by[name].walls)
            lines.append(f"- {name} / egressguard (median wall): **{sg / eg:.1f}×**")
    lines.append(f"- egressguard / rg -j1 (median wall): **{eg / floor:.1f}×**")
    lines += ["", "Work done (last run of each tool):", ""]
    lines.append("| tool | files scanned | bytes scanned | candidate files | notes |")
    lines.append("|---|---:|---:|---:|---|")
    st = record["work"]
    eg_st = st.get("egressguard", {})
    lines.append(
        f"| rg -j1 | (all non-binary) | | {st.get('rg -j1', {}).get('candidate_files')} "
        "| files with ≥1 match |"
    )
    lines.append(
        f"| egressguard | {eg_st.get('files_scanned')} | {eg_st.get('bytes_scanned')} "
        f"| {eg_st.get('candidate_files')} | {eg_st.get('findings')} findings, "
        f"{eg_st.get('skipped')} skipped entries |"
    )
    for name in ("semgrep", "semgrep -j1"):
        if name in st:
            s = st[name]
            lines.append(
                f"| {name} | {s.get('files_scanned')} | | {s.get('candidate_files')} "
                f"| {s.get('matches')} matches, {s.get('errors')} errors |"
            )
    if scale is not None:
        lines += [
            "",
            f"Memory vs tree size (egressguard, {scale['runs']} runs on each):",
            "",
            "| tree | files scanned | bytes scanned | median wall (s) | median peak RSS (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in scale["rows"]:
            lines.append(
                f"| `{row['tree']}` | {row['files_scanned']} | {row['bytes_scanned']} "
                f"| {row['median_wall_s']:.2f} | {row['median_rss_mb']:.0f} |"
            )
    lines += ["", "Commands:", ""]
    for t in tools:
        lines.append(f"- {t.name}: `{shell_join(t.argv)}`")
    return "\n".join(lines) + "\n"


def scaled_runs(args: argparse.Namespace, eg: Tool, corpus: Path, work: Path) -> dict[str, Any]:
    tree = Path(args.scaled_tree)
    out = work / "eg-scaled.json"
    argv = list(eg.argv)
    argv[argv.index(str(corpus))] = str(tree)
    argv[argv.index(str(work / "eg.json"))] = str(out)
    warm_page_cache(tree)
    small = Tool("corpus", list(eg.argv))
    big = Tool("scaled", argv)
    for _ in range(args.scale_runs):
        for t in (small, big):
            s = measure(t.argv)
            t.samples.append((s.wall, s.max_rss_kib))
            t.exit_codes.append(s.exit_code)
    rows = []
    for t, path, root in ((small, work / "eg.json", corpus), (big, out, tree)):
        st = eg_stats(path)
        rows.append(
            {
                "tree": str(root),
                "files_scanned": st.get("files_scanned"),
                "bytes_scanned": st.get("bytes_scanned"),
                "median_wall_s": median(t.walls),
                "median_rss_mb": median(t.rss_mb),
                "samples": t.samples,
                "exit_codes": t.exit_codes,
            }
        )
    return {"runs": args.scale_runs, "command": shell_join(argv), "rows": rows}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--corpus", required=True, type=Path, help="tree to scan (outside the repo)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per tool (default 5)")
    p.add_argument("--semgrep", default=default_semgrep(), help="semgrep executable")
    p.add_argument("--rg", default=shutil.which("rg") or "rg", help="ripgrep executable")
    p.add_argument("--egressguard", default=default_egressguard(), help="egressguard executable")
    p.add_argument("--no-semgrep", action="store_true", help="skip Semgrep")
    p.add_argument(
        "--scaled-tree",
        help="a larger tree (e.g. the corpus hard-copied 4×) for the memory-vs-size check",
    )
    p.add_argument("--scale-runs", type=int, default=3, help="runs on each tree (default 3)")
    p.add_argument(
        "--stub-patterns", action="store_true", help="tiny fixed pattern set (harness testing)"
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "egressguard-bench",
        help="pattern files and tool outputs (default: /tmp/egressguard-bench)",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")
    args = p.parse_args(argv)
    if args.runs < 1 or args.scale_runs < 1:
        p.error("--runs and --scale-runs must be at least 1")
    if not args.corpus.is_dir():
        p.error(f"--corpus {args.corpus}: not a directory")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = args.corpus.resolve()
    code_before = engine_state()
    patterns = load_patterns(args.stub_patterns)
    versions = {
        "rg": version_of([args.rg, "--version"]),
        "egressguard": version_of([args.egressguard, "--version"]),
    }
    if not args.no_semgrep:
        # Without these Semgrep's --version asks semgrep.dev for the latest release (and
        # hangs offline): nothing in this benchmark may touch the network.
        versions["semgrep"] = version_of(
            [args.semgrep, "--version", "--disable-version-check"], SEMGREP_ENV
        )
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    tools, outs = build_tools(args, corpus, work, patterns)
    files, nbytes = warm_page_cache(corpus)
    print(f"page cache warmed: {files} files, {nbytes} bytes", file=sys.stderr)
    before = loadavg()
    for i in range(args.runs):
        for t in tools:
            s = measure(t.argv, t.env)
            t.samples.append((s.wall, s.max_rss_kib))
            t.exit_codes.append(s.exit_code)
            print(
                f"run {i + 1}/{args.runs} {t.name}: {s.wall:.2f} s, "
                f"{s.max_rss_kib / 1024:.0f} MB, exit {s.exit_code}",
                file=sys.stderr,
            )
    after = loadavg()
    work_done: dict[str, dict[str, Any]] = {
        "rg -j1": {"candidate_files": rg_candidates(tools[0])},
        "egressguard": eg_stats(outs["egressguard"]),
    }
    for name in ("semgrep", "semgrep -j1"):
        if any(t.name == name for t in tools):
            work_done[name] = semgrep_stats(outs[name])
    scale = None
    if args.scaled_tree:
        scale = scaled_runs(args, tools[1], corpus, work)
    record: dict[str, Any] = {
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "versions": versions,
        "egressguard_code": {"before": code_before, "after": engine_state()},
        "corpus": str(corpus),
        "page_cache_warm": {"files": files, "bytes": nbytes},
        "runs": args.runs,
        "patterns": [list(p) for p in patterns],
        "loadavg_before": before,
        "loadavg_after": after,
        "tools": [{**asdict(t), "command": shell_join(t.argv), "env": None} for t in tools],
        "medians": {t.name: {"wall_s": median(t.walls), "rss_mb": median(t.rss_mb)} for t in tools},
        "work": work_done,
        "scale": scale,
    }
    text = markdown(tools, record, scale)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = args.results_dir / f"audit-bench-{stamp}.json"
    dest.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(text)
    print(f"\nFull record: {dest}", file=sys.stderr)
    if record["egressguard_code"]["before"] != record["egressguard_code"]["after"]:
        print("warning: egressguard's code changed during the benchmark", file=sys.stderr)
    bad = {t.name: t.exit_codes for t in tools if any(c not in (0, 1) for c in t.exit_codes)}
    if bad:
        print(f"warning: unexpected exit codes: {bad}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
