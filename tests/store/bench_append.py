"""Measure the audit chain's cost: ``python -m tests.store.bench_append [DIR]``.

Prints the latency of one synchronous append (what a request would pay without the sink), the
per-record cost of batched appends (what ChainSink's worker pays), the cost of
``ChainSink.emit`` (what a request pays), sink throughput end to end, and verify speed.
DIR (default: a temporary directory) should be on the disk the state directory will use:
``synchronous=FULL`` makes every commit an fsync.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from egressguard.gateway.audit_events import AuditEvent
from egressguard.store.sink import ChainSink
from egressguard.store.sqlite import SqliteChain


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC),
        tenant="shop1",
        client="magento",
        route="/v1/chat/completions",
        upstream="local-llm",
        region="local",
        request_id=f"req-{n}",
        status=200,
        categories={"email": 2, "phone": 1},
        actions={"email": "tokenize", "phone": "mask"},
        request_digest="a" * 64,
        response_digest="b" * 64,
        latency_ms=1.5,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main(directory: Path) -> None:
    from egressguard.gateway.audit_events import to_payload

    payload = to_payload(_event(0))
    with SqliteChain(directory / "single.sqlite3") as chain:
        samples = []
        for _ in range(2000):
            start = time.perf_counter()
            chain.append(payload)
            samples.append(time.perf_counter() - start)
        samples.sort()
        print(
            f"synchronous append: mean {_ms(statistics.fmean(samples))}, "
            f"p50 {_ms(samples[1000])}, p99 {_ms(samples[1980])}"
        )
    with SqliteChain(directory / "batch.sqlite3") as chain:
        start = time.perf_counter()
        for _ in range(100):
            chain.append_many([payload] * 100)
        print(f"batched append (100/txn): {_ms((time.perf_counter() - start) / 10_000)} per record")
    with SqliteChain(directory / "sink.sqlite3") as chain:
        sink = ChainSink(chain)
        events = [_event(n) for n in range(20_000)]
        start = time.perf_counter()
        emit_samples = []
        for event in events:
            t = time.perf_counter()
            sink.emit(event)
            emit_samples.append(time.perf_counter() - t)
        sink.close()
        total = time.perf_counter() - start
        emit_samples.sort()
        print(
            f"ChainSink.emit: mean {_ms(statistics.fmean(emit_samples))}, "
            f"p99 {_ms(emit_samples[19_800])}, max {_ms(emit_samples[-1])}"
        )
        print(f"ChainSink end to end: {len(events) / total:,.0f} records/s (emit + drain)")
        start = time.perf_counter()
        report = chain.verify()
        elapsed = time.perf_counter() - start
        print(
            f"verify: {report.count:,} records in {_ms(elapsed)} "
            f"({report.count / elapsed:,.0f} records/s), ok={report.ok}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
