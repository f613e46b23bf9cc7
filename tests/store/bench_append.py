"""Measure the audit chain's cost: ``python -m tests.store.bench_append [DIR]``.

Prints the latency of one synchronous append with ``synchronous=NORMAL`` (a WAL commit, what
the gateway's durable sink pays per request) and ``FULL`` (an fsync per commit), the per-record
cost of batched appends, the cost of ``ChainSink.emit`` in both modes (durable: committed
before it returns; queued: a worker thread writes later), sink throughput end to end, and
verify speed. DIR (default: a temporary directory) should be on the disk the state directory
will use.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from egressguard.gateway.audit_events import AuditEvent, DigestKey
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

    key = DigestKey(b"bench-audit-digest-key-32-bytes!")
    payload = to_payload(_event(0), key)
    for mode in ("NORMAL", "FULL"):
        with SqliteChain(directory / f"single-{mode}.sqlite3", synchronous=mode) as chain:
            samples = []
            for _ in range(2000):
                start = time.perf_counter()
                chain.append(payload)
                samples.append(time.perf_counter() - start)
            samples.sort()
            print(
                f"one append, synchronous={mode}: mean {_ms(statistics.fmean(samples))}, "
                f"p50 {_ms(samples[1000])}, p99 {_ms(samples[1980])}"
            )
    with SqliteChain(directory / "batch.sqlite3") as chain:
        start = time.perf_counter()
        for _ in range(100):
            chain.append_many([payload] * 100)
        print(f"batched append (100/txn): {_ms((time.perf_counter() - start) / 10_000)} per record")
    for durable in (True, False):
        name = "durable" if durable else "queued"
        with SqliteChain(directory / f"sink-{name}.sqlite3") as chain:
            sink = ChainSink(chain, digest_key=key, durable=durable)
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
                f"ChainSink.emit ({name}): mean {_ms(statistics.fmean(emit_samples))}, "
                f"p50 {_ms(emit_samples[10_000])}, p99 {_ms(emit_samples[19_800])}, "
                f"max {_ms(emit_samples[-1])}; {len(events) / total:,.0f} records/s end to end"
            )
    with SqliteChain(directory / "sink-durable.sqlite3") as chain:
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
