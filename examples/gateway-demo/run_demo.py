"""`make demo-gateway`: Magento-shaped requests through the gateway to the local model.

Starts `egressguard local-model serve` (the bundled Gemma 3 270M, recording what it receives)
and `egressguard gateway` in front of it, both on loopback with free ports, sends the requests
in `requests/`, and shows for each, side by side: what the shop sent, what left the gateway
(read from the model server's own record), what the model answered, and what the shop got back.
Then it checks that none of the request's listed values reached the model and runs
`egressguard audit-log verify`. Exit 0 when every check holds.

The customers, cards and suppliers in `requests/` are invented for this demo.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from egressguard.local_model.recorder import answer_text, read_exchanges

HERE = Path(__file__).resolve().parent
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Exchange:
    title: str
    sent: str
    left: str
    answered: str
    got_back: str
    leaked: list[str]
    seconds: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def egressguard() -> list[str]:
    found = shutil.which("egressguard", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "egressguard"]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"demo: {url} died:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with NO_PROXY.open(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"demo: {url} did not answer within {timeout_s:.0f} s (log: {log})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def post(url: str, key: str, body: dict[str, Any]) -> tuple[str, float]:
    """The answer's text (a stream's deltas joined) and the seconds it took."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    with NO_PROXY.open(request, timeout=300) as response:
        raw = response.read().decode("utf-8")
    elapsed = time.monotonic() - started
    if not body.get("stream"):
        return answer_text(json.loads(raw)), elapsed
    return answer_text(raw), elapsed


def model_side(record: dict[str, Any]) -> tuple[str, str]:
    """What the model server received (the messages' text) and what it answered."""
    request = record["request"]
    received = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
    return received, answer_text(record["response"])


def write_config(out: Path, model_port: int, gateway_port: int) -> Path:
    text = (HERE / "gateway.toml").read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:8787"', f'listen = "127.0.0.1:{gateway_port}"')
    text = text.replace("http://127.0.0.1:8080/v1", f"http://127.0.0.1:{model_port}/v1")
    text = text.replace('state_dir = "../../demo-output/gateway/state"', 'state_dir = "state"')
    text = text.replace('path = "dictionaries/', f'path = "{HERE / "dictionaries"}/')
    config = out / "gateway.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run(out: Path, console: Console) -> int:
    out.mkdir(parents=True, exist_ok=True)
    record = out / "model-received.jsonl"
    record.unlink(missing_ok=True)
    model_port, gateway_port = free_port(), free_port()
    config = write_config(out, model_port, gateway_port)
    key = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["EG_KEY_MAGENTO"] = key
    cli = egressguard()
    exchanges: list[Exchange] = []
    with ExitStack() as stack:
        console.print(f"[bold]1.[/] local model on 127.0.0.1:{model_port} (bundled Gemma 3 270M)")
        model_log = out / "local-model.log"
        serve = [*cli, "local-model", "serve", "--port", str(model_port), "--record", str(record)]
        model = start(serve, env, model_log)
        stack.callback(stop, model)
        wait_for(f"http://127.0.0.1:{model_port}/v1/models", model, model_log, 300)
        console.print(f"[bold]2.[/] gateway on 127.0.0.1:{gateway_port} (config {config})")
        gateway_log = out / "gateway.log"
        gateway = start([*cli, "gateway", "--config", str(config)], env, gateway_log)
        stack.callback(stop, gateway)
        wait_for(f"http://127.0.0.1:{gateway_port}/healthz", gateway, gateway_log, 120)
        url = f"http://127.0.0.1:{gateway_port}/v1/chat/completions"
        for path in sorted((HERE / "requests").glob("*.json")):
            case = json.loads(path.read_text(encoding="utf-8"))
            body = case["request"]
            seen = len(read_exchanges(record))
            got_back, seconds = post(url, key, body)
            new = read_exchanges(record)[seen:]
            received, answered = model_side(new[-1]) if new else ("(nothing reached it)", "")
            sent = "\n".join(str(m["content"]) for m in body["messages"])
            reached = " ".join(json.dumps(r["request"], ensure_ascii=False) for r in new)
            reached += " ".join(model_side(r)[0] for r in new)
            leaked = [value for value in case["hidden"] if value in reached]
            exchanges.append(
                Exchange(case["title"], sent, received, answered, got_back, leaked, seconds)
            )
    show(exchanges, console)
    verify = subprocess.run(
        [*cli, "audit-log", "verify", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    console.print(f"[bold]audit-log verify:[/] {verify.stderr.strip()} (exit {verify.returncode})")
    leaks = sum(len(e.leaked) for e in exchanges)
    if leaks:
        console.print(f"[bold red]{leaks} listed value(s) reached the model[/]")
    else:
        console.print("[bold green]No listed value reached the model: it saw tokens only.[/]")
    console.print(f"What the model server received, as it recorded it: {record}")
    return 0 if leaks == 0 and verify.returncode == 0 else 1


def show(exchanges: list[Exchange], console: Console) -> None:
    for e in exchanges:
        table = Table(title=f"{e.title}: {e.seconds:.1f} s", show_lines=True, expand=True)
        for heading in ("shop sent", "left the gateway", "model answered", "shop got back"):
            table.add_column(heading, overflow="fold", ratio=1)
        table.add_row(e.sent, e.left, e.answered, e.got_back)
        console.print(table)
        status = "[green]none[/]" if not e.leaked else f"[red]{len(e.leaked)}[/]"
        console.print(f"listed values that reached the model: {status}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("demo-output/gateway"))
    args = parser.parse_args()
    return run(args.output_dir.resolve(), Console(width=max(Console().width, 160)))


if __name__ == "__main__":
    sys.exit(main())
