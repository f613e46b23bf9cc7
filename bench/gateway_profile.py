"""Where the gateway's CPU goes per request: the real app, driven in-process over raw ASGI.

Composes the gateway exactly as `egressguard gateway` does (`cli.gateway_cmd.compose`: detector,
token secret, SQLite vault, durable audit chain) with the config of bench/gateway_latency.py,
starts that bench's upstream in its own process, and sends the same 2 KB dense shop prompt
(`gateway_latency.prompt`) straight into the ASGI app, one request at a time on a uvloop event
loop: auth, body parsing, detection, tokenisation, vault, routing, the upstream call (aiohttp,
loopback), restoring, metrics and the durable audit commit. Only uvicorn's HTTP parsing of the
client side is missing.

    .venv/bin/python bench/gateway_profile.py [--requests 500] [--kb 2] [--fresh]
    .venv/bin/python bench/gateway_profile.py --cprofile /tmp/gw.pstats
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg-N.out \
        .venv/bin/python bench/gateway_profile.py --requests N      # N = 0 and 100

Prints the process CPU time per request (all threads: the audit sink's checkpoint thread
included) and the wall time. `--fresh` gives every request a new first line
(`gateway_latency.fresh_text`: a new conversation with new tokens, the vault's worst case);
without it every request repeats the prompt, as bench/gateway_latency.py does. Under callgrind
(the upstream process is not traced) the instructions per request are (total at N=100 - total
at N=0) / 100: startup and the warm-up cancel out. Never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_latency as gl  # the bench's prompt, config and upstream

ROUTE = "/v1/chat/completions"


def scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": ROUTE,
        "raw_path": ROUTE.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {gl.CLIENT_KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def one(app: Any, body: bytes) -> bytes:
    sent = False
    out: list[bytes] = []
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            out.append(message.get("body", b""))

    await app(scope(body), receive, send)
    if status != 200:
        raise SystemExit(f"HTTP {status}: {b''.join(out)[:300]!r}")
    return b"".join(out)


def bodies(kb: int, n: int, fresh: bool) -> list[bytes]:
    text = gl.prompt(kb)
    if not fresh:
        return [gl.body(text)] * n
    return [gl.body(gl.fresh_text(text)) for _ in range(n)]


async def drive(app: Any, args: argparse.Namespace) -> None:
    warm = bodies(args.kb, 50, args.fresh)
    for b in warm:
        await one(app, b)
    work = bodies(args.kb, args.requests, args.fresh)
    profiler = cProfile.Profile() if args.cprofile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    await measured(app, work)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = max(1, len(work))  # --requests 0: startup and warm-up only (callgrind's baseline)
    print(
        f"{n} requests of {args.kb} KB ({'fresh' if args.fresh else 'repeated'} prompt): "
        f"process CPU {cpu * 1000 / n:.3f} ms/request, wall {wall * 1000 / n:.3f} ms/request"
    )


async def measured(app: Any, work: list[bytes]) -> None:
    for b in work:
        await one(app, b)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--kb", type=int, default=2)
    p.add_argument("--fresh", action="store_true", help="a new conversation per request")
    p.add_argument("--cprofile", metavar="FILE", help="write cProfile stats of the loop")
    p.add_argument("--queued-audit", action="store_true", help="audit sink durable=False")
    args = p.parse_args()
    import uvloop

    from egressguard.cli.gateway_cmd import compose
    from egressguard.gateway.settings import load_gateway_settings

    if args.queued_audit:
        import functools

        import egressguard.store.sink as sink_module

        sink_module.ChainSink = functools.partial(sink_module.ChainSink, durable=False)  # type: ignore[misc]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_BENCH_KEY"] = gl.CLIENT_KEY
    with tempfile.TemporaryDirectory() as tmp:
        up_port = gl.free_port()
        upstream = subprocess.Popen(
            [sys.executable, gl.__file__, "--serve-upstream", str(up_port)], env=env
        )
        try:
            gl.wait_up(f"http://127.0.0.1:{up_port}/", upstream, "upstream")
            config = gl.gateway_config(Path(tmp), gl.free_port(), up_port)
            composed = compose(load_gateway_settings(config, env))
            app = composed.app
            try:
                uvloop.run(_with_client(app, args))
            finally:
                composed.close()
        finally:
            upstream.terminate()
            upstream.wait(timeout=30)
    return 0


async def _with_client(app: Any, args: argparse.Namespace) -> None:
    try:
        await drive(app, args)
    finally:
        await app.state.gateway.upstreams.aclose()


if __name__ == "__main__":
    raise SystemExit(main())
