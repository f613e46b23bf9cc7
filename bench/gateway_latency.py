"""Added latency and throughput of `egressguard gateway`, side by side with the upstream alone.

One run starts, on loopback only:

- a small OpenAI-compatible upstream (uvicorn + httptools + uvloop, its own process) that
  answers a chat completion with the first 512 characters of the prompt (so the answer carries
  tokens the gateway must restore), streamed as 8-character deltas when asked;
- the real gateway (`egressguard gateway --config ...`, its own process) in front of it, with
  detection and tokenisation on (default_action = "tokenize");
- the same gateway app with a pass-through protector (no detection, tokens, vault or audit;
  its own process): the floor any proxy built on uvicorn + httpx adds on this machine;

then measures, with an httpx.AsyncClient on keep-alive connections:

1. latency per prompt size (1, 2, 8, 64 KB of shop text with e-mails, phones, IBANs, names,
   street addresses): requests alternate between the upstream directly and through the
   gateway, one at a time; p50/p95/p99 of each and the added latency (gateway minus direct,
   per percentile), plus the gateway's own `x-egressguard-overhead-ms` header;
2. streaming time to first byte (2 KB prompt, `stream: true`), direct vs gateway;
3. throughput (requests/s) with a bounded number of concurrent clients (2 KB prompt), all three
   processes sharing the machine's cores.

Each measurement is repeated `--runs` times; the tables show the median over runs.

    .venv/bin/python bench/gateway_latency.py                 # the published numbers
    .venv/bin/python bench/gateway_latency.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(url, trust_env=False, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def gateway_config(directory: Path, gw_port: int, up_port: int) -> Path:
    path = directory / "gateway.toml"
    path.write_text(
        f"""listen = "127.0.0.1:{gw_port}"
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


def body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "bench", "stream": stream, "messages": [{"role": "user", "content": text}]}


async def timed(client: httpx.AsyncClient, url: str, doc: dict[str, Any]) -> tuple[float, float]:
    """(seconds, gateway overhead ms or nan) of one request."""
    t = time.perf_counter()
    r = await client.post(url, json=doc)
    elapsed = time.perf_counter() - t
    if r.status_code != 200:
        raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:200]}")
    return elapsed, float(r.headers.get("x-egressguard-overhead-ms", "nan"))


async def ttfb(client: httpx.AsyncClient, url: str, doc: dict[str, Any]) -> float:
    t = time.perf_counter()
    first: float | None = None
    async with client.stream("POST", url, json=doc) as r:
        async for _ in r.aiter_raw():
            if first is None:
                first = time.perf_counter() - t
    if first is None:
        raise SystemExit("empty stream")
    return first


async def latency_run(
    direct: str, gateway: str, floor: str, text: str, n: int, warmup: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"direct": [], "gateway": [], "overhead": [], "floor": []}
    headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    async with (
        httpx.AsyncClient(trust_env=False, timeout=30) as dc,
        httpx.AsyncClient(trust_env=False, timeout=30, headers=headers) as gc,
        httpx.AsyncClient(trust_env=False, timeout=30, headers=headers) as fc,
    ):
        doc = body(text)
        for _ in range(warmup):
            await timed(dc, direct, doc)
            await timed(gc, gateway, doc)
            await timed(fc, floor, doc)
        for _ in range(n):
            d, _ = await timed(dc, direct, doc)
            g, o = await timed(gc, gateway, doc)
            f, _ = await timed(fc, floor, doc)
            out["direct"].append(d * 1000)
            out["gateway"].append(g * 1000)
            out["overhead"].append(o)
            out["floor"].append(f * 1000)
    return out


async def ttfb_run(direct: str, gateway: str, text: str, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"direct": [], "gateway": []}
    headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    async with (
        httpx.AsyncClient(trust_env=False, timeout=30) as dc,
        httpx.AsyncClient(trust_env=False, timeout=30, headers=headers) as gc,
    ):
        doc = body(text, stream=True)
        for _ in range(5):
            await ttfb(dc, direct, doc)
            await ttfb(gc, gateway, doc)
        for _ in range(n):
            out["direct"].append(await ttfb(dc, direct, doc) * 1000)
            out["gateway"].append(await ttfb(gc, gateway, doc) * 1000)
    return out


async def throughput_run(url: str, text: str, concurrency: int, seconds: float, key: bool) -> float:
    headers = {"authorization": f"Bearer {CLIENT_KEY}"} if key else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    doc = body(text)
    done = 0
    async with httpx.AsyncClient(
        trust_env=False, timeout=30, headers=headers, limits=limits
    ) as client:
        for _ in range(concurrency):
            await client.post(url, json=doc)
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                r = await client.post(url, json=doc)
                if r.status_code != 200:
                    raise SystemExit(f"HTTP {r.status_code}")
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t
    return done / elapsed


def med(runs: list[float]) -> float:
    return statistics.median(runs)


def summarise(runs: list[dict[str, list[float]]], key: str, q: float) -> float:
    return med([pct(run[key], q) for run in runs])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--requests", type=int, default=300, help="per size, target and run")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    p.add_argument("--quick", action="store_true", help="2 runs, 60 requests, 2 s")
    p.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    p.add_argument("--serve-floor", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_upstream is not None:
        serve_upstream(args.serve_upstream)
        return 0
    if args.serve_floor is not None:
        serve_floor(args.serve_floor[0], int(args.serve_floor[1]))
        return 0
    if args.quick:
        args.runs, args.requests, args.seconds = 2, 60, 2.0
    with tempfile.TemporaryDirectory() as tmp:
        return measure(args, Path(tmp))


def measure(args: argparse.Namespace, tmp: Path) -> int:
    up_port, gw_port, floor_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_BENCH_KEY"] = CLIENT_KEY
    upstream = subprocess.Popen(
        [sys.executable, __file__, "--serve-upstream", str(up_port)], env=env
    )
    config = gateway_config(tmp, gw_port, up_port)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "egressguard", "gateway", "--config", str(config)],
        env=env,
        cwd=tmp,
        stderr=subprocess.DEVNULL,
    )
    floor = subprocess.Popen(
        [sys.executable, __file__, "--serve-floor", str(config), str(floor_port)], env=env
    )
    try:
        wait_up(f"http://127.0.0.1:{up_port}/", upstream, "upstream")
        wait_up(f"http://127.0.0.1:{gw_port}/healthz", gateway, "gateway")
        wait_up(f"http://127.0.0.1:{floor_port}/healthz", floor, "pass-through proxy")
        direct = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        via = f"http://127.0.0.1:{gw_port}/v1/chat/completions"
        floor_url = f"http://127.0.0.1:{floor_port}/v1/chat/completions"
        report(args, direct, via, floor_url, gateway.pid)
    finally:
        for proc in (floor, gateway, upstream):
            proc.terminate()
            proc.wait(timeout=30)
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(args: argparse.Namespace, direct: str, via: str, floor: str, gateway_pid: int) -> None:
    run: Callable[[Any], Any] = asyncio.run
    print(f"# gateway latency: {platform.python_version()} {platform.machine()}, "
          f"{os.cpu_count()} cores, runs={args.runs}, requests={args.requests}")  # fmt: skip
    print("\n| prompt | direct p50 / p95 / p99 ms | gateway p50 / p95 / p99 ms "
          "| added p50 / p95 / p99 ms | gateway's own overhead p50 / p99 ms "
          "| gateway CPU ms per request | pass-through proxy added p50 / p99 ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    cases = [(f"{kb} KB", kb, prompt(kb)) for kb in SIZES_KB]
    cases.insert(2, ("2 KB, no personal data", 2, prompt(2, clean=True)))
    for _, _, text in cases:  # warm both processes on every prompt before measuring any
        run(latency_run(direct, via, floor, text, 0, warmup=30))
    for label, kb, text in cases:
        n = args.requests if kb < 64 else max(20, args.requests // 3)
        cpu0 = cpu_seconds(gateway_pid)
        runs = [run(latency_run(direct, via, floor, text, n, warmup=20)) for _ in range(args.runs)]
        cpu_ms = (cpu_seconds(gateway_pid) - cpu0) * 1000 / (args.runs * (n + 20))
        d = [summarise(runs, "direct", q) for q in (0.5, 0.95, 0.99)]
        g = [summarise(runs, "gateway", q) for q in (0.5, 0.95, 0.99)]
        added = [
            med([pct(r["gateway"], q) - pct(r["direct"], q) for r in runs])
            for q in (0.5, 0.95, 0.99)
        ]
        own = [summarise(runs, "overhead", q) for q in (0.5, 0.99)]
        floor_added = [
            med([pct(r["floor"], q) - pct(r["direct"], q) for r in runs]) for q in (0.5, 0.99)
        ]
        cells = (
            f"{_fmt(d)} | {_fmt(g)} | {_fmt(added)} | {_fmt(own)} | {cpu_ms:.2f} "
            f"| {_fmt(floor_added)}"
        )
        print(f"| {label} | {cells} |", flush=True)
    text = prompt(2)
    ttfbs = [run(ttfb_run(direct, via, text, args.requests // 2)) for _ in range(args.runs)]
    print("\n| streaming, 2 KB prompt | time to first byte p50 / p95 / p99 ms |")
    print("|---|---|")
    for key in ("direct", "gateway"):
        print(f"| {key} | {_fmt([summarise(ttfbs, key, q) for q in (0.5, 0.95, 0.99)])} |")
    c = args.concurrency
    print(f"\n| throughput, 2 KB prompt, {c} concurrent clients | requests/s (median of runs) |")
    print("|---|---|")
    for name, url, key in (("direct", direct, False), ("gateway", via, True)):
        rates = [run(throughput_run(url, text, c, args.seconds, key)) for _ in range(args.runs)]
        print(f"| {name} | {med(rates):,.0f} (runs: {', '.join(f'{r:,.0f}' for r in rates)}) |")


def _fmt(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
