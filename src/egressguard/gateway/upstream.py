"""httpx client per declared upstream, the upstream-error seam, retries and fallback.

Exceptions from httpx are translated in exactly one place (`upstream_errors`):
connect failures -> `UpstreamConnectError` (safe to retry: nothing reached the upstream),
timeouts -> `UpstreamTimeout` (504), any other transport failure -> `UpstreamUnavailable` (502).
Retries with exponential backoff happen only for idempotent failures: a connect error, or a
502/503/504 status before any body byte was read. The next upstream of the fallback chain is
tried on a connect error or a 5xx before anything was streamed. Callers must `aclose()` the
response they get (streams are never left open).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from egressguard.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from egressguard.gateway.settings import UpstreamSettings

RETRY_STATUSES = frozenset({502, 503, 504})
FORWARDED_HEADERS = frozenset(
    {"accept", "anthropic-version", "anthropic-beta", "openai-beta", "user-agent"}
)


class UpstreamConnectError(UpstreamUnavailable):
    """The connection could not be made; nothing reached the upstream."""


@contextmanager
def upstream_errors(upstream_id: str) -> Iterator[None]:
    """The one seam where httpx exceptions become `UpstreamError` subclasses."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise UpstreamConnectError(f"upstream {upstream_id}: cannot connect ({exc!r})") from exc
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"upstream {upstream_id}: no answer in time") from exc
    except (httpx.TransportError, httpx.StreamError) as exc:
        raise UpstreamUnavailable(f"upstream {upstream_id}: connection broke ({exc!r})") from exc


@dataclass(slots=True)
class Opened:
    """A response whose headers arrived; the body is still unread."""

    upstream: UpstreamSettings
    response: httpx.Response
    attempts: int

    async def chunks(self) -> AsyncIterator[bytes]:
        with upstream_errors(self.upstream.id):
            async for chunk in self.response.aiter_raw():
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

    async def aclose(self) -> None:
        await self.response.aclose()


def _verify(up: UpstreamSettings) -> ssl.SSLContext | bool:
    if up.ca_bundle is None:
        return True
    return ssl.create_default_context(cafile=str(up.ca_bundle))


class UpstreamClient:
    """One pooled `httpx.AsyncClient` per declared upstream; `aclose()` on shutdown."""

    def __init__(self, upstreams: Sequence[UpstreamSettings], *, backoff_s: float = 0.05) -> None:
        self._backoff = backoff_s
        # httpx's transport layer, without the client layer: the gateway needs no cookies,
        # redirects, auth flows or URL merging, and that layer cost about a third of the
        # upstream call's CPU time in the latency profile.
        self._transports = {
            up.id: httpx.AsyncHTTPTransport(
                verify=_verify(up),
                trust_env=False,  # never a proxy or CA taken from the environment
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
                retries=0,  # retries are ours (idempotent failures only)
            )
            for up in upstreams
        }
        self._timeouts = {
            up.id: httpx.Timeout(up.timeout_s, connect=up.connect_timeout_s).as_dict()
            for up in upstreams
        }
        self._urls: dict[tuple[str, str], httpx.URL] = {}

    async def aclose(self) -> None:
        for transport in self._transports.values():
            await transport.aclose()

    def url(self, up: UpstreamSettings, route: str) -> httpx.URL:
        """`/v1/chat/completions` on base `http://h/v1` -> `http://h/v1/chat/completions`."""
        key = (up.id, route)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = httpx.URL(up.base_url + route.removeprefix("/v1"))
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
    ) -> httpx.Response:
        """Send one request; the response body is left unread (stream mode)."""
        request = httpx.Request(
            method,
            self.url(up, route),
            content=body,
            headers=self._headers(up, client_headers),
            extensions={"timeout": self._timeouts[up.id]},
        )
        with upstream_errors(up.id):
            response = await self._transports[up.id].handle_async_request(request)
        response.request = request
        return response

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
                    response = await self.open(up, method, route, body, client_headers)
                except UpstreamConnectError as exc:
                    last_error = exc
                    continue
                retry = response.status_code in RETRY_STATUSES and attempt < up.retries
                fall_through = response.status_code >= 500 and not is_last
                if not retry and not fall_through:
                    return Opened(up, response, attempts)
                await response.aclose()
                last_error = UpstreamUnavailable(f"upstream {up.id}: HTTP {response.status_code}")
                if not retry:
                    break
        assert last_error is not None  # candidates is never empty (the router refuses that)
        raise last_error
