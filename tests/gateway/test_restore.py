"""Restoring tokens in answers: text, JSON bodies, streams cut anywhere, SSE events per API."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.gateway.actions import Api
from egressguard.gateway.restore import (
    MAX_TOKEN_LENGTH,
    REDACTED,
    Restorer,
    StreamState,
    restore_json_body,
    restore_sse_event,
)
from egressguard.gateway.sse import SseEvent, SseParser, encode
from egressguard.gateway.tokens import Tokenizer

_T = Tokenizer(b"0123456789abcdef0123456789abcdef")
T_EMAIL = _T.token("shop1", "c", "email", 'o"brien@example.ie')
T_NAME = _T.token("shop1", "c", "person_name", "Zoë Müller")
T_IBAN = _T.token("shop1", "c", "iban", "DE89 3704 0044 0532 0130 00")
T_PATH = _T.token("shop1", "c", "customer", "C:\\shop\\new\nline")
VALUES = {
    T_EMAIL: 'o"brien@example.ie',
    T_NAME: "Zoë Müller",
    T_IBAN: "DE89 3704 0044 0532 0130 00",
    T_PATH: "C:\\shop\\new\nline",
}
T_LONG = T_EMAIL[:-1] + "12]"  # a lengthened token (after a collision), also known
VALUES[T_LONG] = "second@example.com"
UNKNOWN = "[EMAIL_ffffff]"
T_VAULT = _T.token("shop1", "c", "phone", "+49 30 1234567")  # known to the vault only
VAULT = {**VALUES, T_VAULT: "+49 30 1234567"}


def restorer(known: Iterable[str] | None = tuple(VALUES), *, only_known: bool = False) -> Restorer:
    """Vault fallback on, so T_VAULT exercises the vault-only path (see test_only_known)."""
    return Restorer(VAULT.get, known, only_known=only_known)


def oracle(full: str, known: Iterable[str] = tuple(VALUES), lookup: dict[str, str] = VAULT) -> str:
    """What a stream of `full` must produce, computed without the stream restorer."""
    tokens = list(known)
    cut = len(full)
    for i in range(len(full)):
        if any(t.startswith(full[i:]) and t != full[i:] for t in tokens):
            cut = i
            break
    held = full[cut:]
    tail = REDACTED if re.match(r"\[[A-Z][A-Z0-9_]*_[0-9a-f]*", held) else held
    return Restorer(lookup.get, known, only_known=False).restore_text(full[:cut]) + tail


def run_stream(pieces: Iterable[str], r: Restorer, *, json_string: bool = False) -> str:
    stream = r.stream(json_string=json_string)
    out: list[str] = []
    for piece in pieces:
        out.append(stream.feed(piece))
        assert len(stream.held) <= r.longest - 1 or not stream.held
        if stream.held and r.longest < MAX_TOKEN_LENGTH:
            assert any(t.startswith(stream.held) and t != stream.held for t in VALUES)
    out.append(stream.flush())
    return "".join(out)


def test_restore_text() -> None:
    r = restorer()
    text = f"Hi {T_NAME}, mail {T_EMAIL} or {T_LONG}; {UNKNOWN} and [EMAIL] stay; [{T_IBAN}]"
    assert r.restore_text(text) == (
        'Hi Zoë Müller, mail o"brien@example.ie or second@example.com; '
        "[EMAIL_ffffff] and [EMAIL] stay; [DE89 3704 0044 0532 0130 00]"
    )
    assert r.unknown_tokens == {UNKNOWN}
    assert r.restore_text(T_EMAIL, json_string=True) == 'o\\"brien@example.ie'
    assert r.restore_text(T_PATH, json_string=True) == "C:\\\\shop\\\\new\\nline"


FULL = (
    f"Dear {T_NAME}, your IBAN {T_IBAN} and {T_EMAIL}/{T_LONG} [x] [EMAIL_ [E "
    f"{UNKNOWN} {T_VAULT}{T_NAME}[{T_PATH}] end"
)


@pytest.mark.parametrize("known", [tuple(VALUES), None], ids=["known", "grammar"])
def test_every_cut_position(known: tuple[str, ...] | None) -> None:
    r = restorer(known)
    expected = r.restore_text(FULL)
    if known is not None:
        # the vault-only token is not held back when split, so it is only restored when whole
        assert expected == oracle(FULL)
    for i in range(len(FULL) + 1):
        got = run_stream([FULL[:i], FULL[i:]], restorer(known))
        if known is not None and FULL.find(T_VAULT) < i < FULL.find(T_VAULT) + len(T_VAULT):
            # split (unless only a "[" or "[P" was held): left as the token, never partial
            assert got in (expected, expected.replace("+49 30 1234567", T_VAULT))
        else:
            assert got == expected, i
    assert run_stream(list(FULL), restorer(known)) == (
        expected if known is None else expected.replace("+49 30 1234567", T_VAULT)
    )


def test_emitted_text_is_always_a_prefix_of_the_answer() -> None:
    expected = restorer().restore_text(FULL)
    stream = restorer().stream()
    emitted = ""
    for ch in FULL:
        emitted += stream.feed(ch)
        vault_at = expected.find("+49")
        assert expected.startswith(emitted) or emitted.startswith(expected[:vault_at])
        # nothing held that could not be a token: everything else went out at once
        assert not stream.held or any(t.startswith(stream.held) for t in VALUES)


def test_text_that_cannot_be_a_token_is_never_delayed() -> None:
    stream = restorer().stream()
    assert stream.feed("Hello [x] [EMAIL] [E") == "Hello [x] [EMAIL] "
    assert stream.held == "[E"
    assert stream.feed("X") == "[EX"
    assert restorer([]).stream().feed("[EMAIL_") == "[EMAIL_"  # no tokens: nothing held


def test_flush_fails_closed_on_an_incomplete_token() -> None:
    stream = restorer().stream()
    assert stream.feed(f"to {T_EMAIL[:9]}") == "to "
    assert stream.flush() == REDACTED
    stream = restorer().stream()
    assert stream.feed("a [EM") == "a "
    assert stream.flush() == "[EM"  # no digest yet: ordinary text
    assert stream.flush() == ""


def test_only_known_tokens_are_restored_by_default() -> None:
    """A guessed token typed by a user must not read another customer's value from the vault."""
    strict = Restorer(VAULT.get, [T_NAME])
    text = f"{T_NAME} {T_VAULT} {T_EMAIL}"
    assert strict.restore_text(text) == f"Zoë Müller {T_VAULT} {T_EMAIL}"
    assert strict.unknown_tokens == {T_VAULT, T_EMAIL}
    stream = Restorer(VAULT.get, [T_NAME]).stream()
    assert stream.feed(text[:25]) + stream.feed(text[25:]) + stream.flush() == (
        f"Zoë Müller {T_VAULT} {T_EMAIL}"
    )
    assert Restorer(VAULT.get).restore_text(T_VAULT) == VAULT[T_VAULT]  # no list: vault decides


def test_split_unknown_and_unlisted_tokens_are_reported() -> None:
    r = restorer()
    text = f"{UNKNOWN} {T_VAULT}"
    assert run_stream([text[:5], text[5:19], text[19:]], r) == text
    assert r.unknown_tokens == {UNKNOWN}
    assert r.missed_tokens == {T_VAULT}


pieces = st.one_of(
    st.sampled_from([*VALUES, UNKNOWN, T_VAULT, "[", "]", "[E", "_", " ", "\\", '"']),
    st.sampled_from(list(VALUES)).flatmap(
        lambda t: st.integers(1, len(t) - 1).map(lambda n: t[:n])
    ),
    st.text(alphabet="ab [_]EMAIL0f\n", max_size=4),
)


@settings(max_examples=400)
@given(parts=st.lists(pieces, max_size=10), data=st.data())
def test_any_partition_matches_restore_text(parts: list[str], data: st.DataObject) -> None:
    full = "".join(parts)
    positions = sorted(data.draw(st.lists(st.integers(0, len(full)), max_size=8)))
    bounds = [0, *positions, len(full)]
    chunks = [full[a:b] for a, b in itertools.pairwise(bounds)]
    r = Restorer(VALUES.get, tuple(VALUES))  # T_VAULT is unknown here
    assert run_stream(chunks, r) == oracle(full, lookup=VALUES)


@settings(max_examples=200)
@given(parts=st.lists(pieces, max_size=10), data=st.data())
def test_grammar_mode_matches_restore_text(parts: list[str], data: st.DataObject) -> None:
    full = "".join(parts)
    positions = sorted(data.draw(st.lists(st.integers(0, len(full)), max_size=8)))
    bounds = [0, *positions, len(full)]
    chunks = [full[a:b] for a, b in itertools.pairwise(bounds)]
    got = run_stream(chunks, restorer(None))
    held = re.search(r"\[(?:[A-Z][A-Z0-9_]*(?:_[0-9a-f]{0,64})?)?\Z", full)
    if held is None:
        assert got == restorer(None).restore_text(full)
    else:
        assert got.startswith(restorer(None).restore_text(full[: held.start()]))


@settings(max_examples=200)
@given(
    obj=st.dictionaries(
        st.sampled_from(["email", "name", "note"]),
        st.one_of(st.sampled_from(list(VALUES)), st.text(max_size=5), st.integers()),
        max_size=3,
    ),
    data=st.data(),
)
def test_streamed_tool_arguments_stay_valid_json(obj: dict[str, Any], data: st.DataObject) -> None:
    wire = json.dumps(obj)
    positions = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    bounds = [0, *positions, len(wire)]
    out = run_stream(
        [wire[a:b] for a, b in itertools.pairwise(bounds)], restorer(), json_string=True
    )
    assert json.loads(out) == {
        k: VALUES.get(v, v) if isinstance(v, str) else v for k, v in obj.items()
    }


# --- non-streamed bodies ------------------------------------------------------------------------


def test_chat_and_completions_bodies() -> None:
    args = json.dumps({"email": T_EMAIL, "path": T_PATH, "nested": [T_NAME]})
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": f"Hello {T_NAME} {UNKNOWN}", "refusal": None,
            "tool_calls": [{"id": "c", "type": "function",
                            "function": {"name": "send", "arguments": args}}]}}],
        "usage": {"total_tokens": 5},
    }  # fmt: skip
    out = restore_json_body(Api.CHAT, body, restorer())
    message = out["choices"][0]["message"]
    assert message["content"] == f"Hello Zoë Müller {UNKNOWN}"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "email": 'o"brien@example.ie',
        "path": "C:\\shop\\new\nline",
        "nested": ["Zoë Müller"],
    }
    assert out["usage"] == body["usage"] and body["choices"][0]["message"]["content"].startswith(
        "Hello ["
    )
    text = {"choices": [{"index": 0, "text": f"{T_IBAN}!"}]}
    assert restore_json_body(Api.COMPLETIONS, text, restorer()) == {
        "choices": [{"index": 0, "text": "DE89 3704 0044 0532 0130 00!"}]
    }


def test_responses_body() -> None:
    body: dict[str, Any] = {
        "object": "response",
        "instructions": f"Escalate to {T_EMAIL}",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": T_NAME}]},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": f"Hi {T_NAME}", "annotations": []}]},
            {"type": "function_call", "call_id": "c", "name": "f",
             "arguments": json.dumps({"to": T_EMAIL})},
        ],
    }  # fmt: skip
    out = restore_json_body(Api.RESPONSES, body, restorer())
    assert out["instructions"] == 'Escalate to o"brien@example.ie'
    assert out["output"][0]["summary"][0]["text"] == "Zoë Müller"
    assert out["output"][1]["content"][0]["text"] == "Hi Zoë Müller"
    assert json.loads(out["output"][2]["arguments"]) == {"to": 'o"brien@example.ie'}


def test_anthropic_body() -> None:
    body: dict[str, Any] = {
        "type": "message",
        "content": [
            {"type": "thinking", "thinking": f"about {T_NAME}", "signature": "s"},
            {"type": "text", "text": f"Dear {T_NAME}"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"to": [T_EMAIL], T_NAME: 1}},
        ],
    }
    out = restore_json_body(Api.MESSAGES, body, restorer())
    assert out["content"][0] == body["content"][0]
    assert out["content"][1]["text"] == "Dear Zoë Müller"
    assert out["content"][2]["input"] == {"to": ['o"brien@example.ie'], "Zoë Müller": 1}
    assert restore_json_body(Api.EMBEDDINGS, {"data": [T_NAME]}, restorer()) == {"data": [T_NAME]}


def test_invalid_arguments_get_escaped_values() -> None:
    truncated = '{"to": "' + T_EMAIL
    assert restorer().arguments(truncated) == '{"to": "o\\"brien@example.ie'
    nested = json.dumps({"payload": json.dumps({"to": T_EMAIL})})
    inner = json.loads(json.loads(restorer().arguments(nested))["payload"])
    assert inner == {"to": 'o"brien@example.ie'}


# --- SSE: OpenAI chat ---------------------------------------------------------------------------


def chat_chunk(choices: list[dict[str, Any]]) -> SseEvent:
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return SseEvent(data=json.dumps({**body, "choices": choices}))


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def restore_wire(api: Api, wire: bytes, cut: int, r: Restorer | None = None) -> list[SseEvent]:
    parser = SseParser()
    state = StreamState(r or restorer())
    out: list[SseEvent] = []
    for piece in (wire[:cut], wire[cut:]):
        for event in parser.feed(piece):
            out.extend(restore_sse_event(api, event, state))
    for event in parser.close():
        out.extend(restore_sse_event(api, event, state))
    return out + state.close()


def chat_text(events: list[SseEvent]) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    text: dict[int, str] = {}
    args: dict[tuple[int, int], str] = {}
    for event in events:
        if event.data == "[DONE]":
            continue
        for choice in json.loads(event.data)["choices"]:
            delta = choice["delta"]
            i = choice["index"]
            text[i] = text.get(i, "") + (delta.get("content") or "")
            for call in delta.get("tool_calls") or ():
                key = (i, call["index"])
                args[key] = args.get(key, "") + call.get("function", {}).get("arguments", "")
    return text, args


def test_chat_stream_cut_at_every_byte() -> None:
    answer = f"Dear {T_NAME}, IBAN {T_IBAN}."
    arguments = json.dumps({"to": T_EMAIL, "path": T_PATH})
    events = [chat_chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])]
    events += [chat_chunk([{"index": 0, "delta": {"content": p}}]) for p in split(answer, 5)]
    events += [chat_chunk([{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "type": "function",
         "function": {"name": "send", "arguments": ""}}]}}])]  # fmt: skip
    events += [
        chat_chunk(
            [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}}]
        )
        for p in split(arguments, 9)
    ]
    events += [chat_chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])]
    events += [SseEvent(data="[DONE]")]
    wire = b"".join(encode(e) for e in events)
    want_text = restorer().restore_text(answer)
    for cut in range(len(wire) + 1):
        out = restore_wire(Api.CHAT, wire, cut)
        text, args = chat_text(out)
        assert text == {0: want_text}
        assert json.loads(args[(0, 0)]) == {"to": 'o"brien@example.ie', "path": VALUES[T_PATH]}
        assert out[-1] == SseEvent(data="[DONE]")
        assert not any(T_NAME[:8] in e.data for e in out)


def _held_back_deltas(events: list[SseEvent]) -> list[dict[str, Any]]:
    """Choices whose delta says nothing: a text field emptied, or a bare tool-call index."""
    empty = []
    for event in events:
        if event.data == "[DONE]":
            continue
        doc = json.loads(event.data)
        if not doc["choices"] and doc.get("usage") is None:
            empty.append(doc)
        for choice in doc["choices"]:
            delta = choice.get("delta", {})
            calls = delta.get("tool_calls") or []
            if any(delta.get(name) == "" for name in ("content", "refusal")) or any(
                set(call) <= {"index"} or call.get("function") == {"arguments": ""}
                for call in calls
            ):
                empty.append(choice)
            if not delta and choice.get("finish_reason") is None:
                empty.append(choice)
    return empty


def test_no_empty_content_delta_is_forwarded_at_any_byte_cut() -> None:
    answer = f"Dear {T_NAME}, IBAN {T_IBAN}[EM"
    arguments = json.dumps({"to": T_EMAIL})
    events = [chat_chunk([{"index": 0, "delta": {"role": "assistant"}}])]
    events += [chat_chunk([{"index": 0, "delta": {"content": p}}]) for p in split(answer, 3)]
    events += [chat_chunk([{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "type": "function",
         "function": {"name": "send", "arguments": arguments[:3]}}]}}])]  # fmt: skip
    events += [
        chat_chunk(
            [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}}]
        )
        for p in split(arguments[3:], 4)
    ]
    events += [chat_chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])]
    usage = {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}
    events += [SseEvent(data=json.dumps({"id": "c1", "choices": [], "usage": usage}))]
    events += [SseEvent(data="[DONE]")]
    wire = b"".join(encode(e) for e in events)
    for cut in range(len(wire) + 1):
        out = restore_wire(Api.CHAT, wire, cut)
        assert _held_back_deltas(out) == [], f"cut after byte {cut}"
        docs = [json.loads(e.data) for e in out if e.data != "[DONE]"]
        choices = [c for d in docs for c in d["choices"]]
        assert choices[0]["delta"] == {"role": "assistant"}  # non-content fields survive
        starts = [call for c in choices for call in c["delta"].get("tool_calls", ())]
        assert starts[0]["id"] == "call_1" and starts[0]["function"]["name"] == "send"
        assert [c["finish_reason"] for c in choices if c.get("finish_reason")] == ["tool_calls"]
        assert docs[-1]["usage"] == usage
        text, args = chat_text(out)
        assert text == {0: f"Dear Zoë Müller, IBAN {VALUES[T_IBAN]}[EM"}
        assert json.loads(args[(0, 0)]) == {"to": VALUES[T_EMAIL]}


def test_legacy_completions_stream_forwards_no_empty_text_chunk() -> None:
    events = [
        SseEvent(data=json.dumps({"id": "c", "object": "text_completion", "choices": [
            {"index": 0, "text": p, "finish_reason": None, "logprobs": None}]}))
        for p in split(f"Call {T_NAME} now", 3)
    ] + [SseEvent(data="[DONE]")]  # fmt: skip
    state = StreamState(restorer())
    out = [o for e in events for o in restore_sse_event(Api.COMPLETIONS, e, state)]
    texts = [json.loads(e.data)["choices"][0]["text"] for e in out if e.data != "[DONE]"]
    assert "" not in texts and "".join(texts) == "Call Zoë Müller now"


def test_chat_stream_two_choices_keep_separate_carries() -> None:
    a, b = f"A {T_NAME}", f"B {T_EMAIL}"
    events = [
        chat_chunk([{"index": 0, "delta": {"content": x}}, {"index": 1, "delta": {"content": y}}])
        for x, y in itertools.zip_longest(split(a, 2), split(b, 2), fillvalue="")
    ] + [SseEvent(data="[DONE]")]
    state = StreamState(restorer())
    out = [o for e in events for o in restore_sse_event(Api.CHAT, e, state)]
    assert chat_text(out)[0] == {0: "A Zoë Müller", 1: 'B o"brien@example.ie'}


def test_finish_reason_flushes_and_done_flushes_what_is_left() -> None:
    state = StreamState(restorer())
    start = chat_chunk([{"index": 0, "delta": {"content": "x " + T_NAME[:10]}}])
    first = restore_sse_event(Api.CHAT, start, state)
    assert chat_text(first)[0] == {0: "x "}
    finish = chat_chunk([{"index": 0, "delta": {}, "finish_reason": "length"}])
    out = restore_sse_event(Api.CHAT, finish, state)
    assert len(out) == 1 and json.loads(out[0].data)["choices"][0] == {
        "index": 0, "delta": {"content": REDACTED}, "finish_reason": "length"
    }  # fmt: skip
    # no finish_reason: [DONE] first emits a chunk of its own with the envelope
    state = StreamState(restorer())
    restore_sse_event(Api.CHAT, chat_chunk([{"index": 0, "delta": {"content": "[E"}}]), state)
    out = restore_sse_event(Api.CHAT, SseEvent(data="[DONE]"), state)
    assert [json.loads(out[0].data)["choices"][0]["delta"], out[1].data] == [
        {"content": "[E"},
        "[DONE]",
    ]
    assert json.loads(out[0].data)["id"] == "c1"
    # the upstream died: close() flushes
    state = StreamState(restorer())
    restore_sse_event(
        Api.CHAT, chat_chunk([{"index": 0, "delta": {"content": T_NAME[:-1]}}]), state
    )
    assert chat_text(state.close())[0] == {0: REDACTED}


def test_untouched_events_pass_through_byte_for_byte() -> None:
    state = StreamState(restorer())
    event = SseEvent(data='{"id": "x", "choices": [{"index": 0, "delta": {"content": "plain"}}]}')
    assert restore_sse_event(Api.CHAT, event, state) == [event]
    odd = SseEvent(event="weird", data="not json")
    assert restore_sse_event(Api.CHAT, odd, state) == [odd]
    assert restore_sse_event(Api.EMBEDDINGS, odd, state) == [odd]


def test_legacy_completions_stream() -> None:
    text = f"Call {T_NAME} now"
    events = [
        SseEvent(data=json.dumps({"id": "c", "object": "text_completion", "choices": [
            {"index": 0, "text": p, "finish_reason": None}]}))
        for p in split(text, 3)
    ] + [SseEvent(data="[DONE]")]  # fmt: skip
    wire = b"".join(encode(e) for e in events)
    for cut in range(0, len(wire) + 1, 5):
        out = restore_wire(Api.COMPLETIONS, wire, cut)
        got = "".join(json.loads(e.data)["choices"][0]["text"] for e in out if e.data != "[DONE]")
        assert got == "Call Zoë Müller now"


# --- SSE: Anthropic -----------------------------------------------------------------------------


def anthropic(kind: str, **fields: Any) -> SseEvent:
    return SseEvent(event=kind, data=json.dumps({"type": kind, **fields}))


def test_anthropic_stream_cut_at_every_byte() -> None:
    text = f"Dear {T_NAME}, IBAN {T_IBAN}."
    partial = json.dumps({"to": T_EMAIL, "note": T_PATH})
    events = [
        anthropic("message_start", message={"type": "message", "content": [], "usage": {}}),
        anthropic("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        anthropic("ping"),
        *[anthropic("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
          for p in split(text, 5)],
        anthropic("content_block_stop", index=0),
        anthropic("content_block_start", index=1,
                  content_block={"type": "tool_use", "id": "t", "name": "f", "input": {}}),
        *[anthropic("content_block_delta", index=1,
                    delta={"type": "input_json_delta", "partial_json": p})
          for p in split(partial, 9)],
        anthropic("content_block_stop", index=1),
        anthropic("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 9}),
        anthropic("message_stop"),
    ]  # fmt: skip
    wire = b"".join(encode(e) for e in events)
    for cut in range(len(wire) + 1):
        out = restore_wire(Api.MESSAGES, wire, cut)
        blocks: dict[int, str] = {}
        for event in out:
            obj = json.loads(event.data)
            assert event.event == obj["type"]
            if obj["type"] == "content_block_delta":
                delta = obj["delta"]
                blocks[obj["index"]] = blocks.get(obj["index"], "") + delta.get(
                    "text", delta.get("partial_json", "")
                )
        assert blocks[0] == "Dear Zoë Müller, IBAN DE89 3704 0044 0532 0130 00."
        assert json.loads(blocks[1]) == {"to": 'o"brien@example.ie', "note": VALUES[T_PATH]}
        assert [e.event for e in out][-2:] == ["message_delta", "message_stop"]


def test_anthropic_block_stop_flushes_its_block_first() -> None:
    state = StreamState(restorer())
    delta = anthropic(
        "content_block_delta", index=0, delta={"type": "text_delta", "text": T_NAME[:10]}
    )
    assert restore_sse_event(Api.MESSAGES, delta, state) == []
    out = restore_sse_event(Api.MESSAGES, anthropic("content_block_stop", index=0), state)
    assert [e.event for e in out] == ["content_block_delta", "content_block_stop"]
    assert json.loads(out[0].data)["delta"] == {"type": "text_delta", "text": REDACTED}
    thinking = anthropic(
        "content_block_delta", index=2, delta={"type": "thinking_delta", "thinking": T_NAME}
    )
    assert restore_sse_event(Api.MESSAGES, thinking, state) == [thinking]


# --- SSE: OpenAI Responses ----------------------------------------------------------------------


def responses(kind: str, **fields: Any) -> SseEvent:
    return SseEvent(event=kind, data=json.dumps({"type": kind, **fields}))


def test_responses_stream_cut_at_every_byte() -> None:
    text = f"Hi {T_NAME} ({T_EMAIL})"
    arguments = json.dumps({"to": T_EMAIL})
    ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events = [
        responses("response.created", response={"id": "r", "instructions": T_NAME, "output": []}),
        *[responses("response.output_text.delta", delta=p, **ids) for p in split(text, 4)],
        responses("response.output_text.done", text=text, **ids),
        responses("response.content_part.done", part={"type": "output_text", "text": text}, **ids),
        *[responses("response.function_call_arguments.delta", item_id="fc_1", output_index=1,
                    delta=p) for p in split(arguments, 3)],
        responses("response.function_call_arguments.done", item_id="fc_1", output_index=1,
                  arguments=arguments),
        responses("response.output_item.done", output_index=1, item={
            "type": "function_call", "id": "fc_1", "name": "f", "arguments": arguments}),
        responses("response.completed", response={"id": "r", "output": [
            {"type": "message", "content": [{"type": "output_text", "text": text}]}]}),
    ]  # fmt: skip
    wire = b"".join(encode(e) for e in events)
    want = restorer().restore_text(text)
    for cut in range(0, len(wire) + 1, 3):
        out = [json.loads(e.data) for e in restore_wire(Api.RESPONSES, wire, cut)]
        by_type: dict[str, list[dict[str, Any]]] = {}
        for obj in out:
            by_type.setdefault(obj["type"], []).append(obj)
        deltas = "".join(o["delta"] for o in by_type["response.output_text.delta"])
        assert deltas == want
        assert by_type["response.output_text.done"][0]["text"] == want
        assert by_type["response.content_part.done"][0]["part"]["text"] == want
        streamed = "".join(o["delta"] for o in by_type["response.function_call_arguments.delta"])
        assert json.loads(streamed) == {"to": 'o"brien@example.ie'}
        done = by_type["response.function_call_arguments.done"][0]["arguments"]
        assert json.loads(done) == json.loads(
            by_type["response.output_item.done"][0]["item"]["arguments"]
        )
        assert (
            by_type["response.completed"][0]["response"]["output"][0]["content"][0]["text"] == want
        )
        assert by_type["response.created"][0]["response"]["instructions"] == "Zoë Müller"


def test_responses_done_flushes_an_incomplete_token_first() -> None:
    state = StreamState(restorer())
    ids = {"item_id": "m", "output_index": 0, "content_index": 0}
    text = "a " + T_NAME[:8]
    delta = responses("response.output_text.delta", delta=text, **ids)
    assert json.loads(restore_sse_event(Api.RESPONSES, delta, state)[0].data)["delta"] == "a "
    done = responses("response.output_text.done", text=text, **ids)
    out = restore_sse_event(Api.RESPONSES, done, state)
    kinds = [json.loads(e.data)["type"] for e in out]
    assert kinds == ["response.output_text.delta", "response.output_text.done"]
    assert json.loads(out[0].data)["delta"] == REDACTED
