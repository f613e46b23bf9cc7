"""The seam between the proxy (`app.py`) and the data protection (`protect.py`).

The proxy knows HTTP, routing and streaming; a `Protector` knows what to redact and how to
restore. Everything here is per request: a `StreamRewriter` holds the hold-back state of one
streamed answer and is thrown away with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Lookup = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class Redaction:
    """A request body after the policy's actions, and what was found in it."""

    body: dict[str, Any]
    counts: Mapping[str, int]  # category -> number of detected values
    actions: Mapping[str, str]  # category -> action taken
    blocked: tuple[str, ...]  # categories whose action is `block` (nothing is sent)
    lookup: Lookup  # token -> original value, for this request's tenant only
    known: frozenset[str] = frozenset()  # tokens issued for this request (stream hold-back)


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """Metadata of one exchange for the audit trail: never a raw value or body."""

    ts: float
    request_id: str  # 32 hex digits, also sent to the client as x-egressguard-request-id
    tenant: str
    client: str
    route: str
    method: str
    model: str | None
    stream: bool
    upstream: str | None
    region: str | None
    counts: Mapping[str, int]
    actions: Mapping[str, str]
    request_sha256: str | None  # digest of the body as sent upstream (already redacted)
    response_sha256: str | None  # digest of the body as received from upstream (tokenised)
    status: int
    outcome: str  # ok | blocked | rejected | upstream_timeout | upstream_unavailable | ...
    latency_ms: float
    overhead_ms: float
    attempts: int = 0
    error: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


class StreamRewriter(Protocol):
    """Restores tokens in one SSE stream; each returned item is one encoded SSE event."""

    def feed(self, chunk: bytes) -> list[bytes]: ...

    def close(self) -> list[bytes]: ...


class Protector(Protocol):
    def redact(
        self, route: str, body: dict[str, Any], *, tenant: str, conversation_header: str | None
    ) -> Redaction: ...

    def restore_json(self, route: str, body: Any, redaction: Redaction) -> Any: ...

    def restore_text(self, text: str, redaction: Redaction) -> str: ...

    def stream_rewriter(self, route: str, redaction: Redaction) -> StreamRewriter: ...

    def record(self, record: ExchangeRecord) -> None:
        """Hand the record to the audit sink (cheap and synchronous)."""
        ...

    def health(self) -> dict[str, str]:
        """Each store's state, "ok" or "unavailable" (may block: run it in a thread)."""
        ...

    def caches(self) -> dict[str, tuple[int, int, int, int]]:
        """Per cache of long texts: (hits, misses, stale hits, entries), for `/metrics`."""
        ...
