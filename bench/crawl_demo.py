"""Wall time of `egressguard crawl` on the demo storefront (issue 5: under 30 s here).

Starts the tests' demo storefront and its loopback "internet" (tests/runtime/storefront/),
then runs the real command, `egressguard crawl URL --theme luma ...`, as a subprocess `--runs`
times (Chromium start-up included, as a user would see it) and prints each wall time, the
median, and the crawl's own per-step timing from its progress lines of the last run.

    .venv/bin/python bench/crawl_demo.py             # 3 runs
    .venv/bin/python bench/crawl_demo.py --runs 1
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.runtime.storefront.server import storefront  # noqa: E402  (needs ROOT on the path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--theme", default="luma", choices=["luma", "hyva", "dawn"])
    args = parser.parse_args()
    egressguard = Path(sys.executable).parent / "egressguard"
    times: list[float] = []
    last_stderr = ""
    shop_theme = "dawn" if args.theme == "dawn" else "luma"  # the demo has Luma and Dawn markup
    with tempfile.TemporaryDirectory() as tmp, storefront(Path(tmp), shop_theme) as store:
        for run in range(args.runs):
            command = [
                str(egressguard), "crawl", store.shop_url + "/", "--theme", args.theme,
                "--evidence-dir", str(Path(tmp) / f"evidence-{run}"),
                "--host-resolver-rules", store.resolver_rules, "--ignore-certificate-errors",
                "--format", "json", "--output", str(Path(tmp) / f"report-{run}.json"),
            ]  # fmt: skip
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - started)
            last_stderr = done.stderr
            print(f"run {run + 1}: {times[-1]:.1f} s (exit {done.returncode})")
    print(f"median of {len(times)}: {statistics.median(times):.1f} s")
    print("last run's progress:")
    print(last_stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
