"""aiohttp client per declared upstream, the upstream-error seam, retries and fallback.

Exceptions from aiohttp are translated in exactly one place (`upstream_errors`):
connect failures and connect timeouts -> `UpstreamConnectError` (safe to retry: nothing reached
the upstream), read timeouts -> `UpstreamTimeout` (504), any other client failure ->
`UpstreamUnavailable` (502). Retries with exponential backoff happen only for idempotent
failures: a connect error, or a 502/503/504 status before any body byte was read. The next
upstream of the fallback chain is tried on a connect error or a 5xx before anything was
streamed. Callers must `aclose()` what they opened (streams are never left open).

Why aiohttp and not httpx: on the 2-core benchmark machine one upstream call cost ~1 ms of CPU
through httpx's transport (httpcore + anyio + h11, all pure Python) and ~0.3 ms through
aiohttp (C HTTP parser, one write per request); see docs/gateway-architecture.md.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from egressguard.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from egressguard.gateway.settings import UpstreamSettings

RETRY_STATUSES = frozenset({502, 503, 504})
FORWARDED_HEADERS = frozenset(
    {"accept", "anthropic-version", "anthropic-beta", "openai-beta", "user-agent"}
)
MAX_CONNECTIONS = 256  # per upstream


class UpstreamConnectError(UpstreamUnavailable):
    """The connection could not be made; nothing reached the upstream."""


@contextmanager
def upstream_errors(upstream_id: str) -> Iterator[None]:
    """The one seam where aiohttp exceptions become `UpstreamError` subclasses."""
    try:
        yield
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        raise UpstreamConnectError(f"upstream {upstream_id}: cannot connect ({exc!r})") from exc
    except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
        raise UpstreamTimeout(f"upstream {upstream_id}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"upstream {upstream_id}: connection broke ({exc!r})") from exc


@dataclass(slots=True)
class Opened:
    """A response whose headers arrived; the body is still unread."""

    upstream: UpstreamSettings
    response: aiohttp.ClientResponse
    attempts: int = 1

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self.response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (raw bytes: transfer framing removed, nothing decoded)."""
        with upstream_errors(self.upstream.id):
            async for chunk in self.response.content.iter_any():
                yield chunk

    async def read(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise UpstreamUnavailable(
                    f"upstream {self.upstream.id}: response larger than {limit} bytes"
                )
            parts.append(chunk)
        return b"".join(parts)

    def abort(self) -> None:
        """Close the connection now: a pending read of the body fails (the client left)."""
        self.response.close()

    async def aclose(self) -> None:
        """Back to the pool when the body was read to its end, else the connection is closed."""
        if self.response.content.at_eof():
            self.response.release()
        else:
            self.response.close()


def _ssl(up: UpstreamSettings) -> ssl.SSLContext | bool:
    """Verify against the system's CAs, or only against the configured bundle."""
    if up.ca_bundle is None:
        return True
    return ssl.create_default_context(cafile=str(up.ca_bundle))


class UpstreamClient:
    """One pooled `aiohttp.ClientSession` per declared upstream; `aclose()` on shutdown.

    Sessions are made on first use, inside the running event loop (aiohttp binds them to it),
    and made anew if the app is later driven by another loop (raw-ASGI tests do that).
    """

    def __init__(self, upstreams: Sequence[UpstreamSettings], *, backoff_s: float = 0.05) -> None:
        self._backoff = backoff_s
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts = {
            up.id: aiohttp.ClientTimeout(
                total=None,
                # waiting for a pooled connection and connecting: bounded like httpx's pool
                # timeout plus its connect timeout
                connect=up.timeout_s + up.connect_timeout_s,
                sock_connect=up.connect_timeout_s,
                sock_read=up.timeout_s,  # each read, the response head included
            )
            for up in upstreams
        }
        self._urls: dict[tuple[str, str], URL] = {}

    async def aclose(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def _session(self, up: UpstreamSettings) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new loop: the old sessions are dead
            self._sessions, self._loop = {}, loop
        session = self._sessions.get(up.id)
        if session is None:
            session = self._sessions[up.id] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=_ssl(up), limit=MAX_CONNECTIONS),
                timeout=self._timeouts[up.id],
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # bodies are restored as text: we ask for identity
                trust_env=False,  # never a proxy or CA taken from the environment
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )
        return session

    def url(self, up: UpstreamSettings, route: str) -> URL:
        """`/v1/chat/completions` on base `http://h/v1` -> `http://h/v1/chat/completions`."""
        key = (up.id, route)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = URL(up.base_url + route.removeprefix("/v1"))
        return found

    def _headers(self, up: UpstreamSettings, client_headers: Mapping[str, str]) -> dict[str, str]:
        headers = {k: v for k, v in client_headers.items() if k in FORWARDED_HEADERS}
        headers["content-type"] = "application/json"
        headers["accept-encoding"] = "identity"  # bodies are restored as text: no compression
        if up.kind == "anthropic":
            headers.setdefault("anthropic-version", "2023-06-01")
            if up.api_key:
                headers["x-api-key"] = up.api_key
        elif up.api_key:
            headers["authorization"] = f"Bearer {up.api_key}"
        return headers

    async def open(
        self,
        up: UpstreamSettings,
        method: str,
        route: str,
        body: bytes | None,
        client_headers: Mapping[str, str],
    ) -> Opened:
        """Send one request; the response body is left unread. Redirects are not followed."""
        session = self._session(up)
        with upstream_errors(up.id):
            response = await session.request(
                method,
                self.url(up, route),
                data=body,
                headers=self._headers(up, client_headers),
                allow_redirects=False,
            )
        return Opened(up, response)

    async def open_first(
        self,
        candidates: Sequence[UpstreamSettings],
        method: str,
        route: str,
        body: bytes | None,
        client_headers: Mapping[str, str],
    ) -> Opened:
        """The first usable response along the fallback chain, with retries per upstream.

        A 5xx that survives its retries is returned only from the last candidate, so the
        client sees the upstream's own error when nothing else worked.
        """
        attempts = 0
        last_error: UpstreamError | None = None
        for index, up in enumerate(candidates):
            is_last = index == len(candidates) - 1
            for attempt in range(up.retries + 1):
                attempts += 1
                if attempt:
                    await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
                try:
                    opened = await self.open(up, method, route, body, client_headers)
                except UpstreamConnectError as exc:
                    last_error = exc
                    continue
                status = opened.status
                retry = status in RETRY_STATUSES and attempt < up.retries
                fall_through = status >= 500 and not is_last
                if not retry and not fall_through:
                    opened.attempts = attempts
                    return opened
                await opened.aclose()
                last_error = UpstreamUnavailable(f"upstream {up.id}: HTTP {status}")
                if not retry:
                    break
        assert last_error is not None  # candidates is never empty (the router refuses that)
        raise last_error
