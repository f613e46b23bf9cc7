"""What one exchange through the gateway records: metadata and digests, never raw data.

An ``AuditEvent`` holds identifiers from the configuration (tenant, client, upstream, region),
the route, per-category counts and actions, SHA-256 digests of the bodies as sent upstream and
as received, and outcome fields. Every string field is checked against a narrow character set
at construction, so a value taken from a request (an email, a prompt) cannot slip into the
trail by mistake; bodies only ever enter as ``body_digest(...)``.

Keyed digests: a plain SHA-256 of a small body can be brute-forced ("is this customer's e-mail
in that request?" is a few guesses). The trail therefore never stores the event's SHA-256; its
payload (``to_payload(event, key)``, event version 2) holds

    request_digest = HMAC-SHA-256(K, SHA-256(body))     (hex; the same for response_digest)

and ``digest_key``, the id of K (``DigestKey.id``, a digest of the key, not the key). K is a
per-deployment secret (``state_dir/audit.key``, 0600; see docs/gateway.md for rotation): without
it a digest tests nothing; with it an auditor checks a body with ``verify_body``. Without a key
the digests are left out of the payload (empty), never stored unkeyed.

The proxy emits events through an injected ``AuditSink`` and never imports a store.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol

EVENT_TYPE = "gateway.exchange"
EVENT_VERSION = 2  # 2: keyed digests and `digest_key`; 1: plain SHA-256 digests
_KEY_ID_LABEL = b"egressguard/audit-digest-key-id/v1"

# Configuration ids and routes: no '@', no spaces, no quotes.
_IDENT = re.compile(r"[A-Za-z0-9/][A-Za-z0-9._:/-]{0,127}")  # routes start with "/"
_ROUTE = re.compile(r"/?[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ACTION = frozenset({"allow", "tokenize", "mask", "block"})
_ERROR = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def body_digest(body: bytes) -> str:
    """SHA-256 hex of a body exactly as sent or received."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class DigestKey:
    """The deployment's audit-digest key (at least 16 bytes); ``id`` names it in records."""

    secret: bytes = field(repr=False)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the audit digest key must be at least 16 bytes")
        kid = hashlib.sha256(_KEY_ID_LABEL + self.secret).hexdigest()[:16]
        object.__setattr__(self, "id", kid)

    def keyed(self, sha256_hex: str) -> str:
        """HMAC-SHA-256(key, SHA-256 digest bytes) as hex; "" stays "" (no body)."""
        if not sha256_hex:
            return ""
        _check(_DIGEST, sha256_hex, "digest")
        return hmac.new(self.secret, bytes.fromhex(sha256_hex), hashlib.sha256).hexdigest()


def verify_body(key: DigestKey, body: bytes, recorded: str) -> bool:
    """Whether ``body`` (exactly as sent or received) has the keyed digest ``recorded``."""
    return hmac.compare_digest(key.keyed(body_digest(body)), recorded)


def _check(pattern: re.Pattern[str], value: str, name: str, *, empty_ok: bool = False) -> None:
    if empty_ok and value == "":
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"audit event: {name} must match {pattern.pattern}")


def _frozen_counts(raw: Mapping[str, int]) -> Mapping[str, int]:
    for category, count in raw.items():
        _check(_CATEGORY, category, "category")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"audit event: count of {category} must be a non-negative int")
    return MappingProxyType(dict(sorted(raw.items())))


def _frozen_actions(raw: Mapping[str, str]) -> Mapping[str, str]:
    for category, action in raw.items():
        _check(_CATEGORY, category, "category")
        if action not in _ACTION:
            raise ValueError(f"audit event: action of {category} must be one of {sorted(_ACTION)}")
    return MappingProxyType(dict(sorted(raw.items())))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One exchange (see the module docstring). ``ts`` is converted to UTC."""

    ts: datetime
    tenant: str
    client: str
    route: str
    upstream: str
    region: str
    request_id: str
    categories: Mapping[str, int] = field(default_factory=dict)
    actions: Mapping[str, str] = field(default_factory=dict)
    request_digest: str = ""
    response_digest: str = ""
    status: int = 0
    latency_ms: float = 0.0
    stream: bool = False
    error: str = ""

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None or self.ts.utcoffset() is None:
            raise ValueError("audit event: ts must be timezone-aware")
        object.__setattr__(self, "ts", self.ts.astimezone(UTC))
        for name in ("tenant", "client", "request_id"):
            _check(_IDENT, getattr(self, name), name)
        _check(_ROUTE, self.route, "route")
        for name in ("upstream", "region"):  # empty: blocked before routing
            _check(_IDENT, getattr(self, name), name, empty_ok=True)
        _check(_DIGEST, self.request_digest, "request_digest", empty_ok=True)
        _check(_DIGEST, self.response_digest, "response_digest", empty_ok=True)
        _check(_ERROR, self.error, "error", empty_ok=True)
        if not 0 <= self.status <= 599 or isinstance(self.status, bool):
            raise ValueError("audit event: status must be an HTTP status (0: none)")
        if not (math.isfinite(self.latency_ms) and self.latency_ms >= 0):
            raise ValueError("audit event: latency_ms must be >= 0")
        object.__setattr__(self, "categories", _frozen_counts(self.categories))
        object.__setattr__(self, "actions", _frozen_actions(self.actions))


def to_payload(event: AuditEvent, key: DigestKey | None = None) -> dict[str, Any]:
    """The chain payload of an event: JSON types only, floats rounded to microseconds, body
    digests keyed with ``key`` (left empty without one)."""
    return {
        "type": EVENT_TYPE,
        "ev": EVENT_VERSION,
        "ts": event.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tenant": event.tenant,
        "client": event.client,
        "route": event.route,
        "upstream": event.upstream,
        "region": event.region,
        "categories": dict(event.categories),
        "actions": dict(event.actions),
        "request_digest": key.keyed(event.request_digest) if key else "",
        "response_digest": key.keyed(event.response_digest) if key else "",
        "digest_key": key.id if key else "",
        "status": event.status,
        "latency_ms": round(float(event.latency_ms), 3),
        "stream": event.stream,
        "error": event.error,
        "request_id": event.request_id,
    }


class AuditSink(Protocol):
    """Where the proxy sends events, once per exchange, before the answer's last byte.

    A durable sink (the gateway's ``ChainSink``) returns once the event is committed; a queued
    one only once it is queued. ``emit`` may raise ``ChainError`` when the store has failed (or
    a queue stays full): the trail fails closed rather than dropping events silently.
    """

    def emit(self, event: AuditEvent) -> None: ...
