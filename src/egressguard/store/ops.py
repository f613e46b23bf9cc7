"""Audit-chain operations the CLI calls (``egressguard audit-log verify`` / ``export``).

They return values and raise ``ChainError``; they never print.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from egressguard.store.backend import ChainStore
from egressguard.store.chain import VerifyReport, verify
from egressguard.store.export import (
    ExportFormat,
    SyslogTarget,
    SyslogTcpSink,
    read_jsonl,
    write_records,
)
from egressguard.store.sqlite import SqliteChain


@contextmanager
def _reading(source: Path | ChainStore) -> Iterator[ChainStore]:
    """A SQLite file opened read-only (and closed), or an open store (e.g. PostgreSQL) as is."""
    if not isinstance(source, Path):
        yield source
        return
    with SqliteChain(source, readonly=True) as chain:
        yield chain


def verify_chain(path: Path) -> VerifyReport:
    """Verify the chain in ``path`` read-only (a missing file is a ``ChainError``)."""
    with SqliteChain(path, readonly=True) as chain:
        return chain.verify()


def verify_jsonl(path: Path, *, anchor: tuple[int, str] | None = None) -> VerifyReport:
    """Verify a JSON-lines export (it must start at record 1)."""
    with path.open(encoding="utf-8") as handle:
        return verify(read_jsonl(handle), anchor=anchor)


def export_chain(
    source: Path | ChainStore,
    fmt: ExportFormat | str,
    out: IO[bytes],
    *,
    tenant: str | None = None,
    since_seq: int = 0,
    hostname: str = "-",
) -> int:
    """Write the chain (a SQLite file or an open store), or one tenant's records after
    ``since_seq``, to ``out``; the count."""
    with _reading(source) as chain:
        records = chain.records(tenant=tenant, since_seq=since_seq)
        return write_records(records, ExportFormat(fmt), out, hostname=hostname)


def send_chain_syslog(
    source: Path | ChainStore,
    target: SyslogTarget,
    *,
    tenant: str | None = None,
    since_seq: int = 0,
    hostname: str = "-",
) -> int:
    """Send the chain's records to a syslog collector (TCP or TLS); the count sent."""
    count = 0
    with (
        _reading(source) as chain,
        SyslogTcpSink(target, hostname=hostname) as sink,
    ):
        for record in chain.records(tenant=tenant, since_seq=since_seq):
            sink.send(record)
            count += 1
    return count
