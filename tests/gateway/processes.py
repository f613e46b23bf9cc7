"""Real `egressguard gateway` processes for the multi-process tests: config, start, stop.

Each instance is its own subprocess (`python -m egressguard gateway`), like a replica behind a
load balancer; `database` makes instances share PostgreSQL, otherwise they share `state_dir`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.gateway.harness import ENV


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance_config(tmp: Path, name: str, upstream: str, database: str | None = None) -> Path:
    """`tmp/NAME.toml`: one client (EG_KEY_A, tenant shop1), one EU upstream, tokenize all."""
    path = tmp / f"{name}.toml"
    shared = f'database = "{database}"\n' if database else ""
    path.write_text(
        f"""{shared}
listen = "127.0.0.1:{free_port()}"
state_dir = "./state"

[[clients]]
id = "magento"
tenant = "shop1"
key_env = "EG_KEY_A"

[[upstreams]]
id = "eu-llm"
base_url = "{upstream}/v1"
region = "eu"
timeout_s = 10

[policy]
default_upstream = "eu-llm"
allowed_regions = ["eu"]
default_action = "tokenize"
""",
        encoding="utf-8",
    )
    return path


def instance_url(config: Path) -> str:
    found = re.search(r'listen = "([^"]+)"', config.read_text(encoding="utf-8"))
    assert found is not None
    return f"http://{found.group(1)}"


def spawn(config: Path) -> subprocess.Popen[str]:
    """Start an instance (no proxy settings from the environment); do not wait for it."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(ENV)
    return subprocess.Popen(
        [sys.executable, "-m", "egressguard", "gateway", "--config", str(config)],
        cwd=config.parent,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(proc: subprocess.Popen[str], url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else "died") from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the gateway did not come up")


def start(config: Path, timeout_s: float = 60) -> subprocess.Popen[str]:
    proc = spawn(config)
    wait_ready(proc, instance_url(config), timeout_s)
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
