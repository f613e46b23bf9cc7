"""ChainSink: cheap emit, ordered batches, retries, nothing acknowledged lost, fails closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from egressguard.errors import ChainError
from egressguard.gateway.audit_events import AuditEvent
from egressguard.store.chain import Record, VerifyReport
from egressguard.store.sink import ChainSink
from egressguard.store.sqlite import SqliteChain


def event(n: int, tenant: str = "shop1") -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC),
        tenant=tenant,
        client="magento",
        route="/v1/chat/completions",
        upstream="local-llm",
        region="local",
        request_id=f"req-{n}",
        status=200,
        categories={"email": 1},
        actions={"email": "tokenize"},
        latency_ms=1.25,
    )


class FlakyStore:
    """A ChainStore double whose append fails ``failures`` times, optionally blocking first."""

    def __init__(self, failures: int = 0, gate: threading.Event | None = None) -> None:
        self.failures = failures
        self.gate = gate
        self.stored: list[Mapping[str, Any]] = []

    def append_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Record]:
        if self.gate is not None:
            self.gate.wait(10)
        if self.failures:
            self.failures -= 1
            raise ChainError("disk full")
        self.stored.extend(payloads)
        return []

    def append(self, payload: Mapping[str, Any]) -> Record:
        raise NotImplementedError

    def records(self, tenant: str | None = None, since_seq: int = 0) -> Iterator[Record]:
        raise NotImplementedError

    def head(self) -> Record | None:
        raise NotImplementedError

    def verify(self) -> VerifyReport:
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_every_emitted_event_is_stored_in_order(tmp_path: Path) -> None:
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain, max_batch=16)
    for n in range(500):
        sink.emit(event(n))
    sink.close()
    records = list(chain.records())
    assert [r.payload()["request_id"] for r in records] == [f"req-{n}" for n in range(500)]
    assert chain.verify().ok
    chain.close()


def test_emit_after_close_is_refused(tmp_path: Path) -> None:
    sink = ChainSink(SqliteChain(tmp_path / "audit.sqlite3"))
    sink.close()
    with pytest.raises(ChainError, match="closed"):
        sink.emit(event(1))


def test_a_failing_store_is_retried_and_nothing_is_lost() -> None:
    store = FlakyStore(failures=3)
    sink = ChainSink(store, retry_delays_s=(0.001,))
    for n in range(20):
        sink.emit(event(n))
    sink.close()
    assert [p["request_id"] for p in store.stored] == [f"req-{n}" for n in range(20)]
    assert sink.error is None


def test_a_store_that_keeps_failing_fails_closed() -> None:
    store = FlakyStore(failures=10**9)
    sink = ChainSink(store, retry_delays_s=(0.001,))
    sink.emit(event(1))
    deadline = time.monotonic() + 5
    while sink.error is None and time.monotonic() < deadline:
        time.sleep(0.001)
    with pytest.raises(ChainError, match="failing"):
        sink.emit(event(2))
    with pytest.raises(ChainError, match="1 audit event"):
        sink.close()


def test_a_full_queue_raises_instead_of_dropping() -> None:
    gate = threading.Event()
    sink = ChainSink(FlakyStore(gate=gate), max_queue=2, max_batch=1, put_timeout_s=0.05)
    with pytest.raises(ChainError, match="full"):
        for n in range(10):
            sink.emit(event(n))
    gate.set()
    sink.close()


def test_emit_is_cheap_on_the_request_path(tmp_path: Path) -> None:
    """The budget is 0.2 ms per request on average; emit costs microseconds."""
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain)
    events = [event(n) for n in range(2000)]
    start = time.perf_counter()
    for item in events:
        sink.emit(item)
    mean_ms = (time.perf_counter() - start) / len(events) * 1000
    sink.close()
    assert chain.verify().count == 2000
    chain.close()
    assert mean_ms < 0.2, f"emit took {mean_ms:.4f} ms on average"
