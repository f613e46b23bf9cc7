"""The bundled local model on this machine, and what the gateway adds in front of it.

Starts, on loopback only, `egressguard local-model serve` (llama-cpp-python, Gemma 3 270M
Q4_K_M, CPU) and `egressguard gateway` in front of it (detection and tokenisation on, one
`region = "local"` upstream), then, for `--runs` rounds, sends the same Magento-shaped prompt
(an order with a name, e-mail, phone, street address and card number, ~110 prompt tokens) with
greedy decoding and a fixed `max_tokens`, directly and through the gateway, alternating:

- model load time (process start to `/v1/models` answering);
- generation: completion tokens per second (the server's `usage`, over the request's wall time
  minus its time to first token) and prompt processing time;
- latency of a whole non-streamed answer and time to first byte of a streamed one, direct vs
  through the gateway; the gateway's added latency is the per-round difference (median).

Greedy decoding of the same prompt gives answers of the same length direct and through the
gateway only if the model sees the same text; through the gateway it sees tokens instead of the
values, so the answers differ a little in length: the added latency is therefore also given per
completion token. Nothing leaves loopback.

    .venv/bin/python bench/local_model_bench.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_latency import (
    CLIENT_KEY,
    free_port,
    gateway_config,
)

PROMPT = (
    "Summarise this order for the customer service team in two sentences.\n\n"
    "Order #000004711 placed by Katarzyna Nowak (katarzyna.nowak@example-b2b.pl, "
    "+48 601 234 567). Ship to: ul. Długa 12, 00-238 Warszawa. Paid with card "
    "4111 1111 1111 1111. Items: 40 x Pipe clamp 2 inch (galvanised), 12 x Hinge 90 mm."
)


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process died")
        try:
            if httpx.get(url, trust_env=False, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"{url}: not up after {timeout_s:.0f} s")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def body(stream: bool, max_tokens: int) -> dict[str, Any]:
    # A fresh ticket number first: llama-cpp-python reuses the KV cache of a repeated prompt
    # prefix, which would hide the prompt processing time.
    ticket = secrets.token_hex(4)
    return {
        "model": "gemma-3-270m",
        "messages": [{"role": "user", "content": f"Ticket {ticket}. {PROMPT}"}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
    }


def whole(client: httpx.Client, url: str, max_tokens: int) -> tuple[float, int, int, float]:
    """(seconds, prompt tokens, completion tokens, gateway's own overhead ms or nan) of one
    non-streamed answer."""
    started = time.perf_counter()
    r = client.post(f"{url}/chat/completions", json=body(False, max_tokens))
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    usage = r.json()["usage"]
    overhead = float(r.headers.get("x-egressguard-overhead-ms", "nan"))
    return elapsed, int(usage["prompt_tokens"]), int(usage["completion_tokens"]), overhead


def first_byte(client: httpx.Client, url: str, max_tokens: int) -> float:
    """Seconds to the first content delta of a streamed answer (read to the end)."""
    started = time.perf_counter()
    ttfb = None
    with client.stream("POST", f"{url}/chat/completions", json=body(True, max_tokens)) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if ttfb is None and line.startswith("data: {") and '"content"' in line:
                ttfb = time.perf_counter() - started
    return ttfb if ttfb is not None else time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, help="model threads (default: one per core)")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_BENCH_KEY"] = CLIENT_KEY
    with tempfile.TemporaryDirectory(prefix="eg-local-bench-") as tmp_name:
        tmp = Path(tmp_name)
        return measure(args, tmp, env)


def measure(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> int:
    cli = [sys.executable, "-m", "egressguard"]
    model_port, gw_port = free_port(), free_port()
    serve = [*cli, "local-model", "serve", "--port", str(model_port)]
    if args.threads:
        serve += ["--threads", str(args.threads)]
    config = gateway_config(tmp, gw_port, model_port, timeout_s=300)  # CPU answers: seconds
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with process(serve, env, tmp / "model.log") as model:
        load_s = wait_up(f"http://127.0.0.1:{model_port}/v1/models", model)
        with process([*cli, "gateway", "--config", str(config)], env, tmp / "gw.log") as gw:
            wait_up(f"http://127.0.0.1:{gw_port}/healthz", gw)
            direct = f"http://127.0.0.1:{model_port}/v1"
            gateway = f"http://127.0.0.1:{gw_port}/v1"
            headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
            with httpx.Client(trust_env=False, timeout=300, headers=headers) as client:
                rows = rounds(client, direct, gateway, args)
    report(rows, load_s, args)
    return 0


def rounds(
    client: httpx.Client, direct: str, gateway: str, args: argparse.Namespace
) -> list[dict[str, float]]:
    whole(client, direct, 4)  # warm-up: first evaluation allocates the KV cache
    whole(client, gateway, 4)
    rows = []
    for i in range(args.runs):
        order = [("direct", direct), ("gateway", gateway)]
        if i % 2:
            order.reverse()
        row: dict[str, float] = {}
        for name, url in order:
            seconds, prompt_tokens, completion_tokens, overhead = whole(
                client, url, args.max_tokens
            )
            ttfb = first_byte(client, url, args.max_tokens)
            row[f"{name}_s"] = seconds
            row[f"{name}_ttfb"] = ttfb
            row[f"{name}_prompt_tokens"] = prompt_tokens
            row[f"{name}_completion_tokens"] = completion_tokens
            row[f"{name}_tok_s"] = completion_tokens / max(seconds - ttfb, 1e-6)
            row[f"{name}_prompt_tok_s"] = prompt_tokens / max(ttfb, 1e-6)
            if name == "gateway":
                row["gateway_overhead_ms"] = overhead
        rows.append(row)
        print(json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    return rows


def report(rows: list[dict[str, float]], load_s: float, args: argparse.Namespace) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    added = statistics.median(r["gateway_s"] - r["direct_s"] for r in rows)
    added_ttfb = statistics.median(r["gateway_ttfb"] - r["direct_ttfb"] for r in rows)
    print(
        f"\nmedians of {len(rows)} rounds, max_tokens {args.max_tokens}, "
        f"load now {os.getloadavg()[0]:.1f}"
    )
    print(f"model load (process start to /v1/models): {load_s:.2f} s")
    print("| | direct | through the gateway |")
    print("|---|---|---|")
    print(
        f"| prompt tokens | {med('direct_prompt_tokens'):.0f} | "
        f"{med('gateway_prompt_tokens'):.0f} |"
    )
    print(
        f"| completion tokens | {med('direct_completion_tokens'):.0f} | "
        f"{med('gateway_completion_tokens'):.0f} |"
    )
    print(f"| whole answer, s | {med('direct_s'):.3f} | {med('gateway_s'):.3f} |")
    print(
        f"| time to first token (stream), s | {med('direct_ttfb'):.3f} | "
        f"{med('gateway_ttfb'):.3f} |"
    )
    print(f"| generation, tokens/s | {med('direct_tok_s'):.1f} | {med('gateway_tok_s'):.1f} |")
    print(
        f"| prompt processing, tokens/s | {med('direct_prompt_tok_s'):.0f} | "
        f"{med('gateway_prompt_tok_s'):.0f} |"
    )
    print(
        f"added by the gateway: whole answer {added * 1000:.1f} ms, "
        f"first token {added_ttfb * 1000:.1f} ms (within the model's own run-to-run spread); "
        f"the gateway's own overhead (x-egressguard-overhead-ms): "
        f"{med('gateway_overhead_ms'):.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
