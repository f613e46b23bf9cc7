"""Client keys (kept only as SHA-256 digests) -> tenant; per-key token-bucket rate limits.

Keys are accepted as `Authorization: Bearer KEY` (OpenAI style) or `x-api-key: KEY`
(Anthropic style). The presented key is hashed and compared against every stored digest with
`hmac.compare_digest`, without an early exit, so timing does not tell which client matched.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from egressguard.gateway.problems import Rejected
from egressguard.gateway.settings import ClientSettings


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    tenant: str


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key from `Authorization: Bearer` or `x-api-key` in raw ASGI headers."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


class Authenticator:
    """Maps a presented key to its `Client`; 401 for a missing or unknown key."""

    def __init__(self, clients: Sequence[ClientSettings]) -> None:
        self._entries = tuple((c.key_sha256, Client(c.id, c.tenant)) for c in clients)

    def identify(self, headers: Iterable[tuple[bytes, bytes]]) -> Client:
        key = presented_key(headers)
        if key is None:
            raise Rejected(
                401, "missing_api_key", "no API key: send Authorization: Bearer KEY or x-api-key"
            )
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        found: Client | None = None
        for stored, client in self._entries:
            if hmac.compare_digest(stored, digest):
                found = client
        if found is None:
            raise Rejected(401, "invalid_api_key", "the API key is not valid for this gateway")
        return found


class RateLimiter:
    """One token bucket per client: `rate_per_minute` tokens, refilled continuously."""

    def __init__(
        self,
        default_rate: float,
        per_client: dict[str, float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default_rate
        self._rates = per_client
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client_id: str) -> None:
        """Spend one token or raise 429 with the seconds until the next one."""
        rate = self._rates.get(client_id, self._default)
        capacity = max(1.0, rate)
        now = self._clock()
        tokens, last = self._buckets.get(client_id, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate / 60.0)
        if tokens < 1.0:
            self._buckets[client_id] = (tokens, now)
            wait = math.ceil((1.0 - tokens) * 60.0 / rate)
            raise Rejected(
                429,
                "rate_limit_exceeded",
                f"rate limit of {rate:g} requests per minute exceeded; retry in {wait} s",
                retry_after=wait,
            )
        self._buckets[client_id] = (tokens - 1.0, now)
