"""Throughput and p99 of 1, 2 and 4 `egressguard gateway` instances sharing one PostgreSQL.

One run starts, on loopback only:

- a PostgreSQL server of its own (initdb in a temporary directory, Debian's binaries) with
  durable settings (fsync on, synchronous_commit on: the gateway's durable audit waits for each
  commit's WAL flush, as in production);
- the small OpenAI-compatible upstream of bench/gateway_latency.py (its own process: it answers
  with the first 512 characters of the prompt, so answers carry tokens to restore);
- four real gateways (`egressguard gateway --config …`, one process each) with
  `database = "postgresql://…"`, one set of keys, detection and tokenisation on;
- a fifth gateway on its own SQLite state directory (no `database`): the single-instance
  default, measured alongside as the baseline;

then, `--runs` times, measures each configuration (1 SQLite, 1, 2 and 4 PostgreSQL instances,
the order rotating every run) for `--seconds`: `--concurrency` clients on keep-alive
connections, client i sending to instance i mod N, each request a 2 KB shop prompt with
personal data and a fresh e-mail address (so every request mints at least one new token and
refreshes the others). Instances not in a configuration are idle. Reported: requests/s and
p50/p99 latency, medians over runs.

At the end both audit chains are verified and their record counts compared with the number
of answers the clients received (they must be equal: no record lost, no fork).

The machine is shared and noisy: the load average before and after is printed.

    .venv/bin/python bench/gateway_multi_instance.py               # the published numbers
    .venv/bin/python bench/gateway_multi_instance.py --quick       # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_latency import (  # bench/ is not a package: its directory is on sys.path
    AUTH,
    CLIENT_KEY,
    body,
    free_port,
    gateway_config,
    load_average,
    pct,
    prompt,
    session,
    upstream_app,
    wait_up,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.pg_server import postgres_server  # noqa: E402  (needs ROOT on the path)

INSTANCES = (1, 2, 4)


# --- PostgreSQL: the tests' throwaway server (tests/pg_server.py), with fsync on ---------------


def postgres(base: Path) -> AbstractContextManager[str]:
    """A throwaway server with durable settings; yields its URL."""
    return postgres_server(base, durable=True)


def serve_upstream(port: int) -> None:
    """bench/gateway_latency.py's upstream, keeping idle connections for 10 minutes: instances
    left idle by a configuration must not find their pooled upstream connections closed (the
    gateway answers a request sent on a connection the upstream closed meanwhile with 502)."""
    import uvicorn

    uvicorn.run(
        upstream_app(),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=600,
    )


# --- gateways -----------------------------------------------------------------------------------


def write_keys(state: Path) -> None:
    from egressguard.gateway.vault_keys import new_key, write_key_file

    state.mkdir(mode=0o700)
    for name in ("token.key", "audit.key", "vault.key"):  # shared by every instance
        write_key_file(state / name, [new_key()], replace=False)


# --- load ---------------------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.acknowledged = 0
        self.sequence = 0


async def load_run(
    urls: list[str], text: str, concurrency: int, seconds: float, tally: Tally
) -> tuple[float, list[float]]:
    """Requests/s and the latencies of `concurrency` clients spread over `urls`."""
    latencies: list[float] = []
    clients = [session(concurrency) for _ in urls]
    try:
        stop = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            client, url = clients[i % len(urls)], urls[i % len(urls)]
            while time.perf_counter() < stop:
                tally.sequence += 1
                data = body(f"Ticket {tally.sequence}: kunde{tally.sequence}@example.de\n{text}")
                t = time.perf_counter()
                async with client.post(url, data=data, headers=AUTH) as r:
                    answer = await r.read()
                    if r.status != 200:
                        raise SystemExit(f"{url}: HTTP {r.status}: {answer[:200]!r}")
                latencies.append(time.perf_counter() - t)
                tally.acknowledged += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - t
    finally:
        for client in clients:
            await client.close()
    return len(latencies) / elapsed, latencies


def measure(args: argparse.Namespace, tmp: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_BENCH_KEY"] = CLIENT_KEY
    with postgres(tmp / "pg") as database:
        write_keys(tmp / "state")
        (tmp / "sqlite").mkdir()
        up_port = free_port()
        procs = [subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(up_port)])]
        ports = [free_port() for _ in range(max(INSTANCES) + 1)]  # the last: SQLite baseline
        try:
            wait_up(f"http://127.0.0.1:{up_port}/", procs[0], "upstream")
            for i, port in enumerate(ports):
                sqlite = i == max(INSTANCES)
                where = tmp / "sqlite" if sqlite else tmp
                config = gateway_config(
                    where, port, up_port, name=f"gw{i}", database=None if sqlite else database
                )
                cmd = [sys.executable, "-m", "egressguard", "gateway", "--config", str(config)]
                procs.append(subprocess.Popen(cmd, env=env, cwd=where, stderr=subprocess.DEVNULL))
            for i, port in enumerate(ports):
                wait_up(f"http://127.0.0.1:{port}/healthz", procs[i + 1], f"gateway {i}")
            urls = [f"http://127.0.0.1:{p}/v1/chat/completions" for p in ports]
            targets = {f"{n}": urls[:n] for n in INSTANCES}
            targets = {"1 SQLite": urls[-1:], **targets}
            tallies = report(args, targets)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        sqlite_chain = tmp / "sqlite" / "state" / "audit.sqlite3"
        return check_chains(database, sqlite_chain, tallies)


def report(args: argparse.Namespace, targets: dict[str, list[str]]) -> dict[str, Tally]:
    """Measure every target (label -> instance URLs) `args.runs` times, the order rotating;
    print the table; the answers received, per backend."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"# gateway, several instances on one PostgreSQL, {stamp}: Python "
        f"{platform.python_version()} {platform.machine()}, {os.cpu_count()} cores, "
        f"runs={args.runs}, {args.seconds:g} s each, concurrency={args.concurrency}"
    )
    print(f"load average before: {load_average()}")
    text = prompt(2)
    tallies = {"postgresql": Tally(), "sqlite": Tally()}

    def tally(label: str) -> Tally:
        return tallies["sqlite" if "SQLite" in label else "postgresql"]

    for label, urls in targets.items():  # warm every instance
        asyncio.run(load_run(urls, text, args.concurrency, 1.0, tally(label)))
    labels = list(targets)
    rates: dict[str, list[float]] = {k: [] for k in labels}
    p50s: dict[str, list[float]] = {k: [] for k in labels}
    p99s: dict[str, list[float]] = {k: [] for k in labels}
    for run in range(args.runs):
        order = labels[run % len(labels) :] + labels[: run % len(labels)]
        for label in order:
            rate, lat = asyncio.run(
                load_run(targets[label], text, args.concurrency, args.seconds, tally(label))
            )
            rates[label].append(rate)
            p50s[label].append(pct(lat, 0.50) * 1000)
            p99s[label].append(pct(lat, 0.99) * 1000)
        each = ", ".join(f"{k}: {rates[k][-1]:.0f} req/s p99 {p99s[k][-1]:.0f} ms" for k in labels)
        print(f"run {run + 1}: {each}", flush=True)
    print(f"load average after: {load_average()}")
    print()
    print("| instances | requests/s (median) | p50 ms | p99 ms | req/s per run |")
    print("|---|---|---|---|---|")
    for label in labels:
        each = " / ".join(f"{r:.0f}" for r in rates[label])
        print(
            f"| {label} | {statistics.median(rates[label]):.0f} | "
            f"{statistics.median(p50s[label]):.1f} | {statistics.median(p99s[label]):.1f} | "
            f"{each} |"
        )
    return tallies


def check_chains(database: str, sqlite_chain: Path, tallies: dict[str, Tally]) -> int:
    """Both audit chains verify, and each holds exactly one record per answer received."""
    from egressguard.store.postgres import PostgresChain
    from egressguard.store.sqlite import SqliteChain

    failed = 0
    for name, chain in (
        ("postgresql", PostgresChain(database, migrate=False)),
        ("sqlite", SqliteChain(sqlite_chain, readonly=True)),
    ):
        with chain:
            verdict = chain.verify()
        received = tallies[name].acknowledged
        same = "=" if verdict.count == received else "!="
        state = "ok" if verdict.ok else f"BROKEN: {verdict.reason}"
        print(f"audit chain ({name}): {state}, {verdict.count} records {same} {received} answers")
        failed += not verdict.ok or verdict.count != received
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5.0, help="per configuration and run")
    p.add_argument("--quick", action="store_true", help="2 runs of 2 s")
    p.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_upstream is not None:
        serve_upstream(args.serve_upstream)
        return 0
    if args.quick:
        args.runs, args.seconds = 2, 2.0
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)  # the server runs as `postgres` when this runs as root
        return measure(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
