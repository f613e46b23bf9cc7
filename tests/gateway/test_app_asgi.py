"""Raw-ASGI tests of the proxy: assert on the messages it sends, not on a client.

The app is driven directly (scope, receive, send) against a real test upstream on loopback,
with a pass-through `Protector` (the seam `build_app_with` offers), so these tests look only at
HTTP and streaming behaviour: when `http.response.start` goes out, that the upstream's SSE
events go out as they arrive in `http.response.body` messages with `more_body=True` (the
complete events of one upstream read in one message), and Content-Length handling.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from egressguard.errors import VaultError
from egressguard.gateway import app as app_module
from egressguard.gateway.app import build_app_with
from egressguard.gateway.exchange import ExchangeRecord, Redaction
from egressguard.gateway.settings import GatewaySettings, load_gateway_settings
from tests.gateway.harness import ENV, KEY_A, gateway_config
from tests.gateway.upstream_server import ServerThread, TestUpstream, sse_events


class PassThrough:
    """Redacts nothing; each SSE chunk's complete events are returned one by one."""

    def __init__(self) -> None:
        self.records: list[ExchangeRecord] = []

    def redact(
        self, route: str, body: dict[str, Any], *, tenant: str, conversation_header: str | None
    ) -> Redaction:
        return Redaction(body, {}, {}, (), lambda token: None)

    def restore_json(self, route: str, body: Any, redaction: Redaction) -> Any:
        return body

    def restore_text(self, text: str, redaction: Redaction) -> str:
        return text

    def stream_rewriter(self, route: str, redaction: Redaction) -> _Splitter:
        return _Splitter()

    def record(self, record: ExchangeRecord) -> None:
        self.records.append(record)

    def health(self) -> dict[str, str]:
        return {"vault": "ok", "audit": "ok"}

    def caches(self) -> dict[str, tuple[int, int, int, int]]:
        return {}


class _Splitter:
    def __init__(self) -> None:
        self.buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buf += chunk
        *events, self.buf = self.buf.split(b"\n\n")
        return [e + b"\n\n" for e in events]

    def close(self) -> list[bytes]:
        return [self.buf] if self.buf else []


@pytest.fixture(scope="module")
def upstream() -> Iterator[TestUpstream]:
    up = TestUpstream()
    with ServerThread(up.app()) as server:
        up.url = server.url  # type: ignore[attr-defined]
        yield up
        up.stopping = True


@pytest.fixture
def settings(upstream: TestUpstream, tmp_path: Path) -> GatewaySettings:
    upstream.reset()
    url = upstream.url  # type: ignore[attr-defined]
    return load_gateway_settings(
        gateway_config(tmp_path, eu=url, us=url, anthropic=url, timeout_s=0.5), ENV
    )


def _scope(path: str, body: bytes, key: str | None = KEY_A) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8787),
    }


async def _drive(
    settings: GatewaySettings,
    path: str,
    doc: Any,
    key: str | None = KEY_A,
    protector: PassThrough | None = None,
) -> tuple[list[dict[str, Any]], PassThrough]:
    protector = protector or PassThrough()
    app = build_app_with(settings, protector)
    body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    sent: list[dict[str, Any]] = []
    delivered = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app(_scope(path, body, key), receive, send)
    finally:
        done.set()
        await app.state.gateway.upstreams.aclose()
    return sent, protector


def test_sse_events_go_out_whole_in_body_messages(
    settings: GatewaySettings, upstream: TestUpstream
) -> None:
    upstream.behaviour.reply = "Hello there, general Kenobi"
    upstream.behaviour.chunk_size = 5
    doc = {"model": "llama3", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    sent, _ = asyncio.run(_drive(settings, "/v1/chat/completions", doc))
    expected = sse_events("/v1/chat/completions", "Hello there, general Kenobi", 5)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert b"content-length" not in headers
    assert b"x-egressguard-overhead-ms" in headers
    bodies = sent[1:]
    assert all(m["type"] == "http.response.body" for m in bodies)
    assert b"".join(m["body"] for m in bodies[:-1]) == b"".join(expected)
    assert all(m["body"].endswith(b"\n\n") for m in bodies[:-1])  # whole events only
    assert all(m["more_body"] for m in bodies[:-1])  # streaming preserved, not collapsed
    assert bodies[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_json_answer_gets_a_fresh_content_length(
    settings: GatewaySettings, upstream: TestUpstream
) -> None:
    upstream.behaviour.reply = "short"
    doc = {"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}
    sent, protector = asyncio.run(_drive(settings, "/v1/chat/completions", doc))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    headers = dict(sent[0]["headers"])
    assert int(headers[b"content-length"]) == len(sent[1]["body"])
    assert sent[1]["more_body"] is False
    assert json.loads(sent[1]["body"])["choices"][0]["message"]["content"] == "short"
    assert protector.records[0].status == 200 and protector.records[0].outcome == "ok"


def test_start_is_held_until_the_first_event(
    settings: GatewaySettings, upstream: TestUpstream
) -> None:
    """An upstream that dies before its first event: the client gets a JSON 502, not a 200."""
    upstream.behaviour.mode = "die_mid_stream"
    upstream.behaviour.events_before_failure = 0
    doc = {"model": "llama3", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    sent, protector = asyncio.run(_drive(settings, "/v1/chat/completions", doc))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 502
    assert json.loads(sent[1]["body"])["error"]["code"] == "upstream_unavailable"
    assert protector.records[0].outcome == "upstream_unavailable"


def test_mid_stream_death_ends_with_an_sse_error_event(
    settings: GatewaySettings, upstream: TestUpstream
) -> None:
    upstream.behaviour.mode = "die_mid_stream"
    upstream.behaviour.events_before_failure = 2
    upstream.behaviour.reply = "abcdefghijkl"
    doc = {"model": "llama3", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    sent, protector = asyncio.run(_drive(settings, "/v1/chat/completions", doc))
    assert sent[0]["status"] == 200
    last = sent[-1]
    assert last["more_body"] is False
    assert last["body"].startswith(b"event: error\ndata: ")
    assert (
        json.loads(last["body"].split(b"data: ", 1)[1])["error"]["code"] == "upstream_unavailable"
    )
    assert protector.records[0].outcome == "upstream_unavailable_mid_stream"


def test_refusals_send_nothing_upstream(settings: GatewaySettings, upstream: TestUpstream) -> None:
    sent, _ = asyncio.run(_drive(settings, "/v1/chat/completions", {"model": "x"}, key=None))
    assert sent[0]["status"] == 401
    sent, _ = asyncio.run(_drive(settings, "/v1/chat/completions", b"{not json"))
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["error"]["code"] == "invalid_json"
    sent, _ = asyncio.run(_drive(settings, "/v1/messages", b"[1]"))
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["type"] == "error"  # Anthropic error shape
    assert upstream.received == []


class BrokenVault(PassThrough):
    def redact(
        self, route: str, body: dict[str, Any], *, tenant: str, conversation_header: str | None
    ) -> Redaction:
        raise VaultError("disk I/O error")


def test_vault_failure_is_a_clean_500_and_nothing_is_sent(
    settings: GatewaySettings, upstream: TestUpstream
) -> None:
    doc = {"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}
    sent, protector = asyncio.run(
        _drive(settings, "/v1/chat/completions", doc, protector=BrokenVault())
    )
    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"])["error"]["code"] == "vault_error"
    assert protector.records[0].outcome == "vault_error"
    assert upstream.received == []


class _Unready(PassThrough):
    def __init__(self, checks: dict[str, str], delay_s: float = 0.0) -> None:
        super().__init__()
        self.checks, self.delay_s = checks, delay_s

    def health(self) -> dict[str, str]:
        time.sleep(self.delay_s)  # a store that does not answer (runs in a thread)
        return self.checks


async def _get(settings: GatewaySettings, protector: PassThrough, path: str) -> httpx.Response:
    app = build_app_with(settings, protector)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            return await c.get(path)
    finally:
        await app.state.gateway.upstreams.aclose()


def test_readiness_names_the_store_that_is_not_ready_and_liveness_stays_up(
    settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = asyncio.run(_get(settings, PassThrough(), "/healthz"))
    assert (ok.status_code, ok.json()) == (200, {"status": "ok", "vault": "ok", "audit": "ok"})
    down = _Unready({"vault": "unavailable", "audit": "ok"})
    r = asyncio.run(_get(settings, down, "/healthz"))
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "vault": "unavailable", "audit": "ok"}
    live = asyncio.run(_get(settings, down, "/livez"))
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    monkeypatch.setattr(app_module, "HEALTH_TIMEOUT_S", 0.05)
    hung = asyncio.run(_get(settings, _Unready({"vault": "ok"}, delay_s=0.5), "/healthz"))
    assert (hung.status_code, hung.json()) == (503, {"status": "unavailable", "stores": "timeout"})
