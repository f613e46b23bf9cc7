"""Two real `egressguard gateway` processes sharing one PostgreSQL (vault and audit chain) and
one set of keys, in front of one real test upstream, all on loopback (issue 7).

- a token one instance minted is restored by the other (a later turn of the conversation);
- concurrent clients spread over both instances: every acknowledged exchange is one audit
  record, the chain is one unbroken line (`audit-log verify` exits 0);
- an instance SIGKILLed mid-stream loses nothing already acknowledged, by either instance.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from egressguard.gateway.vault_keys import new_key, write_key_file
from tests.gateway.harness import KEY_A, chat
from tests.gateway.processes import instance_config, instance_url, spawn, wait_ready
from tests.gateway.processes import stop as stop_gateway
from tests.gateway.upstream_server import ServerThread, TestUpstream
from tests.store.backends import pg_dsn_for, pg_url_for

TOKEN = re.compile(r"\[EMAIL_[0-9a-f]{6,64}\]")


@dataclass
class Fleet:
    configs: list[Path]
    procs: list[subprocess.Popen[str]]
    dsn: str
    upstream: TestUpstream

    @property
    def urls(self) -> list[str]:
        return [instance_url(c) for c in self.configs]

    def restart(self, i: int) -> None:
        self.procs[i] = spawn(self.configs[i])
        wait_ready(self.procs[i], self.urls[i])

    def request_ids(self, since_seq: int = 0) -> list[str]:
        from egressguard.store.postgres import PostgresChain

        with PostgresChain(self.dsn, migrate=False) as chain:
            return [str(r.payload()["request_id"]) for r in chain.records(since_seq=since_seq)]

    def head_seq(self) -> int:
        from egressguard.store.postgres import PostgresChain

        with PostgresChain(self.dsn, migrate=False) as chain:
            head = chain.head()
        return head.seq if head else 0


@pytest.fixture(scope="module")
def fleet(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    tmp = tmp_path_factory.mktemp("fleet")
    state = tmp / "state"
    state.mkdir(mode=0o700)
    for name in ("token.key", "audit.key", "vault.key"):  # one set of keys for every instance
        write_key_file(state / name, [new_key()], replace=False)
    upstream = TestUpstream("eu")
    with ServerThread(upstream.app()) as server:
        database = pg_url_for(tmp)
        configs = [instance_config(tmp, f"gw{i}", server.url, database) for i in range(2)]
        procs = [spawn(c) for c in configs]  # both start at once: migrations race safely
        try:
            for proc, config in zip(procs, configs, strict=True):
                wait_ready(proc, instance_url(config))
            yield Fleet(configs, procs, pg_dsn_for(tmp), upstream)
        finally:
            upstream.stopping = True
            for proc in procs:
                stop_gateway(proc)


def _post(
    url: str, doc: dict[str, object], headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = {"authorization": f"Bearer {KEY_A}", **(headers or {})}
    with httpx.Client(base_url=url, headers=sent, trust_env=False, timeout=15) as c:
        return c.post("/v1/chat/completions", json=doc)


def test_a_token_minted_by_one_instance_is_restored_by_the_other(fleet: Fleet) -> None:
    a, b = fleet.urls
    header = {"x-egressguard-conversation": "order-4711"}
    fleet.upstream.reset()
    first = _post(a, chat("Please write to anna.kowalski@example.de about her order"), header)
    assert first.status_code == 200, first.text
    assert "anna.kowalski@example.de" in first.json()["choices"][0]["message"]["content"]
    (token,) = TOKEN.findall(fleet.upstream.seen_text())
    # the next turn goes to the other instance; the model answers with the earlier token
    fleet.upstream.behaviour.reply = f"Done: I wrote to {token}."
    second = _post(b, chat("Thanks! Did it work?"), header)
    assert second.status_code == 200, second.text
    answer = second.json()["choices"][0]["message"]["content"]
    assert answer == "Done: I wrote to anna.kowalski@example.de."
    # another conversation does not get it, through either instance
    other = {"x-egressguard-conversation": "order-9999"}
    for url in (a, b):
        third = _post(url, chat("Hello"), other)
        assert third.json()["choices"][0]["message"]["content"] == f"Done: I wrote to {token}."
    assert "anna.kowalski" not in fleet.upstream.seen_text()
    fleet.upstream.reset()


def _client_loop(
    url: str, n: int, count: int, acknowledged: list[str], errors: list[str], stream: bool
) -> None:
    headers = {"authorization": f"Bearer {KEY_A}"}
    with httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=30) as c:
        for i in range(count):
            doc = chat(f"client {n} request {i}: write to kunde{n}x{i}@example.de", stream=stream)
            with c.stream("POST", "/v1/chat/completions", json=doc) as r:
                body = b"".join(r.iter_raw())
                if r.status_code == 200 and body:
                    acknowledged.append(r.headers["x-egressguard-request-id"])
                else:
                    errors.append(f"{r.status_code}: {body[:200]!r}")


def test_concurrent_clients_on_both_instances_lose_no_record_and_fork_no_chain(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    from egressguard.cli.main import run

    before = fleet.head_seq()
    acknowledged: list[str] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(fleet.urls[n % 2], n, 25, acknowledged, errors, n % 3 == 0),
        )
        for n in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(acknowledged) == 8 * 25
    stored = fleet.request_ids(since_seq=before)
    assert sorted(stored) == sorted(acknowledged)  # one record per acknowledged exchange
    assert run(["audit-log", "verify", "--config", str(fleet.configs[1])]) == 0
    assert "audit log ok" in capsys.readouterr().err


def _hammer(
    url: str, stop: threading.Event, acknowledged: list[str], failures: list[str], n: int
) -> None:
    """Stream requests until `stop`; note the request id of every answer that completed, and
    every failure (expected only from the instance that is killed)."""
    headers = {"authorization": f"Bearer {KEY_A}"}
    with httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=10) as c:
        i = 0
        while not stop.is_set():
            i += 1
            doc = chat(f"thread {n} request {i}: write to k{n}x{i}@example.de", stream=True)
            try:
                with c.stream("POST", "/v1/chat/completions", json=doc) as r:
                    body = b"".join(r.iter_raw())  # the whole answer, up to its last byte
                    if r.status_code == 200 and body.rstrip().endswith(b"[DONE]"):
                        acknowledged.append(r.headers["x-egressguard-request-id"])
                    else:
                        failures.append(f"{url}: {r.status_code}")
            except httpx.TransportError as exc:
                failures.append(f"{url}: {type(exc).__name__}")
                time.sleep(0.05)  # the killed instance: keep knocking until stopped


def test_sigkill_mid_stream_loses_nothing_acknowledged(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    from egressguard.cli.main import run

    fleet.upstream.reset()
    fleet.upstream.behaviour.chunk_size = 1  # long streams: the kill lands mid-stream
    before = fleet.head_seq()
    stop = threading.Event()
    acknowledged: list[str] = []
    failures: list[str] = []
    threads = [
        threading.Thread(target=_hammer, args=(fleet.urls[n % 2], stop, acknowledged, failures, n))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    fleet.procs[0].send_signal(signal.SIGKILL)  # instance A, streams in flight
    fleet.procs[0].communicate()
    time.sleep(0.5)  # instance B keeps serving meanwhile
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) >= 30
    assert failures and all(f.startswith(fleet.urls[0]) for f in failures)  # only A failed
    assert any("ConnectError" not in f for f in failures)  # cut mid-answer, not refused
    stored = set(fleet.request_ids(since_seq=before))
    missing = [rid for rid in acknowledged if rid not in stored]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged exchanges lost"
    assert run(["audit-log", "verify", "--config", str(fleet.configs[0])]) == 0
    assert "audit log ok" in capsys.readouterr().err
    fleet.restart(0)  # the restarted instance extends the same chain
    assert _post(fleet.urls[0], chat("after the restart")).status_code == 200
    assert run(["audit-log", "verify", "--config", str(fleet.configs[0])]) == 0
    fleet.upstream.reset()
