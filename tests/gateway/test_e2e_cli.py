"""The CLI end to end: the issue's minimal configuration exactly as documented (a real
`egressguard gateway` process), `audit-log verify` on an intact and a tampered trail,
`audit-log export`, `vault forget` and `vault rotate-key`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from egressguard.cli.main import run
from tests.gateway.harness import ENV, chat, client, gateway_config, running_gateway
from tests.gateway.upstream_server import ServerThread, TestUpstream

# The minimal configuration, character for character.
MINIMAL = """\
listen = "127.0.0.1:8787"
state_dir = "./.egressguard"

[[clients]]
id = "magento"
tenant = "shop1"
key_env = "EG_KEY_MAGENTO"        # the client's key is read from this environment variable

[[upstreams]]
id = "local-llm"
base_url = "http://127.0.0.1:11434/v1"   # any OpenAI-compatible server
region = "local"

[policy]
default_upstream = "local-llm"
allowed_regions = ["local", "eu"]
default_action = "tokenize"        # for every detected category unless overridden
"""
MAGENTO_KEY = "mk-0123456789abcdef0123"
EMAIL = "jan.kowalski@example.pl"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(extra)
    return env


@pytest.fixture
def fixed_upstream() -> Iterator[TestUpstream]:
    if not (_port_free(11434) and _port_free(8787)):
        pytest.skip("127.0.0.1:11434 or :8787 is in use on this machine")
    up = TestUpstream("local")
    with ServerThread(up.app(), port=11434):
        yield up
        up.stopping = True


def _start_gateway(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "egressguard", "gateway", "--config", str(config)],
        cwd=config.parent,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get("http://127.0.0.1:8787/healthz", trust_env=False).status_code == 200:
                return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise AssertionError(
                    proc.stderr.read() if proc.stderr else "gateway died"
                ) from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the gateway did not come up")


def test_minimal_config_works_as_documented(
    fixed_upstream: TestUpstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(MINIMAL, encoding="utf-8")
    proc = _start_gateway(config, _cli_env(EG_KEY_MAGENTO=MAGENTO_KEY))
    try:
        base = "http://127.0.0.1:8787/v1"  # what a Magento module's base URL is set to
        headers = {"authorization": f"Bearer {MAGENTO_KEY}"}
        r = httpx.post(
            f"{base}/chat/completions",
            json=chat(f"Customer {EMAIL} asks about order 1000023"),
            headers=headers,
            trust_env=False,
        )
        assert r.status_code == 200, r.text
        assert EMAIL in r.json()["choices"][0]["message"]["content"]
        assert EMAIL not in fixed_upstream.seen_text()
        assert "[EMAIL_" in fixed_upstream.seen_text()
        with httpx.stream(
            "POST",
            f"{base}/chat/completions",
            json=chat(f"Customer {EMAIL}", stream=True),
            headers=headers,
            trust_env=False,
        ) as streamed:
            body = b"".join(streamed.iter_raw())
        assert EMAIL.encode() in body.replace(b'"', b"")
        bad = httpx.post(f"{base}/chat/completions", json=chat("hi"), trust_env=False)
        assert bad.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status shows it
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "listening on http://127.0.0.1:8787" in stderr
    assert "generated a new vault key" in stderr
    state = tmp_path / ".egressguard"
    assert (state / "vault.key").stat().st_mode & 0o777 == 0o600
    assert MAGENTO_KEY not in stderr

    assert run(["audit-log", "verify", "--config", str(config)]) == 0
    assert "audit log ok: 3 record(s)" in capsys.readouterr().err


def test_missing_key_env_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EG_KEY_MAGENTO", raising=False)
    config = tmp_path / "gateway.toml"
    config.write_text(MINIMAL, encoding="utf-8")
    assert run(["gateway", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "egressguard: error: clients[0].key_env: environment variable EG_KEY_MAGENTO is not set"
    )


@pytest.fixture
def used_state(tmp_path: Path) -> Iterator[Path]:
    """A config whose state dir holds a vault and an audit trail with a few exchanges."""
    up = TestUpstream()
    with ServerThread(up.app()) as server:
        config = gateway_config(tmp_path, eu=server.url, us=server.url, anthropic=server.url)
        with running_gateway(config) as gw, client(gw) as c:
            for i in range(4):
                c.post("/v1/chat/completions", json=chat(f"mail {EMAIL} #{i}"))
            gw.flush_audit()
        up.stopping = True
    yield config


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def test_tampered_audit_log_is_named(
    used_state: Path, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = used_state
    assert run(["audit-log", "verify", "--config", str(config)]) == 0
    capsys.readouterr()
    db = config.parent / "state" / "audit.sqlite3"
    with sqlite3.connect(db) as conn:  # an attacker with file access: drop the guard, edit
        conn.execute("DROP TRIGGER audit_chain_no_update")
        payload = conn.execute("SELECT payload FROM audit_chain WHERE seq = 3").fetchone()[0]
        edited = payload.replace('"status":200', '"status":201')
        assert edited != payload
        conn.execute("UPDATE audit_chain SET payload = ? WHERE seq = 3", (edited,))
    assert run(["audit-log", "verify", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "BROKEN at record 3" in err


def test_export_formats(
    used_state: Path, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trail.jsonl"
    assert run(["audit-log", "export", "--config", str(used_state), "--format", "jsonl",
                "--output", str(out)]) == 0  # fmt: skip
    lines = out.read_text().splitlines()
    assert len(lines) == 4
    assert EMAIL not in out.read_text()
    assert json.loads(lines[0])["seq"] == 1
    for fmt, marker in (("cef", "CEF:0|"), ("syslog", "<110>1 ")):
        capsys.readouterr()
        assert run(["audit-log", "export", "--config", str(used_state), "--format", fmt]) == 0
        text = capsys.readouterr().out
        assert text.count(marker) == 4  # syslog frames are octet-counted (RFC 6587), not lines
    assert run(["audit-log", "export", "--config", str(used_state), "--format", "jsonl",
                "--tenant", "shop2"]) == 0  # fmt: skip
    assert capsys.readouterr().out == ""  # another tenant's records are not shown


def test_vault_forget_and_rotate(
    used_state: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["vault", "forget", "--config", str(used_state), "--tenant", "shop1", "--value", EMAIL]
    assert run(args) == 0
    err = capsys.readouterr().err
    assert "erased 4 token(s)" in err  # one token per conversation (each message starts one)
    assert EMAIL not in err
    assert run(args) == 0
    assert "erased 0 token(s)" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(EMAIL + "\n"))  # --value - : not in argv
    assert run([*args[:-1], "-"]) == 0
    assert "erased 0 token(s)" in capsys.readouterr().err
    assert run(["vault", "rotate-key", "--config", str(used_state)]) == 0
    assert "vault key rotated" in capsys.readouterr().err


def test_missing_ner_model_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EG_KEY_MAGENTO", MAGENTO_KEY)
    config = tmp_path / "gateway.toml"
    config.write_text(MINIMAL + '\n[ner]\nmodel = "xx_no_such_model"\n', encoding="utf-8")
    assert run(["gateway", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("egressguard: error: ") and "spaCy" in err and err.count("\n") == 1


def test_export_sends_syslog_over_tcp(
    used_state: Path, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    received = bytearray()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        text = used_state.read_text() + f'\n[audit]\nsyslog = "tcp://127.0.0.1:{port}"\n'
        used_state.write_text(text)

        def collect() -> None:
            conn, _ = listener.accept()
            with conn:
                while chunk := conn.recv(65536):
                    received.extend(chunk)

        collector = threading.Thread(target=collect)
        collector.start()
        args = ["audit-log", "export", "--config", str(used_state), "--format", "syslog", "--send"]
        assert run(args) == 0
        collector.join(timeout=10)
    assert f"sent 4 record(s) to tcp://127.0.0.1:{port}" in capsys.readouterr().err
    frames = bytes(received)
    count = 0
    while frames:  # RFC 6587 octet counting: "LEN SP MSG"
        length, _, rest = frames.partition(b" ")
        message, frames = rest[: int(length)], rest[int(length) :]
        assert message.startswith(b"<") and b"egressguard" in message
        count += 1
    assert count == 4
    assert EMAIL.encode() not in bytes(received)
