"""What every audit-chain backend provides (SQLite now, PostgreSQL in issue 7).

A backend must:
- take its write lock *before* reading the head (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
  ``pg_advisory_xact_lock``), so two writers can never link to the same head;
- enforce ``UNIQUE(seq)`` and ``UNIQUE(prev_hash)`` so a fork cannot even be stored;
- refuse UPDATE and DELETE in the database itself (triggers), not only in this code;
- store the payload's canonical JSON text unchanged (never a re-encoding type like ``jsonb``).

``tests/store/test_chain_contract.py`` runs the same suite against every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from egressguard.store.chain import Record, VerifyReport


class ChainStore(Protocol):
    """An append-only, hash-chained record store."""

    def append(self, payload: Mapping[str, Any]) -> Record:
        """Link one payload to the head, durably; return the stored record."""
        ...

    def append_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Link several payloads in order, in one transaction."""
        ...

    def records(self, tenant: str | None = None, since_seq: int = 0) -> Iterator[Record]:
        """Stored records in ``seq`` order, optionally one tenant's, after ``since_seq``."""
        ...

    def head(self) -> Record | None:
        """The last record, or ``None`` for an empty chain."""
        ...

    def verify(self) -> VerifyReport:
        """``chain.verify`` over every stored record."""
        ...

    def sync(self) -> None:
        """Make committed records survive a power loss (a no-op where a commit already
        does)."""
        ...

    def close(self) -> None: ...
