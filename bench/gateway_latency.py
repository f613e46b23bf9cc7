"""Added latency and throughput of `egressguard gateway`, side by side with the upstream alone.

One run starts, on loopback only:

- a small OpenAI-compatible upstream (uvicorn + httptools + uvloop, its own process) that
  answers a chat completion with the first 512 characters of the prompt (so the answer carries
  tokens the gateway must restore), streamed as 8-character deltas when asked;
- the real gateway (`egressguard gateway --config ...`, its own process) in front of it, with
  detection and tokenisation on (default_action = "tokenize");
- the same gateway app with a pass-through protector (no detection, tokens, vault or audit;
  its own process): the floor any proxy built on this server and client adds on this machine;
- with `--queued-audit`, a fourth process: the real gateway with the audit sink in queued
  (non-durable) mode, to show what the durable per-exchange commit costs;

then measures, with an aiohttp client on keep-alive connections (one per target):

1. latency per prompt size (1, 2, 8, 64 KB of shop text with e-mails, phones, IBANs, names,
   street addresses, and 2 KB without personal data): requests go to each target in turn, one
   at a time, the order rotating every round; p50/p95/p99 of each and the added latency (target
   minus direct, per percentile, per run), plus the gateway's own `x-egressguard-overhead-ms`;
2. streaming time to first byte (2 KB prompt, `stream: true`), direct vs gateway, interleaved;
3. throughput (requests/s) with a bounded number of concurrent clients (2 KB prompt), direct
   and gateway runs alternating, all processes sharing the machine's cores.

Each measurement is repeated `--runs` times; the tables show the median over runs. The load
average before and after is printed: on a shared machine, compare runs by the added latency
and the ratios, which are measured side by side, rather than by absolute times.

    .venv/bin/python bench/gateway_latency.py                 # the published numbers
    .venv/bin/python bench/gateway_latency.py --quick         # a smoke run
    .venv/bin/python bench/gateway_latency.py --queued-audit  # + gateway, audit not durable
    .venv/bin/python bench/gateway_latency.py --fresh         # a new prompt every round

Without `--fresh` every request of a size repeats one prompt (a chat turn whose text the
gateway has seen: its spans are cached, its tokens already stored); with it, each round's
prompt opens with a new line (a new conversation: every value is detected, every token minted
and written to the vault), the case that decides the latency target.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CLIENT_KEY = "bench-client-key-0123456789abcdef"
SIZES_KB = (1, 2, 8, 64)
REPLY_CHARS = 512

SHOP_LINES = (
    "Customer Anna Schmidt (anna.schmidt@example.de, +49 30 1234567) ordered SKU MB-2049 twice.",
    "Ship to Hauptstraße 12, 10115 Berlin; invoice IBAN DE89370400440532013000, VAT DE136695976.",
    "Mme Claire Dubois, 14 rue de la Paix, 75002 Paris, claire.dubois@example.fr, 06 12 34 56 78.",
    "The customer asks whether the jacket in size M is back in stock and when it can be delivered.",
    "Order #100023 was paid by bank transfer; the parcel left the warehouse on Monday morning.",
    "Please write a friendly reply that apologises for the delay and offers free shipping.",
    "Jan de Vries (jan.devries@example.nl) returned two items; refund to NL91ABNA0417164300.",
    "Summarise the conversation for the support ticket and suggest a follow-up within 3 days.",
)


CLEAN_LINES = tuple(line for line in SHOP_LINES if "@" not in line and "IBAN" not in line)[:3]


def prompt(size_kb: int, *, clean: bool = False) -> str:
    """Shop text of exactly `size_kb` KiB (UTF-8 bytes may be a little more); `clean`: without
    personal data (only the lines that hold none)."""
    lines = CLEAN_LINES if clean else SHOP_LINES
    target = size_kb * 1024
    parts: list[str] = []
    n = 0
    i = 0
    while n < target:
        line = lines[i % len(lines)]
        parts.append(line)
        n += len(line) + 1
        i += 1
    return "\n".join(parts)[:target]


# --- the upstream (runs in its own process) -----------------------------------------------------


def upstream_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def chat(request: Request) -> Response:
        body = json.loads(await request.body())
        text = body["messages"][-1]["content"][:REPLY_CHARS]
        if body.get("stream"):
            return StreamingResponse(_events(text), media_type="text/event-stream")
        doc = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
        return Response(json.dumps(doc), media_type="application/json")

    async def _events(text: str) -> AsyncIterator[bytes]:
        for i in range(0, len(text), 8):
            delta = {"choices": [{"index": 0, "delta": {"content": text[i : i + 8]}}]}
            yield f"data: {json.dumps(delta)}\n\n".encode()
        yield b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        yield b"data: [DONE]\n\n"

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def serve_upstream(port: int) -> None:
    import uvicorn

    uvicorn.run(
        upstream_app(),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
    )


def serve_queued_audit(config: str) -> None:
    """The real gateway, its audit sink in queued (non-durable) mode: the cost of durability."""
    import functools

    import egressguard.store.sink as sink_module
    from egressguard.cli.main import run

    sink_module.ChainSink = functools.partial(sink_module.ChainSink, durable=False)  # type: ignore[misc]
    sys.argv = ["egressguard", "gateway", "--config", config]
    run()


def serve_floor(config: str, port: int) -> None:
    """The gateway's HTTP path (auth, routing, upstream call, metrics) without detection,
    tokenisation, vault or audit: the floor of what any proxy in this stack adds."""
    import uvicorn

    from egressguard.gateway.app import build_app_with
    from egressguard.gateway.exchange import ExchangeRecord, Redaction
    from egressguard.gateway.server import uvicorn_config
    from egressguard.gateway.settings import load_gateway_settings

    class PassThrough:
        def redact(self, route: str, body: dict[str, Any], **_: Any) -> Redaction:
            return Redaction(body, {}, {}, (), lambda token: None)

        def restore_json(self, route: str, body: Any, redaction: Redaction) -> Any:
            return body

        def restore_text(self, text: str, redaction: Redaction) -> str:
            return text

        def stream_rewriter(self, route: str, redaction: Redaction) -> Any:
            raise NotImplementedError  # the floor is measured without streaming

        def record(self, record: ExchangeRecord) -> None:
            pass

        def health(self) -> dict[str, str]:
            return {}

        def caches(self) -> dict[str, tuple[int, int, int, int]]:
            return {}

    settings = load_gateway_settings(Path(config), os.environ)
    app = build_app_with(settings, PassThrough())
    uvicorn.Server(uvicorn_config(settings, app, port=port)).run()


# --- orchestration ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def wait_up(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            opener.open(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def gateway_config(
    directory: Path,
    gw_port: int,
    up_port: int,
    *,
    name: str = "gateway",
    database: str | None = None,
    timeout_s: float | None = None,
) -> Path:
    """`directory/NAME.toml`: the bench client (EG_BENCH_KEY), the upstream on `up_port` as
    `region = "local"`, tokenize everything; `database` shares PostgreSQL between instances."""
    path = directory / f"{name}.toml"
    first = f'database = "{database}"\n' if database else ""
    timeout = f"timeout_s = {timeout_s}\n" if timeout_s is not None else ""
    path.write_text(
        f"""{first}listen = "127.0.0.1:{gw_port}"
state_dir = "./state"

[[clients]]
id = "bench"
tenant = "shop1"
key_env = "EG_BENCH_KEY"
rate_per_minute = 100000000

[[upstreams]]
id = "local-llm"
base_url = "http://127.0.0.1:{up_port}/v1"
region = "local"
{timeout}
[policy]
default_upstream = "local-llm"
allowed_regions = ["local", "eu"]
default_action = "tokenize"

[limits]
max_body_bytes = 1048576
""",
        encoding="utf-8",
    )
    return path


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def body(text: str, stream: bool = False) -> bytes:
    doc = {"model": "bench", "stream": stream, "messages": [{"role": "user", "content": text}]}
    return json.dumps(doc).encode()


AUTH = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
PLAIN = {"content-type": "application/json"}


def session(concurrency: int = 1) -> aiohttp.ClientSession:
    """Keep-alive connections to one target; no proxy from the environment."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=60),
        trust_env=False,
    )


async def timed(
    client: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str]
) -> tuple[float, float]:
    """(seconds, gateway overhead ms or nan) of one request, the whole answer read."""
    t = time.perf_counter()
    async with client.post(url, data=data, headers=headers) as r:
        text = await r.read()
        elapsed = time.perf_counter() - t
        if r.status != 200:
            raise SystemExit(f"{url}: HTTP {r.status}: {text[:200]!r}")
        return elapsed, float(r.headers.get("x-egressguard-overhead-ms", "nan"))


async def ttfb(
    client: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str]
) -> float:
    t = time.perf_counter()
    first: float | None = None
    async with client.post(url, data=data, headers=headers) as r:
        async for _ in r.content.iter_any():
            if first is None:
                first = time.perf_counter() - t
    if first is None:
        raise SystemExit("empty stream")
    return first


Targets = dict[str, tuple[str, dict[str, str]]]  # name -> (url, headers)


_FRESH = itertools.count()


def fresh_text(text: str) -> str:
    """`text` (same length) opening with a line no earlier request had: a new conversation, new
    tokens to mint and store, nothing a cache has seen."""
    n = next(_FRESH)
    line = f"Ticket {os.getpid()}-{n}: reply to case{n}.{os.getpid()}@example.org today.\n"
    return (line + text)[: len(text)]


async def latency_run(
    targets: Targets, text: str, n: int, warmup: int, *, fresh: bool = False
) -> dict[str, list[float]]:
    """`n` rounds; each round sends one request to every target, the order rotating. `fresh`:
    every round a new prompt (`fresh_text`), the same for every target."""
    names = list(targets)
    out: dict[str, list[float]] = {name: [] for name in names}
    out["overhead"] = []
    data = body(text)
    sessions = {name: session() for name in names}
    try:
        for i in range(warmup + n):
            if fresh:
                data = body(fresh_text(text))
            k = i % len(names)
            for name in names[k:] + names[:k]:
                url, headers = targets[name]
                elapsed, overhead = await timed(sessions[name], url, data, headers)
                if i >= warmup:
                    out[name].append(elapsed * 1000)
                    if name == "gateway":
                        out["overhead"].append(overhead)
    finally:
        for s in sessions.values():
            await s.close()
    return out


async def ttfb_run(targets: Targets, text: str, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in targets}
    data = body(text, stream=True)
    sessions = {name: session() for name in targets}
    try:
        for i in range(5 + n):
            for name, (url, headers) in targets.items():
                first = await ttfb(sessions[name], url, data, headers)
                if i >= 5:
                    out[name].append(first * 1000)
    finally:
        for s in sessions.values():
            await s.close()
    return out


async def throughput_run(
    url: str, headers: dict[str, str], text: str, concurrency: int, seconds: float
) -> float:
    data = body(text)
    done = 0
    async with session(concurrency) as client:
        await asyncio.gather(*(timed(client, url, data, headers) for _ in range(concurrency)))
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await timed(client, url, data, headers)
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t
    return done / elapsed


def med(runs: list[float]) -> float:
    return statistics.median(runs)


def summarise(runs: list[dict[str, list[float]]], key: str, q: float) -> float:
    return med([pct(run[key], q) for run in runs])


def added(runs: list[dict[str, list[float]]], key: str, q: float) -> float:
    """Median over runs of (target - direct) at percentile q, each run measured side by side."""
    return med([pct(r[key], q) - pct(r["direct"], q) for r in runs])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--requests", type=int, default=300, help="per size, target and run")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    p.add_argument("--quick", action="store_true", help="2 runs, 60 requests, 2 s")
    p.add_argument(
        "--queued-audit", action="store_true", help="also the gateway with a non-durable audit"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="latency table: a new prompt every round (new conversation, new tokens)",
    )
    p.add_argument("--sizes", default=",".join(map(str, SIZES_KB)), help="prompt sizes in KB")
    p.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    p.add_argument("--serve-floor", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    p.add_argument("--serve-queued-audit", metavar="CONFIG", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_upstream is not None:
        serve_upstream(args.serve_upstream)
        return 0
    if args.serve_floor is not None:
        serve_floor(args.serve_floor[0], int(args.serve_floor[1]))
        return 0
    if args.serve_queued_audit is not None:
        serve_queued_audit(args.serve_queued_audit)
        return 0
    if args.quick:
        args.runs, args.requests, args.seconds = 2, 60, 2.0
    args.sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        return measure(args, Path(tmp))


def measure(args: argparse.Namespace, tmp: Path) -> int:
    up_port, gw_port, floor_port, queued_port = (free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_BENCH_KEY"] = CLIENT_KEY
    me = [sys.executable, __file__]
    config = gateway_config(tmp, gw_port, up_port)
    procs = {
        "upstream": subprocess.Popen([*me, "--serve-upstream", str(up_port)], env=env),
        "gateway": subprocess.Popen(
            [sys.executable, "-m", "egressguard", "gateway", "--config", str(config)],
            env=env,
            cwd=tmp,
            stderr=subprocess.DEVNULL,
        ),
        "floor": subprocess.Popen([*me, "--serve-floor", str(config), str(floor_port)], env=env),
    }
    ports = {"upstream": up_port, "gateway": gw_port, "floor": floor_port}
    if args.queued_audit:
        (tmp / "queued").mkdir()
        queued = gateway_config(tmp / "queued", queued_port, up_port)
        procs["queued"] = subprocess.Popen(
            [*me, "--serve-queued-audit", str(queued)],
            env=env,
            cwd=tmp / "queued",
            stderr=subprocess.DEVNULL,
        )
        ports["queued"] = queued_port
    try:
        for name, proc in procs.items():
            path = "/" if name == "upstream" else "/healthz"
            wait_up(f"http://127.0.0.1:{ports[name]}{path}", proc, name)
        url = {k: f"http://127.0.0.1:{p}/v1/chat/completions" for k, p in ports.items()}
        targets: Targets = {"direct": (url["upstream"], PLAIN), "gateway": (url["gateway"], AUTH)}
        if args.queued_audit:
            targets["queued"] = (url["queued"], AUTH)
        targets["floor"] = (url["floor"], AUTH)
        report(args, targets, procs["gateway"].pid)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(args: argparse.Namespace, targets: Targets, gateway_pid: int) -> None:
    run: Callable[[Any], Any] = asyncio.run
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# gateway latency, {stamp}: Python {platform.python_version()} "
          f"{platform.machine()}, {os.cpu_count()} cores, runs={args.runs}, "
          f"requests={args.requests}{', fresh prompts' if args.fresh else ''}; "
          f"load average at start {load_average()}")  # fmt: skip
    queued = "queued" in targets
    extra = " | gateway, audit queued: added p50 / p99 ms" if queued else ""
    print("\n| prompt | direct p50 / p95 / p99 ms | gateway p50 / p95 / p99 ms "
          "| added p50 / p95 / p99 ms | gateway's own overhead p50 / p99 ms "
          "| gateway CPU ms per request "
          f"| pass-through proxy added p50 / p99 ms{extra} |")  # fmt: skip
    print("|---" * (8 if queued else 7) + "|")
    cases = [(f"{kb} KB", kb, prompt(kb)) for kb in args.sizes]
    if 2 in args.sizes:
        cases.insert(args.sizes.index(2) + 1, ("2 KB, no personal data", 2, prompt(2, clean=True)))
    for _, _, text in cases:  # warm every process on every prompt before measuring any
        run(latency_run(targets, text, 0, warmup=30))
    for label, kb, text in cases:
        n = args.requests if kb < 64 else max(20, args.requests // 3)
        cpu0 = cpu_seconds(gateway_pid)
        runs = [
            run(latency_run(targets, text, n, warmup=20, fresh=args.fresh))
            for _ in range(args.runs)
        ]
        cpu_ms = (cpu_seconds(gateway_pid) - cpu0) * 1000 / (args.runs * (n + 20))
        d = [summarise(runs, "direct", q) for q in (0.5, 0.95, 0.99)]
        g = [summarise(runs, "gateway", q) for q in (0.5, 0.95, 0.99)]
        add = [added(runs, "gateway", q) for q in (0.5, 0.95, 0.99)]
        own = [summarise(runs, "overhead", q) for q in (0.5, 0.99)]
        floor = [added(runs, "floor", q) for q in (0.5, 0.99)]
        cells = f"{_fmt(d)} | {_fmt(g)} | {_fmt(add)} | {_fmt(own)} | {cpu_ms:.2f} | {_fmt(floor)}"
        if queued:
            cells += f" | {_fmt([added(runs, 'queued', q) for q in (0.5, 0.99)])}"
        print(f"| {label} | {cells} |", flush=True)
    text = prompt(2)
    streamed = {k: targets[k] for k in ("direct", "gateway")}
    ttfbs = [run(ttfb_run(streamed, text, args.requests // 2)) for _ in range(args.runs)]
    print("\n| streaming, 2 KB prompt | time to first byte p50 / p95 / p99 ms |")
    print("|---|---|")
    for key in streamed:
        print(f"| {key} | {_fmt([summarise(ttfbs, key, q) for q in (0.5, 0.95, 0.99)])} |")
    add_ttfb = [added(ttfbs, "gateway", q) for q in (0.5, 0.95, 0.99)]
    print(f"| added by the gateway | {_fmt(add_ttfb)} |")
    c = args.concurrency
    print(f"\n| throughput, 2 KB prompt, {c} concurrent clients | requests/s (median of runs) |")
    print("|---|---|")
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    for _ in range(args.runs):  # alternating, so both see the same background load
        for name in rates:
            url, headers = targets[name]
            rates[name].append(run(throughput_run(url, headers, text, c, args.seconds)))
    for name, values in rates.items():
        print(f"| {name} | {med(values):,.0f} (runs: {', '.join(f'{r:,.0f}' for r in values)}) |")
    ratio = med([g / d for d, g in zip(rates["direct"], rates["gateway"], strict=True)])
    print(f"| gateway / direct | {ratio:.2f} |")
    print(f"\nload average at the end: {load_average()}")


def _fmt(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
