"""End to end: the real gateway (uvicorn, loopback) in front of real test upstreams.

Every test asserts on what the test upstream actually received (it must never see a detected
value) and on what the client got back (values restored), plus the audit records.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.gateway.harness import (
    KEY_A,
    KEY_B,
    KEY_LIMITED,
    Gateway,
    chat,
    client,
    gateway_config,
    running_gateway,
)
from tests.gateway.upstream_server import ServerThread, TestUpstream, sse_events

EMAIL = "anna.schmidt@example.de"
PHONE = "+49 30 1234567"
IBAN = "DE89370400440532013000"
CARD = "4111 1111 1111 1111"
TOKEN = re.compile(r"\[[A-Z][A-Z0-9_]*_[0-9a-f]{6,64}\]")


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, TestUpstream]]:
    ups = {name: TestUpstream(name) for name in ("eu", "us", "anthropic")}
    servers = {name: ServerThread(up.app()) for name, up in ups.items()}
    for name, server in servers.items():
        server.__enter__()
        ups[name].url = server.url  # type: ignore[attr-defined]
    yield ups
    for name, server in servers.items():
        ups[name].stopping = True
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def gw(
    upstreams: dict[str, TestUpstream], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    urls = {name: up.url for name, up in upstreams.items()}  # type: ignore[attr-defined]
    config = gateway_config(tmp_path_factory.mktemp("gw"), **urls, timeout_s=1.0)
    with running_gateway(config) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _reset(upstreams: dict[str, TestUpstream]) -> None:
    for up in upstreams.values():
        up.reset()


def _sse_text(body: str) -> str:
    """The assistant text of an OpenAI chat / completions / responses or Anthropic stream."""
    out: list[str] = []
    for block in body.split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if not data or data[0] == "[DONE]":
            continue
        doc = json.loads("\n".join(data))
        if doc.get("type") == "content_block_delta":
            out.append(doc["delta"].get("text", ""))
        elif doc.get("type") == "response.output_text.delta":
            out.append(doc["delta"])
        out.extend(
            c.get("delta", {}).get("content") or c.get("text") or "" for c in doc.get("choices", [])
        )
    return "".join(out)


PROMPT = f"Mail {EMAIL} or call {PHONE}, IBAN {IBAN}."


# --- the basic promise --------------------------------------------------------------------------


def test_upstream_never_sees_values_and_client_gets_them_back(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat(PROMPT))
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == PROMPT
    seen = upstreams["eu"].seen_text()
    for value in (EMAIL, IBAN, "1234567"):
        assert value not in seen
    assert len(TOKEN.findall(seen)) == 3
    received = upstreams["eu"].received[0]
    assert received.headers["authorization"] == "Bearer sk-upstream-secret"  # never the client's
    assert KEY_A not in json.dumps(received.headers)
    assert float(r.headers["x-egressguard-overhead-ms"]) >= 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("route", "doc"),
    [
        ("/v1/chat/completions", chat(PROMPT)),
        ("/v1/completions", {"model": "llama3", "prompt": PROMPT}),
        ("/v1/responses", {"model": "llama3", "input": PROMPT}),
        (
            "/v1/messages",
            {
                "model": "claude",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": PROMPT}],
            },
        ),
    ],
)
def test_every_route_streaming_and_not(
    gw: Gateway, upstreams: dict[str, TestUpstream], route: str, doc: dict[str, Any], stream: bool
) -> None:
    with client(gw) as c:
        r = c.post(route, json={**doc, "stream": stream})
    assert r.status_code == 200, r.text
    everything = "".join(up.seen_text() for up in upstreams.values())
    assert EMAIL not in everything and IBAN not in everything
    assert TOKEN.search(everything)
    if stream:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert _sse_text(r.text) == PROMPT
    else:
        assert EMAIL in r.text and IBAN in r.text
    target = "anthropic" if route == "/v1/messages" else "eu"  # personal data: EU only
    assert upstreams[target].received


def test_embeddings(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    with client(gw) as c:
        r = c.post("/v1/embeddings", json={"model": "e5", "input": [f"customer {EMAIL}"]})
    assert r.status_code == 200
    assert r.json()["data"][0]["embedding"] == [0.1]
    assert EMAIL not in upstreams["eu"].seen_text()


def test_anthropic_upstream_gets_its_own_key_and_version(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    doc = {"model": "claude", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    with client(gw, key=None, headers={"x-api-key": KEY_A}) as c:
        r = c.post("/v1/messages", json=doc)
    assert r.status_code == 200
    headers = upstreams["anthropic"].received[0].headers
    assert headers["x-api-key"] == "sk-ant-upstream"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers


def test_tool_call_arguments_are_redacted_and_restored(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    args = json.dumps({"email": EMAIL, "order": "100023"})
    doc = {
        "model": "llama3",
        "messages": [
            {"role": "user", "content": f"Look up the orders of {EMAIL}"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "orders", "arguments": args},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"customer": EMAIL})},
        ],
        "tools": [{"type": "function", "function": {"name": "orders", "parameters": {}}}],
    }
    with client(gw) as c:
        c.post("/v1/chat/completions", json=doc)
        seen = upstreams["eu"].seen_text()
        assert EMAIL not in seen
        token = TOKEN.search(seen)
        assert token is not None
        upstreams["eu"].behaviour.tool_call = {
            "id": "c2",
            "type": "function",
            "function": {"name": "send_mail", "arguments": json.dumps({"to": token.group()})},
        }
        r = c.post("/v1/chat/completions", json=doc)
    call = r.json()["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"to": EMAIL}


# --- streaming: a token cut anywhere ------------------------------------------------------------


def _learn_token(gw: Gateway, up: TestUpstream, key: str = KEY_A) -> str:
    with client(gw, key=key) as c:
        c.post("/v1/chat/completions", json=chat(f"write to {EMAIL}"))
    found = TOKEN.search(up.seen_text())
    assert found is not None
    up.reset()
    return found.group()


def _stream_request(route: str, text: str) -> dict[str, Any]:
    if route == "/v1/messages":
        return {
            "model": "c",
            "max_tokens": 9,
            "stream": True,
            "messages": [{"role": "user", "content": text}],
        }
    if route == "/v1/responses":
        return {"model": "m", "stream": True, "input": text}
    return chat(text, stream=True)


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/messages", "/v1/responses"])
def test_token_split_across_sse_chunks_at_every_byte(
    gw: Gateway, upstreams: dict[str, TestUpstream], route: str
) -> None:
    up = upstreams["anthropic" if route == "/v1/messages" else "eu"]
    headers = {"x-egressguard-conversation": "every-byte"}
    with client(gw, headers=headers) as c:
        c.post("/v1/chat/completions", json=chat(f"write to {EMAIL}"))
        found = TOKEN.search(upstreams["eu"].seen_text())
        assert found is not None
        token = found.group()
        for u in upstreams.values():
            u.reset()
        reply = f"Dear {token}, thanks!"
        stream = b"".join(sse_events(route, reply, 7))
        expected = f"Dear {EMAIL}, thanks!"
        if route == "/v1/responses":  # routed to dead-eu, falls back to eu-llm
            assert gw.settings.policy.routes[route].upstream == "dead-eu"
        cuts = [[stream[:cut], stream[cut:]] for cut in range(1, len(stream))]
        cuts.append([stream[i : i + 1] for i in range(len(stream))])  # one byte per write
        for chunks in cuts:
            up.behaviour.reply = reply
            up.behaviour.raw_chunks = chunks
            r = c.post(route, json=_stream_request(route, f"write to {EMAIL}"))
            assert r.status_code == 200
            assert _sse_text(r.text) == expected, f"cut after byte {len(chunks[0])}"
            assert token not in r.text


def test_streamed_tool_call_arguments_are_restored(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    token = _learn_token(gw, up)
    arguments = json.dumps({"to": token, "subject": "Order 1000023"})
    pieces = [arguments[i : i + 5] for i in range(0, len(arguments), 5)]
    events = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "send_mail", "arguments": ""},
                            }
                        ]
                    },
                }
            ]
        }
    ]
    events += [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                }
            ]
        }
        for piece in pieces
    ]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    up.behaviour.raw_chunks = [f"data: {json.dumps(e)}\n\n".encode() for e in events]
    up.behaviour.raw_chunks.append(b"data: [DONE]\n\n")
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat(f"write to {EMAIL}", stream=True))
    streamed = ""
    for block in r.text.split("\n\n"):
        if block.startswith("data: {"):
            for choice in json.loads(block[6:])["choices"]:
                for call in choice.get("delta", {}).get("tool_calls", []):
                    streamed += call.get("function", {}).get("arguments", "")
    assert json.loads(streamed) == {"to": EMAIL, "subject": "Order 1000023"}
    assert token not in r.text


def test_client_leaving_mid_stream_closes_the_upstream_stream(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    up.behaviour.mode = "hang_mid_stream"
    up.behaviour.events_before_failure = 2
    up.behaviour.reply = "one two three four five"
    with (
        client(gw) as c,
        c.stream("POST", "/v1/chat/completions", json=chat("hi", stream=True)) as r,
    ):
        first = next(r.iter_raw())
        assert first.startswith(b"data: ")
    deadline = time.monotonic() + 5
    while not up.aborted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert up.aborted == 1  # the gateway hung up on the upstream without waiting for timeout_s
    last = gw.records(tenant="shop1")[-1]
    assert last["error"] == "client_disconnected"


def test_token_split_across_deltas_of_every_size(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    token = _learn_token(gw, up)
    reply = f"{token} and again {token}"
    with client(gw) as c:
        for size in range(1, len(token) + 2):
            up.behaviour.reply = reply
            up.behaviour.chunk_size = size
            r = c.post("/v1/chat/completions", json=chat(f"write to {EMAIL}", stream=True))
            assert _sse_text(r.text) == f"{EMAIL} and again {EMAIL}", f"delta size {size}"


# --- tenants -----------------------------------------------------------------------------------


def test_concurrent_tenants_get_different_tokens_and_cannot_restore_each_other(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    results: dict[str, list[str]] = {KEY_A: [], KEY_B: []}

    def run(key: str) -> None:
        conversation = {"x-egressguard-conversation": "same-conversation-id"}
        with client(gw, key=key, headers=conversation) as c:
            for i in range(10):
                r = c.post("/v1/chat/completions", json=chat(f"mail {EMAIL} #{i}"))
                results[key].append(r.json()["choices"][0]["message"]["content"])

    threads = [threading.Thread(target=run, args=(k,)) for k in (KEY_A, KEY_B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in (KEY_A, KEY_B):
        assert results[key] == [f"mail {EMAIL} #{i}" for i in range(10)]
    records = gw.records()
    assert {r["tenant"] for r in records[-20:]} == {"shop1", "shop2"}
    # the same e-mail in the same conversation id: one token per tenant, and they differ
    tokens = {t for r in up.received for t in TOKEN.findall(r.raw.decode())}
    assert len(tokens) == 2
    # tenant B quoting tenant A's token gets the token back, never A's value
    up.reset()
    token_a = _learn_token(gw, up, KEY_A)
    up.behaviour.reply = f"A's customer is {token_a}"
    with client(gw, key=KEY_B) as c:
        r = c.post("/v1/chat/completions", json=chat("who?"))
        assert EMAIL not in r.text and token_a in r.text
        r = c.post("/v1/chat/completions", json=chat("who?", stream=True))
        assert EMAIL not in r.text


# --- restoring tokens of earlier turns ---------------------------------------------------------


def _history(*turns: str) -> dict[str, Any]:
    """A chat whose first message names no one (so the conversation is derived from it)."""
    messages = [{"role": "user", "content": "Hello, I need help with an order."}]
    for i, text in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": "Noted."})
        messages.append({"role": "user", "content": text})
    return {"model": "llama3", "messages": messages}


def test_tokens_of_earlier_turns_are_restored_in_the_same_conversation(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    with client(gw) as c:
        c.post("/v1/chat/completions", json=_history(f"write to {EMAIL}"))
        token = TOKEN.search(up.seen_text())
        assert token is not None
        up.reset()
        # turn 2 no longer holds the e-mail; the model quotes the token from turn 1
        up.behaviour.reply = f"I wrote to {token.group()}."
        later = _history("Hello again", "which address was it?")
        r = c.post("/v1/chat/completions", json=later)
        assert r.json()["choices"][0]["message"]["content"] == f"I wrote to {EMAIL}."
        up.behaviour.chunk_size = 3  # the token split across deltas of a stream
        r = c.post("/v1/chat/completions", json={**later, "stream": True})
        assert _sse_text(r.text) == f"I wrote to {EMAIL}."
        # the client resends an earlier answer with the token in it: passed on, restored
        up.behaviour.chunk_size = 4
        up.behaviour.reply = None
        quoted = _history("Hello again", f"you said {token.group()}, right?")
        r = c.post("/v1/chat/completions", json=quoted)
        assert r.json()["choices"][0]["message"]["content"] == f"you said {EMAIL}, right?"
    assert EMAIL not in up.seen_text()


def test_responses_conversation_restores_earlier_turns(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]  # /v1/responses goes to dead-eu and falls back to eu-llm
    first = {"model": "m", "input": f"mail {EMAIL}", "conversation": "conv_7"}
    with client(gw) as c:
        c.post("/v1/responses", json=first)
        token = TOKEN.search(up.seen_text())
        assert token is not None
        up.behaviour.reply = f"Sent to {token.group()}"
        r = c.post("/v1/responses", json={"model": "m", "input": "done?", "conversation": "conv_7"})
        assert r.json()["output"][0]["content"][0]["text"] == f"Sent to {EMAIL}"


def _responses_text(r: httpx.Response) -> str:
    if r.headers["content-type"].startswith("text/event-stream"):
        return _sse_text(r.text)
    return str(r.json()["output"][0]["content"][0]["text"])


def test_previous_response_id_continues_the_conversation(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]  # /v1/responses goes to dead-eu and falls back to eu-llm
    for first_streamed in (False, True):  # the answer's id is linked from JSON and from SSE
        up.reset()
        with client(gw) as c:
            first = {"model": "llama3", "input": f"mail {EMAIL} #{first_streamed}"}
            r = c.post("/v1/responses", json={**first, "stream": first_streamed})
            assert r.status_code == 200
            token = TOKEN.search(up.seen_text())
            assert token is not None
            up.behaviour.reply = f"Sent to {token.group()}"
            up.behaviour.chunk_size = 5
            follow = {"model": "llama3", "input": "done?", "previous_response_id": "resp_1"}
            for stream in (False, True):
                r = c.post("/v1/responses", json={**follow, "stream": stream})
                assert _responses_text(r) == f"Sent to {EMAIL}"
        # another tenant naming the same response id continues nothing of tenant A's
        with client(gw, key=KEY_B) as c:
            for stream in (False, True):
                r = c.post("/v1/responses", json={**follow, "stream": stream})
                assert EMAIL not in r.text and _responses_text(r) == f"Sent to {token.group()}"


def test_earlier_turns_never_restore_across_conversations_or_tenants(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    up = upstreams["eu"]
    mine = {"x-egressguard-conversation": "customer-1"}
    with client(gw, headers=mine) as c:
        c.post("/v1/chat/completions", json=chat(f"write to {EMAIL}"))
    token = TOKEN.search(up.seen_text())
    assert token is not None
    up.behaviour.reply = f"The address is {token.group()}"
    with client(gw, headers=mine) as c:  # the same tenant and conversation: restored
        assert EMAIL in c.post("/v1/chat/completions", json=chat("address?")).text
    attempts = [
        (KEY_A, {"x-egressguard-conversation": "customer-2"}),  # same tenant, other conversation
        (KEY_A, {}),  # same tenant, conversation derived from the first message
        (KEY_B, mine),  # another tenant naming the same conversation
    ]
    for key, headers in attempts:
        with client(gw, key=key, headers=headers) as c:
            for stream in (False, True):
                r = c.post("/v1/chat/completions", json=chat("address?", stream=stream))
                assert r.status_code == 200
                text = _sse_text(r.text) if stream else r.json()["choices"][0]["message"]["content"]
                assert EMAIL not in r.text and text == f"The address is {token.group()}"


# --- refusals ----------------------------------------------------------------------------------


def _refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == code


def test_wrong_or_missing_key_is_401(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    with client(gw, key="not-a-key-at-all-000000") as c:
        _refused(c.post("/v1/chat/completions", json=chat("hi")), 401, "invalid_api_key")
    with client(gw, key=None) as c:
        _refused(c.post("/v1/chat/completions", json=chat("hi")), 401, "missing_api_key")
        r = c.post("/v1/messages", json={"model": "c", "messages": []})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        _refused(c.get("/v1/models"), 401, "missing_api_key")
    assert all(not up.received for up in upstreams.values())


def test_tenant_not_allowed_is_403(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    with client(gw, key=KEY_LIMITED) as c:
        _refused(c.post("/v1/embeddings", json={"input": "x"}), 403, "route_not_allowed")
    with client(gw, key=KEY_B) as c:
        _refused(
            c.post("/v1/chat/completions", json=chat("hi", model="gpt-5")), 403, "model_not_allowed"
        )
    assert all(not up.received for up in upstreams.values())


def test_personal_data_never_goes_to_a_us_upstream(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    """/v1/completions is routed to us-llm; with personal data it falls back to eu-llm."""
    with client(gw) as c:
        assert (
            c.post("/v1/completions", json={"model": "m", "prompt": "a haiku"}).status_code == 200
        )
        assert len(upstreams["us"].received) == 1
        r = c.post("/v1/completions", json={"model": "m", "prompt": f"mail {EMAIL}"})
    assert r.status_code == 200 and EMAIL in r.text
    assert len(upstreams["us"].received) == 1 and len(upstreams["eu"].received) == 1
    records = gw.records(tenant="shop1")
    assert (records[-2]["upstream"], records[-2]["region"]) == ("us-llm", "us")
    assert (records[-1]["upstream"], records[-1]["region"]) == ("eu-llm", "eu")


def test_oversized_body_is_413(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    with client(gw) as c:
        _refused(c.post("/v1/chat/completions", json=chat("x" * 70_000)), 413, "request_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked upload
            yield b'{"model":"m","messages":[{"role":"user","content":"'
            for _ in range(20):
                yield b"y" * 4096
            yield b'"}]}'

        r = c.post("/v1/chat/completions", content=chunks())
        _refused(r, 413, "request_too_large")
    assert not upstreams["eu"].received


def test_malformed_json_is_400(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    with client(gw) as c:
        _refused(c.post("/v1/chat/completions", content=b'{"model": '), 400, "invalid_json")
        _refused(c.post("/v1/chat/completions", content=b"\xff\xfe"), 400, "invalid_json")
        _refused(c.post("/v1/chat/completions", content=b'["list"]'), 400, "invalid_json")
    assert not upstreams["eu"].received


def test_rate_limit_is_429(gw: Gateway) -> None:
    with client(gw, key=KEY_LIMITED) as c:
        statuses = [c.post("/v1/chat/completions", json=chat("hi")).status_code for _ in range(3)]
        r = c.post("/v1/chat/completions", json=chat("hi"))
    assert statuses[:2] == [200, 200]
    _refused(r, 429, "rate_limit_exceeded")
    assert int(r.headers["retry-after"]) >= 1


def test_block_action_sends_nothing_and_names_the_category(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat(f"charge card {CARD} for {EMAIL}"))
        _refused(r, 400, "blocked_by_policy")
        assert "card" in r.json()["error"]["message"]
        assert CARD not in r.text
        r = c.post(
            "/v1/messages",
            json={"model": "c", "messages": [{"role": "user", "content": f"card {CARD}"}]},
        )
        assert r.status_code == 400 and r.json()["type"] == "error"
    assert all(not up.received for up in upstreams.values())
    last = gw.records(tenant="shop1")[-1]
    assert (
        last["error"] == "blocked" and last["upstream"] == "" and last["actions"]["card"] == "block"
    )


# --- upstream failures -------------------------------------------------------------------------


def test_upstream_hangs_504_and_audit_says_so(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    upstreams["eu"].behaviour.mode = "hang"
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat("hi"))
    _refused(r, 504, "upstream_timeout")
    assert len(upstreams["eu"].received) == 1  # a timeout is not retried (not idempotent)
    last = gw.records(tenant="shop1")[-1]
    assert (last["status"], last["error"]) == (504, "upstream_timeout")


def test_upstream_hangs_mid_stream(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    upstreams["eu"].behaviour.mode = "hang_mid_stream"
    upstreams["eu"].behaviour.reply = "one two three four"
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat("hi", stream=True))
    assert r.status_code == 200
    assert r.text.rstrip().splitlines()[-2] == "event: error"
    assert json.loads(r.text.rstrip().splitlines()[-1][6:])["error"]["code"] == "upstream_timeout"
    last = gw.records(tenant="shop1")[-1]
    assert last["error"] == "upstream_timeout_mid_stream" and last["stream"] is True


def test_upstream_dies_mid_stream(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    upstreams["eu"].behaviour.mode = "die_mid_stream"
    upstreams["eu"].behaviour.reply = f"one two three {EMAIL}"
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat(f"hi {EMAIL}", stream=True))
    assert r.status_code == 200
    assert _sse_text(r.text.split("event: error")[0]) == "one two "
    assert "event: error" in r.text and "upstream_unavailable" in r.text
    last = gw.records(tenant="shop1")[-1]
    assert last["error"] == "upstream_unavailable_mid_stream" and last["status"] == 502


def test_fallback_to_a_second_upstream_on_connect_error(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    """/v1/responses is routed to dead-eu (nothing listens) with fallback eu-llm."""
    with client(gw) as c:
        r = c.post("/v1/responses", json={"model": "m", "input": f"hi {EMAIL}"})
    assert r.status_code == 200 and EMAIL in r.text
    last = gw.records(tenant="shop1")[-1]
    assert last["upstream"] == "eu-llm"


def test_retry_on_503_then_success(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    upstreams["eu"].behaviour.mode = "status"
    upstreams["eu"].behaviour.status = 503
    upstreams["eu"].behaviour.fail_times = 1
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat("hi"))
    assert r.status_code == 200
    assert len(upstreams["eu"].received) == 2


def test_fallback_on_5xx_before_anything_was_streamed(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    """/v1/completions goes to us-llm (fallback eu-llm); us-llm answers 500."""
    upstreams["us"].behaviour.mode = "status"
    upstreams["us"].behaviour.status = 500
    with client(gw) as c:
        r = c.post("/v1/completions", json={"model": "m", "prompt": "a haiku", "stream": True})
    assert r.status_code == 200 and _sse_text(r.text) == "a haiku"
    assert len(upstreams["us"].received) == 1 and len(upstreams["eu"].received) == 1
    assert gw.records(tenant="shop1")[-1]["upstream"] == "eu-llm"


def test_shop_dictionary_terms_never_leave(gw: Gateway, upstreams: dict[str, TestUpstream]) -> None:
    text = "Compare Nordlicht Textil GmbH's offer for Project Falcon with last year."
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat(text))
    assert r.json()["choices"][0]["message"]["content"] == text
    seen = upstreams["eu"].seen_text()
    assert "Nordlicht" not in seen and "Falcon" not in seen
    assert "[PROPRIETARY_" in seen
    assert gw.records(tenant="shop1")[-1]["categories"] == {"proprietary": 2}


def test_upstream_error_status_is_passed_on_after_retries(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    upstreams["eu"].behaviour.mode = "status"
    upstreams["eu"].behaviour.status = 500
    with client(gw) as c:
        r = c.post("/v1/chat/completions", json=chat("hi"))
    assert r.status_code == 500  # 500 is not retried, and eu-llm is the last candidate
    assert len(upstreams["eu"].received) == 1


# --- models, health, metrics -------------------------------------------------------------------


def test_models_lists_what_the_tenant_may_use(gw: Gateway) -> None:
    with client(gw) as c:
        ids = {m["id"] for m in c.get("/v1/models").json()["data"]}
    assert ids == {"llama3", "mistral-small"}
    with client(gw, key=KEY_B) as c:
        r = c.get("/v1/models")
    assert r.status_code == 200
    assert {m["owned_by"] for m in r.json()["data"]} <= {"eu-llm", "us-llm", "claude-eu"}


def test_healthz_and_metrics(gw: Gateway) -> None:
    with client(gw) as c:
        c.post("/v1/chat/completions", json=chat(f"hi {EMAIL}"))
        assert c.get("/healthz").json() == {"status": "ok", "vault": "ok", "audit": "ok"}
        assert c.get("/livez").json() == {"status": "ok"}
        text = c.get("/metrics").text
    assert (
        'egressguard_requests_total{route="/v1/chat/completions",upstream="eu-llm",status="200"}'
        in text
    )
    assert 'egressguard_detections_total{category="email",action="tokenize"}' in text
    assert "egressguard_overhead_seconds_bucket" in text
    assert EMAIL not in text


def _metric(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_count_resent_history_answered_from_the_caches(
    gw: Gateway, upstreams: dict[str, TestUpstream]
) -> None:
    """A chat's earlier turns come again on every turn: the second time the redaction memo
    answers (no scan, no minting), and /metrics says so without showing any text."""
    lookups = "egressguard_text_cache_lookups_total"
    history = f"Order 4711 for {EMAIL}, please summarise. " + "Line item: brackets. " * 20
    with client(gw) as c:
        before = c.get("/metrics").text
        first = c.post("/v1/chat/completions", json=chat(history))
        second = c.post("/v1/chat/completions", json=chat(history))
        after = c.get("/metrics").text
    assert first.status_code == second.status_code == 200
    sent = upstreams["eu"].received[-2:]
    assert sent[0] == sent[1] and EMAIL not in str(sent)  # the same tokens both times
    hit = f'{lookups}{{cache="redaction",result="hit"}}'
    miss = f'{lookups}{{cache="redaction",result="miss"}}'
    assert _metric(after, hit) == _metric(before, hit) + 1
    assert _metric(after, miss) == _metric(before, miss) + 1
    assert 'egressguard_text_cache_entries{cache="scan"}' in after
    assert EMAIL not in after
