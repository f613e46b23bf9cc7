"""One proxied exchange as pure ASGI: auth -> body -> redact -> route -> upstream -> restore.

`http.response.start` is held back until the body decision is made: a JSON answer is read,
restored and sent with a fresh Content-Length; an SSE answer is parsed and restored event by
event, and the complete events of each upstream read go out at once as one
`http.response.body` (`more_body=True`), with no Content-Length: nothing waits for a later read,
and a burst of events is one socket write instead of one per event. Upstream responses are
always closed. All mutable state lives in the per-request `_Call`; the shared `GatewayContext`
is read-only apart from the rate-limit buckets and the metrics.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from egressguard.errors import ChainError, UpstreamError, UpstreamTimeout, VaultError
from egressguard.gateway.auth import Authenticator, Client, RateLimiter
from egressguard.gateway.exchange import ExchangeRecord, Protector, Redaction
from egressguard.gateway.metrics import GatewayMetrics
from egressguard.gateway.policy import Policy
from egressguard.gateway.problems import (
    Problem,
    Rejected,
    error_body,
    sse_error_event,
    upstream_problem,
)
from egressguard.gateway.routing import Router, route_kind
from egressguard.gateway.settings import GatewaySettings
from egressguard.gateway.upstream import Opened, UpstreamClient

OVERHEAD_HEADER = b"x-egressguard-overhead-ms"
REQUEST_ID_HEADER = b"x-egressguard-request-id"
ANONYMOUS = "anonymous"  # tenant and client of a request without a valid key
# Request ids: a random per-process prefix and a counter (uuid4 reads the kernel's entropy on
# every call, which showed up in the latency profile).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)
CONVERSATION_HEADER = "x-egressguard-conversation"
PASSED_RESPONSE_HEADERS = frozenset(
    {"x-request-id", "request-id", "retry-after", "openai-processing-ms", "openai-version"}
)


@dataclass(slots=True)
class GatewayContext:
    """What every request shares (built once by `build_app`)."""

    settings: GatewaySettings
    policy: Policy
    auth: Authenticator
    limiter: RateLimiter
    router: Router
    upstreams: UpstreamClient
    protector: Protector
    metrics: GatewayMetrics
    clock: Callable[[], float] = time.perf_counter


def check_client(ctx: GatewayContext, headers: list[tuple[bytes, bytes]], route: str) -> Client:
    """Auth (401), route permission (403) and rate limit (429), in that order."""
    client = ctx.auth.identify(headers)
    if not ctx.policy.route_allowed(client.tenant, route):
        raise Rejected(403, "route_not_allowed", f"tenant {client.tenant} may not call {route}")
    ctx.limiter.take(client.id)
    return client


class ProxyEndpoint:
    """The ASGI app behind one POST route."""

    def __init__(self, ctx: GatewayContext, route: str) -> None:
        self.ctx = ctx
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _Call(self.ctx, self.route, scope, send).run(receive)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Call:
    def __init__(self, ctx: GatewayContext, route: str, scope: Scope, send: Send) -> None:
        self.ctx, self.route, self.scope, self._send = ctx, route, scope, send
        self.anthropic = route_kind(route) == "anthropic"
        self.t0 = ctx.clock()
        self.wall = time.time()
        self.request_id = f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"
        self.pre_s = 0.0  # gateway time before the upstream request went out
        self.post_s = 0.0  # gateway time between upstream bytes and the client's first byte
        self.started = False
        self.recorded = False  # the audit record went to the sink (once, before the last byte)
        self.status = 500
        self.outcome = "ok"
        self.error: str | None = None
        self.client: Client | None = None
        self.model: str | None = None
        self.stream = False
        self.redaction: Redaction | None = None
        self.opened: Opened | None = None
        self.request_digest: str | None = None
        self.response_digest: str | None = None
        self.start_headers: list[tuple[bytes, bytes]] = []

    # --- the flow ---------------------------------------------------------------------------

    async def run(self, receive: Receive) -> None:
        try:
            payload = await self._prepare(receive)
            self.pre_s = self.ctx.clock() - self.t0
            self.opened = await self._open(payload)
            try:
                await self._respond(self.opened, receive)
            finally:
                await self.opened.aclose()
        except Rejected as exc:
            await self._fail(exc.problem)
        except UpstreamError as exc:
            self._note_upstream_error(exc)
            await self._fail(upstream_problem(exc))
        except VaultError as exc:  # nothing was sent: tokens must be stored before they leave
            self.outcome = "vault_error"
            await self._fail(Problem(500, "vault_error", f"token vault: {exc}", "server_error"))
        finally:
            self._finish()

    async def _prepare(self, receive: Receive) -> bytes:
        headers: list[tuple[bytes, bytes]] = self.scope["headers"]
        self.client = check_client(self.ctx, headers, self.route)
        body = _parse_json(
            await _read_body(receive, headers, self.ctx.settings.limits.max_body_bytes)
        )
        model = body.get("model")
        self.model = model if isinstance(model, str) else None
        self.stream = body.get("stream") is True
        if not self.ctx.policy.model_allowed(self.client.tenant, self.model):
            raise Rejected(
                403,
                "model_not_allowed",
                f"tenant {self.client.tenant} may not use model {self.model}",
            )
        redaction = self.ctx.protector.redact(
            self.route,
            body,
            tenant=self.client.tenant,
            conversation_header=_header(headers, CONVERSATION_HEADER),
        )
        self.redaction = redaction
        if redaction.blocked:
            self.outcome = "blocked"
            for cat in redaction.blocked:
                self.ctx.metrics.blocked.inc(cat)
            names = ", ".join(sorted(redaction.blocked))
            raise Rejected(
                400, "blocked_by_policy", f"request blocked by policy: it contains {names}"
            )
        payload = orjson.dumps(redaction.body)  # compact UTF-8, as json.dumps(ensure_ascii=False)
        self.request_digest = hashlib.sha256(payload).hexdigest()
        return payload

    async def _open(self, payload: bytes) -> Opened:
        assert self.client is not None and self.redaction is not None
        candidates = self.ctx.router.candidates(
            self.client.tenant, self.route, self.redaction.counts.keys()
        )
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.scope["headers"]}
        opened = await self.ctx.upstreams.open_first(
            candidates, "POST", self.route, payload, headers
        )
        if opened.attempts > 1:
            self.ctx.metrics.fallbacks.inc(self.route, amount=opened.attempts - 1)
        return opened

    async def _respond(self, opened: Opened, receive: Receive) -> None:
        self.status = opened.status
        self.start_headers = _response_headers(opened.headers)
        content_type = opened.headers.get("content-type", "")
        if content_type.startswith("text/event-stream"):
            await self._respond_stream(opened, receive)
        else:
            await self._respond_body(opened, content_type)

    async def _respond_body(self, opened: Opened, content_type: str) -> None:
        raw = await opened.read(self.ctx.settings.limits.max_response_bytes)
        t = self.ctx.clock()
        self.response_digest = hashlib.sha256(raw).hexdigest()
        out = self._restore_body(raw, content_type)
        self.start_headers.append((b"content-length", str(len(out)).encode()))
        self.post_s = self.ctx.clock() - t
        await self._body(out, more=False)

    def _restore_body(self, raw: bytes, content_type: str) -> bytes:
        assert self.redaction is not None
        red = self.redaction
        if "json" in content_type:
            try:
                doc = orjson.loads(raw)
            except ValueError:  # orjson.JSONDecodeError is one
                doc = None
            if doc is not None:
                restored = self.ctx.protector.restore_json(self.route, doc, red)
                return orjson.dumps(restored)
        if "json" in content_type or content_type.startswith("text/"):
            text = raw.decode("utf-8", errors="replace")
            return self.ctx.protector.restore_text(text, red).encode()
        return raw

    async def _respond_stream(self, opened: Opened, receive: Receive) -> None:
        assert self.redaction is not None
        rewriter = self.ctx.protector.stream_rewriter(self.route, self.redaction)
        self.start_headers.append((b"cache-control", b"no-cache"))
        digest = hashlib.sha256()
        watcher = asyncio.ensure_future(_wait_disconnect(receive))
        # The client leaving closes the upstream connection, which ends a pending read: no
        # race of two futures per chunk (that cost ~25 us of CPU per streamed chunk).
        watcher.add_done_callback(lambda w: None if w.cancelled() else opened.abort())
        try:
            async for chunk in opened.chunks():
                digest.update(chunk)
                t = self.ctx.clock()
                events = rewriter.feed(chunk)
                if not self.started:
                    self.post_s += self.ctx.clock() - t
                if events:
                    await self._body(b"".join(events), more=True)
            if watcher.done():  # the client left: stop reading, close the upstream stream
                self.outcome = "client_disconnected"
                self.status = 499 if self.started else self.status
                return
            tail = rewriter.close()
            if tail:
                await self._body(b"".join(tail), more=True)
            self.response_digest = digest.hexdigest()
            await self._body(b"", more=False)
        except UpstreamError as exc:
            if watcher.done() and not watcher.cancelled():  # we hung up: the client left
                self.outcome = "client_disconnected"
                self.status = 499 if self.started else self.status
                return
            if not self.started:
                raise  # nothing went out yet: the caller answers with a JSON error
            self._note_upstream_error(exc, mid_stream=True)
            self.status = upstream_problem(exc).status
            event = sse_error_event(upstream_problem(exc), anthropic=self.anthropic)
            self.response_digest = digest.hexdigest()
            self._record()
            await self._send({"type": "http.response.body", "body": event, "more_body": False})
        finally:
            watcher.cancel()
            self.response_digest = digest.hexdigest()

    # --- sending ------------------------------------------------------------------------------

    async def _body(self, data: bytes, *, more: bool) -> None:
        if not more:  # the audit sink stores the record before the answer's last byte
            self._record()
        if not self.started:
            overhead = (self.pre_s + self.post_s) * 1000.0
            self.start_headers.append((OVERHEAD_HEADER, f"{overhead:.3f}".encode()))
            self.start_headers.append((REQUEST_ID_HEADER, self.request_id.encode()))
            await self._send(
                {
                    "type": "http.response.start",
                    "status": self.status,
                    "headers": self.start_headers,
                }
            )
            self.started = True
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def _fail(self, problem: Problem) -> None:
        self.status = problem.status
        if self.outcome == "ok":
            self.outcome = problem.code
        self.error = problem.message
        if self.started:  # only reachable for a broken JSON body after start: nothing to add
            return
        body = error_body(problem, anthropic=self.anthropic)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if problem.retry_after is not None:
            headers.append((b"retry-after", str(problem.retry_after).encode()))
        self.start_headers = headers
        await self._body(body, more=False)

    def _note_upstream_error(self, exc: UpstreamError, *, mid_stream: bool = False) -> None:
        kind = "timeout" if isinstance(exc, UpstreamTimeout) else "unavailable"
        self.outcome = f"upstream_{kind}" + ("_mid_stream" if mid_stream else "")
        self.error = str(exc)
        upstream = self.opened.upstream.id if self.opened else "-"
        self.ctx.metrics.upstream_errors.inc(upstream, kind + ("_mid_stream" if mid_stream else ""))

    # --- bookkeeping --------------------------------------------------------------------------

    def _finish(self) -> None:
        latency = self.ctx.clock() - self.t0
        overhead = self.pre_s + self.post_s
        m = self.ctx.metrics
        up = self.opened.upstream if self.opened else None
        m.requests.inc(self.route, up.id if up else "-", str(self.status))
        m.duration.observe(latency, self.route)
        if up is not None:
            m.overhead.observe(overhead, self.route)
        red = self.redaction
        if red is not None:
            for cat, n in red.counts.items():
                m.detections.inc(cat, red.actions.get(cat, "?"), amount=n)
        self._record()  # an answer without a last byte (the client left): recorded now

    def _record(self) -> None:
        if self.recorded:
            return
        self.recorded = True
        latency = self.ctx.clock() - self.t0
        overhead = self.pre_s + self.post_s
        up = self.opened.upstream if self.opened else None
        red = self.redaction
        record = ExchangeRecord(
            ts=self.wall,
            request_id=self.request_id,
            tenant=self.client.tenant if self.client else ANONYMOUS,
            client=self.client.id if self.client else ANONYMOUS,
            route=self.route,
            method="POST",
            model=self.model,
            stream=self.stream,
            upstream=up.id if up else None,
            region=up.region if up else None,
            counts=dict(red.counts) if red else {},
            actions=dict(red.actions) if red else {},
            request_sha256=self.request_digest,
            response_sha256=self.response_digest,
            status=self.status,
            outcome=self.outcome,
            latency_ms=round(latency * 1000.0, 3),
            overhead_ms=round(overhead * 1000.0, 3),
            attempts=self.opened.attempts if self.opened else 0,
            error=self.error,
        )
        try:
            self.ctx.protector.record(record)
        except ChainError:  # the answer still goes out; the next request is refused (503)
            self.ctx.metrics.audit_failures.inc()


# --- helpers ----------------------------------------------------------------------------------


def _header(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    key = name.encode()
    for k, v in headers:
        if k == key:
            return v.decode("latin-1")
    return None


async def _read_body(receive: Receive, headers: list[tuple[bytes, bytes]], limit: int) -> bytes:
    declared = _header(headers, "content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "request_too_large", f"request body larger than {limit} bytes")
    parts: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise Rejected(400, "client_disconnected", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "request_too_large", f"request body larger than {limit} bytes")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw)
    except ValueError as exc:  # orjson.JSONDecodeError, also for invalid UTF-8
        raise Rejected(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Rejected(400, "invalid_json", "request body must be a JSON object")
    return doc


def _response_headers(upstream: Any) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", upstream.get("content-type", "application/json").encode("latin-1"))]
    for name in PASSED_RESPONSE_HEADERS:
        value = upstream.get(name)
        if value is not None:
            out.append((name.encode(), value.encode("latin-1")))
    return out
