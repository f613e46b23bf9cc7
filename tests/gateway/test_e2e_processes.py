"""Real `egressguard gateway` processes on one state directory: racing requests that mint the
same short token for different values, and audit records that survive a SIGKILL.

Each gateway is a subprocess (`python -m egressguard gateway`) on its own loopback port, in
front of one real test upstream; the test knows the token secret (it writes `token.key` before
the start), so it can pick values whose 24-bit tokens collide.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from egressguard.gateway.actions import Api
from egressguard.gateway.tokens import Tokenizer
from egressguard.gateway.vault_keys import write_key_file
from tests.gateway.harness import KEY_A, chat
from tests.gateway.processes import instance_config, instance_url, start
from tests.gateway.processes import stop as stop_gateway
from tests.gateway.upstream_server import ServerThread, TestUpstream

SECRET = b"race-test-token-secret-32-bytes!"
TOKEN = re.compile(r"\[EMAIL_[0-9a-f]{6,64}\]")


@contextmanager
def _gateways(tmp: Path, upstream: str, count: int) -> Iterator[list[str]]:
    state = tmp / "state"
    state.mkdir(mode=0o700)
    write_key_file(state / "token.key", [SECRET], replace=False)
    configs = [instance_config(tmp, f"gw{i}", upstream) for i in range(count)]
    procs: list[subprocess.Popen[str]] = []
    try:
        for config in configs:  # one after the other: the first generates the vault key
            procs.append(start(config, 30))  # noqa: PERF401 (stop the started ones on a failure)
        yield [instance_url(config) for config in configs]
    finally:
        for proc in procs:
            stop_gateway(proc)


@pytest.fixture
def upstream() -> Iterator[TestUpstream]:
    up = TestUpstream("eu")
    with ServerThread(up.app()) as server:
        up.url = server.url  # type: ignore[attr-defined]
        yield up
        up.stopping = True


def _colliding_emails(conversation_header: str) -> tuple[str, str, str]:
    """Two addresses whose shortest tokens are equal in this conversation, and that token."""
    tokenizer = Tokenizer(SECRET)
    body = chat("x")
    conversation = tokenizer.conversation_id("shop1", Api.CHAT, body, header=conversation_header)
    seen: dict[str, str] = {}
    for i in range(1_000_000):
        email = f"kunde{i}.{conversation_header}@example.de"
        token = tokenizer.token("shop1", conversation, "email", email)
        if token in seen:
            return seen[token], email, token
        seen[token] = email
    raise AssertionError("no collision found")


def _prompt(email: str, tag: str) -> str:
    # the contested address first, then many others: minting them keeps the request between
    # its collision check and its vault write for a while, so the two requests overlap
    others = " ".join(f"{tag}{j}@example.org" for j in range(300))
    return f"Write to {email} and cc {others}"


def _send(
    url: str,
    headers: dict[str, str],
    prompt: str,
    barrier: threading.Barrier,
    answers: dict[int, httpx.Response],
    i: int,
) -> None:
    sent = {"authorization": f"Bearer {KEY_A}", **headers}
    with httpx.Client(base_url=url, headers=sent, trust_env=False) as c:
        barrier.wait()
        answers[i] = c.post("/v1/chat/completions", json=chat(prompt), timeout=30)


def test_racing_processes_mint_a_longer_token_for_the_second_value(
    upstream: TestUpstream, tmp_path: Path
) -> None:
    with _gateways(tmp_path, upstream.url, 2) as urls:  # type: ignore[attr-defined]
        for pair in range(6):
            header = {"x-egressguard-conversation": f"race{pair}"}
            first, second, short = _colliding_emails(f"race{pair}")
            prompts = [_prompt(first, f"a{pair}x"), _prompt(second, f"b{pair}x")]
            answers: dict[int, httpx.Response] = {}
            barrier = threading.Barrier(2)

            threads = [
                threading.Thread(target=_send, args=(urls[i], header, p, barrier, answers, i))
                for i, p in enumerate(prompts)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for i, prompt in enumerate(prompts):
                assert answers[i].status_code == 200, answers[i].text
                assert answers[i].json()["choices"][0]["message"]["content"] == prompt
            # upstream saw one address as the short token, the other as a lengthened one
            tokens = sorted(
                (TOKEN.findall(r.raw.decode())[0] for r in upstream.received[-2:]), key=len
            )
            assert tokens[0] == short and tokens[1][:-1].startswith(short[:-1])
            assert len(tokens[1]) == len(short) + 2
            # the next turn, through either process, gives each address the same token again
            upstream.received.clear()
            for url in urls:
                sent_headers = {"authorization": f"Bearer {KEY_A}", **header}
                with httpx.Client(base_url=url, headers=sent_headers, trust_env=False) as c:
                    for email in (first, second):
                        c.post("/v1/chat/completions", json=chat(f"again {email}"), timeout=30)
            again = [TOKEN.findall(r.raw.decode())[0] for r in upstream.received]
            assert len(set(again[0::2])) == 1 and len(set(again[1::2])) == 1
            assert set(again) == set(tokens)
            upstream.received.clear()


# --- audit records survive SIGKILL --------------------------------------------------------------


def _hammer(url: str, stop: threading.Event, acknowledged: list[str], n: int, stream: bool) -> None:
    """Send requests until `stop`; note the request id of every answer that completed."""
    headers = {"authorization": f"Bearer {KEY_A}"}
    with httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=10) as c:
        i = 0
        while not stop.is_set():
            i += 1
            doc = chat(f"thread {n} request {i}: write to kunde{i}@example.de", stream=stream)
            try:
                with c.stream("POST", "/v1/chat/completions", json=doc) as r:
                    body = b"".join(r.iter_raw())  # the whole answer, up to its last byte
                    if r.status_code == 200 and body:
                        acknowledged.append(r.headers["x-egressguard-request-id"])
            except httpx.TransportError:
                return  # the gateway was killed mid-answer: not acknowledged


def test_every_acknowledged_exchange_is_in_the_trail_after_sigkill(
    upstream: TestUpstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from egressguard.cli.main import run
    from egressguard.store.sqlite import SqliteChain

    config = instance_config(tmp_path, "gw", upstream.url)  # type: ignore[attr-defined]
    url = instance_url(config)
    procs = [start(config, 30)]
    try:
        for round_ in range(3):  # kill, restart, kill again: the chain keeps extending
            stop = threading.Event()
            acknowledged: list[str] = []
            threads = [
                threading.Thread(target=_hammer, args=(url, stop, acknowledged, n, n % 2 == 1))
                for n in range(4)
            ]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 30
            while len(acknowledged) < 40 and time.monotonic() < deadline:
                time.sleep(0.001)
            procs[-1].send_signal(signal.SIGKILL)  # while other requests are in flight
            stop.set()
            for t in threads:
                t.join()
            procs[-1].communicate()
            assert len(acknowledged) >= 40
            assert run(["audit-log", "verify", "--config", str(config)]) == 0
            assert "audit log ok" in capsys.readouterr().err
            with SqliteChain(tmp_path / "state" / "audit.sqlite3", readonly=True) as chain:
                stored = {r.payload()["request_id"] for r in chain.records()}
            missing = [rid for rid in acknowledged if rid not in stored]
            assert missing == [], f"round {round_}: {len(missing)} of {len(acknowledged)} lost"
            procs.append(start(config, 30))  # restart on the same state directory
    finally:
        for proc in procs:
            stop_gateway(proc)
