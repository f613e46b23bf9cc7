"""The libraries on the gateway's hop, measured side by side (docs/gateway-architecture.md).

Three comparisons, each on loopback only, candidates interleaved, three rounds, medians:

- upstream client: one 2 KB JSON POST and its answer read, keep-alive, per candidate:
  httpx's transport, httpcore's pool, aiohttp (what the gateway uses) and a minimal client
  written on an asyncio protocol + httptools (the floor for a Python client);
- server: the same raw ASGI app (reads the body, answers 600 bytes of JSON) under uvicorn,
  under uvicorn inside Starlette's router, and under granian when it is installed
  (`pip install granian`; it is not a dependency);
- JSON: stdlib json vs orjson, loads and dumps of 1, 2, 8 and 64 KB request bodies.

CPU time per request is the headline (less sensitive to a shared machine's load than wall
time); p50 wall time is printed too.

    .venv/bin/python bench/gateway_hop_options.py [--requests 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httptools
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_latency import body, free_port, prompt, wait_up

REPLY = json.dumps({"choices": [{"index": 0, "message": {"content": "y" * 560}}]}).encode()
HEADERS = {"content-type": "application/json", "accept-encoding": "identity"}


# --- the servers' app (run in a child process: python bench/gateway_hop_options.py --app) ----


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    length = str(len(REPLY)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", length)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": REPLY})


class _Endpoint:
    """A pure-ASGI endpoint, as the gateway's `ProxyEndpoint` (a class: Starlette calls it raw)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await raw_app(scope, receive, send)


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    return Starlette(routes=[Route("/v1/chat/completions", _Endpoint(), methods=["POST"])])


# --- a minimal client: the floor for a Python HTTP/1.1 client -------------------------------


class _MiniConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.chunks: collections.deque[bytes] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None
        self.done = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self._wake()

    def on_message_complete(self) -> None:
        self.done = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.done = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class MiniClient:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[_MiniConnection] = []

    async def post(self, data: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        if self.idle:
            conn = self.idle.pop()
        else:
            _, conn = await loop.create_connection(_MiniConnection, "127.0.0.1", self.port)
        conn.done = False
        head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
        conn.transport.write(
            f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n{head}"
            f"content-length: {len(data)}\r\n\r\n".encode()
            + data
        )
        parts: list[bytes] = []
        while True:
            while conn.chunks:
                parts.append(conn.chunks.popleft())
            if conn.done:
                break
            conn.waiter = loop.create_future()
            await conn.waiter
        if conn.parser.should_keep_alive():
            self.idle.append(conn)
        return b"".join(parts)


# --- measuring -----------------------------------------------------------------------------

Send = Callable[[], Awaitable[Any]]


async def client_candidates(port: int, data: bytes) -> dict[str, tuple[Send, Any]]:
    """name -> (send one request and read the answer, closer)."""
    import httpcore
    import httpx

    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    transport = httpx.AsyncHTTPTransport(retries=0, trust_env=False)
    timeout = httpx.Timeout(60, connect=5).as_dict()

    async def via_httpx() -> None:
        request = httpx.Request("POST", url, content=data, headers=HEADERS)
        request.extensions["timeout"] = timeout
        response = await transport.handle_async_request(request)
        async for _ in response.aiter_raw():
            pass
        await response.aclose()

    pool = httpcore.AsyncConnectionPool()
    raw_headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(data)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]

    async def via_httpcore() -> None:
        response = await pool.request("POST", url, headers=raw_headers, content=data)
        assert response.status == 200

    session = aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        timeout=aiohttp.ClientTimeout(sock_read=60, sock_connect=5),
    )

    async def via_aiohttp() -> None:
        async with session.post(url, data=data, headers=HEADERS) as response:
            await response.read()

    mini = MiniClient(port)

    async def via_mini() -> None:
        await mini.post(data)

    async def nothing() -> None:
        pass

    return {
        "httpx transport": (via_httpx, transport.aclose),
        "httpcore pool": (via_httpcore, pool.aclose),
        "aiohttp session": (via_aiohttp, session.close),
        "minimal (protocol + httptools)": (via_mini, nothing),
    }


async def measure_clients(port: int, n: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    data = body(prompt(2))
    candidates = await client_candidates(port, data)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    try:
        for _ in range(rounds):
            for name, (send, _) in candidates.items():
                for _ in range(100):
                    await send()
                walls = []
                cpu = time.process_time()
                for _ in range(n):
                    t = time.perf_counter()
                    await send()
                    walls.append(time.perf_counter() - t)
                cpu_us = (time.process_time() - cpu) / n * 1e6
                out[name].append((cpu_us, statistics.median(walls) * 1000))
    finally:
        for _, close in candidates.values():
            await close()
    return out


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (granian runs the app in a worker)."""
    pids = [pid]
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids += [int(k) for k in kids.split()]
    total = 0.0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def load_server(port: int, pid: int, n: int) -> tuple[float, float]:
    data = body(prompt(2))
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.post(url, data=data, headers=HEADERS) as r:
                await r.read()
        walls = []
        cpu = process_cpu(pid)
        for _ in range(n):
            t = time.perf_counter()
            async with session.post(url, data=data, headers=HEADERS) as r:
                await r.read()
            walls.append(time.perf_counter() - t)
        cpu_us = (process_cpu(pid) - cpu) / n * 1e6
    return cpu_us, statistics.median(walls) * 1000


def server_commands(port: int) -> dict[str, list[str]]:
    me = Path(__file__).resolve()
    uvicorn = [sys.executable, "-m", "uvicorn", "--port", str(port), "--http", "httptools"]
    uvicorn += ["--loop", "uvloop", "--log-level", "warning", "--no-access-log"]
    uvicorn += ["--app-dir", str(me.parent)]
    commands = {
        "uvicorn + httptools + uvloop": [*uvicorn, "gateway_hop_options:raw_app"],
        "uvicorn, Starlette router": [*uvicorn, "--factory", "gateway_hop_options:starlette_app"],
    }
    try:
        import granian  # noqa: F401
    except ImportError:
        return commands
    granian_cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port)]
    granian_cmd += ["--loop", "uvloop", "--log-level", "warning", "--no-ws"]
    granian_cmd += ["--working-dir", str(me.parent)]
    commands["granian, ASGI"] = [*granian_cmd, "gateway_hop_options:raw_app"]
    return commands


def measure_servers(n: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for _ in range(rounds):
        port = free_port()
        for name, command in server_commands(port).items():
            proc = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
            try:
                wait_up(f"http://127.0.0.1:{port}/", proc, name)
                out[name].append(uvloop.run(load_server(port, proc.pid, n)))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    return out


def _per_call(f: Callable[[], Any], n: int) -> float:
    return min(timeit.repeat(f, number=n, repeat=3)) / n * 1e6


def json_row(kb: int) -> str:
    raw = body(prompt(kb))
    doc = json.loads(raw)
    n = 2000 if kb < 64 else 200
    loads = (_per_call(lambda: json.loads(raw), n), _per_call(lambda: orjson.loads(raw), n))
    dumps = (
        _per_call(lambda: json.dumps(doc, ensure_ascii=False, separators=(",", ":")), n),
        _per_call(lambda: orjson.dumps(doc), n),
    )
    return f"| {kb} KB | {loads[0]:.1f} / {loads[1]:.1f} | {dumps[0]:.1f} / {dumps[1]:.1f} |"


def json_table() -> None:
    print("\n| prompt | json.loads / orjson.loads us | json.dumps / orjson.dumps us |")
    print("|---|---|---|")
    for kb in (1, 2, 8, 64):
        print(json_row(kb))


def table(title: str, results: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n| {title} | CPU us / request (rounds) | p50 ms |")
    print("|---|---|---|")
    for name, runs in results.items():
        cpus = ", ".join(f"{c:.0f}" for c, _ in runs)
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"| {name} | {cpu:,.0f} ({cpus}) | {wall:.2f} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=1500)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# gateway hop options, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {load}")  # fmt: skip
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    me = Path(__file__).resolve()
    upstream = subprocess.Popen(
        [sys.executable, str(me.parent / "gateway_latency.py"), "--serve-upstream", str(port)],
        env=env,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/", upstream, "upstream")
        clients = uvloop.run(measure_clients(port, args.requests, args.rounds))
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    table("upstream client (client process CPU)", clients)
    table("server (server process CPU)", measure_servers(args.requests, args.rounds))
    json_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
