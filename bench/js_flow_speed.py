"""Speed of the JavaScript data-flow finder in µs per byte, on big real files.

Runs `javascript.find_flows` on each file with one stand-in AI call site (so the analysis
really runs) and the size cap lifted, and prints per file and in total the time per byte
(CPU time, best of --runs: the machine is shared). Files default to every .js over 200 kB
under --corpus.

    .venv/bin/python bench/js_flow_speed.py --corpus /work/corpus --runs 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.dataflow import javascript
from egressguard.catalog import load_catalog
from egressguard.model import Exposure, IntegrationSite, Language, RunsIn

SITE = IntegrationSite("openai", "api.openai.com", 1, RunsIn.BROWSER)


def timed(path: Path, runs: int) -> float:
    data = path.read_bytes()
    best = float("inf")
    for _ in range(runs):
        f = SourceFile(str(path), data, Language.JAVASCRIPT, Exposure.BROWSER, frozenset())
        f.sites = (SITE,)
        start = time.process_time()
        javascript.find_flows(f, load_catalog())
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--min-kb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or sorted(
        p for p in args.corpus.rglob("*.js") if p.stat().st_size > args.min_kb * 1000
    )
    javascript.MAX_BYTES = 1 << 40  # measure the analysis itself, not the cap
    load_catalog()
    total_s = total_b = 0.0
    for path in files:
        seconds = timed(path, args.runs)
        size = path.stat().st_size
        total_s, total_b = total_s + seconds, total_b + size
        print(
            f"{seconds * 1e6 / size:7.2f} µs/byte  {size / 1000:8.0f} kB  {seconds:6.2f} s  {path}"
        )
    if total_b:
        print(f"{total_s * 1e6 / total_b:7.2f} µs/byte  total over {len(files)} files")


if __name__ == "__main__":
    main()
