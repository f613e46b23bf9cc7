"""Request redaction over every API shape, with the real detector (`build_detector([])`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.gateway.actions import Action, Api
from egressguard.gateway.detect import Detector, PiiCategory, build_detector
from egressguard.gateway.restore import Restorer
from egressguard.gateway.tokens import TOKEN_PATTERN, Binding, Tokenizer
from egressguard.gateway.transform import RedactContext, Redactor, RedactResult

SECRET = b"0123456789abcdef0123456789abcdef"
CTX = RedactContext("shop1", "conv-1")
EMAIL = "jan.kowalski@example.com"
EMAIL2 = "marie.dupont@example.fr"
QUOTED_EMAIL = 'o"brien@example.ie'
PHONE = "+49 30 1234567"
IBAN = "DE89 3704 0044 0532 0130 00"
NAME = "Jan Kowalski"
VALUES = (EMAIL, EMAIL2, QUOTED_EMAIL, PHONE, IBAN, NAME, "Müller", "Hauptstraße 5")


@pytest.fixture(scope="module")
def detector() -> Detector:
    return build_detector([])


def _redactor(detector: Detector, action: Action = Action.TOKENIZE) -> Redactor:
    return Redactor(detector, Tokenizer(SECRET), lambda category: action)


def tok(category: PiiCategory, value: str) -> str:
    return Tokenizer(SECRET).token(CTX.tenant, CTX.conversation, category, value)


def redact(detector: Detector, api: Api, body: dict[str, Any]) -> RedactResult:
    before = copy.deepcopy(body)
    result = _redactor(detector).redact_request(api, body, CTX)
    assert body == before, "the input body must not be modified"
    sent = json.dumps(result.body, ensure_ascii=False)
    for value in VALUES:
        assert value not in sent and json.dumps(value)[1:-1] not in sent
    for token, issued in result.issued.items():
        assert TOKEN_PATTERN.fullmatch(token)
        assert token == tok(issued.category, issued.value)
    return result


def restored(result: RedactResult) -> Restorer:
    issued = {token: item.value for token, item in result.issued.items()}
    return Restorer(issued.get, issued)


E = PiiCategory.EMAIL


# --- golden requests, one per API shape ---------------------------------------------------------


def test_chat(detector: Detector) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "description": "Find a customer"}}]
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "You help the shop."},
            {"role": "user", "content": f"Customer {EMAIL}, phone {PHONE}, IBAN {IBAN}."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"Also {EMAIL2}"},
                    {"type": "image_url", "image_url": {"url": "https://cdn.example/x.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "lookup",
                            "arguments": json.dumps({"email": QUOTED_EMAIL, "limit": 3}),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"email": EMAIL})},
        ],
        "tools": tools,
    }
    result = redact(detector, Api.CHAT, body)
    m = result.body["messages"]
    assert m[0] == body["messages"][0]
    expected = (
        f"Customer {tok(E, EMAIL)}, phone {tok(PiiCategory.PHONE, PHONE)},"
        f" IBAN {tok(PiiCategory.IBAN, IBAN)}."
    )
    assert m[1]["content"] == expected
    assert m[2]["content"] == [
        {"type": "text", "text": f"Also {tok(E, EMAIL2)}"},
        body["messages"][2]["content"][1],
    ]
    arguments = m[3]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"email": tok(E, QUOTED_EMAIL), "limit": 3}
    assert m[3]["tool_calls"][0]["id"] == "call_1"
    assert json.loads(m[4]["content"]) == {"email": tok(E, EMAIL)}
    assert result.body["tools"] is tools  # tool definitions are not touched
    assert result.counts == {E: 4, PiiCategory.PHONE: 1, PiiCategory.IBAN: 1}
    assert result.actions == dict.fromkeys(result.counts, Action.TOKENIZE)
    assert result.blocked == []
    assert {item.value for item in result.issued.values()} == {
        EMAIL,
        EMAIL2,
        QUOTED_EMAIL,
        PHONE,
        IBAN,
    }


def test_completions_and_embeddings(detector: Detector) -> None:
    result = redact(detector, Api.COMPLETIONS, {"prompt": f"Mail {EMAIL}", "suffix": EMAIL2})
    assert result.body == {"prompt": f"Mail {tok(E, EMAIL)}", "suffix": tok(E, EMAIL2)}
    result = redact(detector, Api.COMPLETIONS, {"prompt": [EMAIL, [1, 2, 3]]})
    assert result.body == {"prompt": [tok(E, EMAIL), [1, 2, 3]]}
    result = redact(detector, Api.EMBEDDINGS, {"input": [f"a {EMAIL}", "plain"], "model": "e"})
    assert result.body == {"input": [f"a {tok(E, EMAIL)}", "plain"], "model": "e"}
    result = redact(detector, Api.EMBEDDINGS, {"input": EMAIL2})
    assert result.body == {"input": tok(E, EMAIL2)}


def test_responses(detector: Detector) -> None:
    body: dict[str, Any] = {
        "model": "m",
        "instructions": f"Escalate to {EMAIL2}",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": f"I am {EMAIL}"}]},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": f"Noted {EMAIL}"}
            ]},
            {"type": "function_call", "call_id": "c", "name": "f",
             "arguments": json.dumps({"email": QUOTED_EMAIL})},
            {"type": "function_call_output", "call_id": "c",
             "output": json.dumps({"iban": IBAN})},
            {"type": "item_reference", "id": "msg_1"},
        ],
    }  # fmt: skip
    result = redact(detector, Api.RESPONSES, body)
    items = result.body["input"]
    assert result.body["instructions"] == f"Escalate to {tok(E, EMAIL2)}"
    assert items[0]["content"][0]["text"] == f"I am {tok(E, EMAIL)}"
    assert items[1]["content"][0]["text"] == f"Noted {tok(E, EMAIL)}"
    assert json.loads(items[2]["arguments"]) == {"email": tok(E, QUOTED_EMAIL)}
    assert json.loads(items[3]["output"]) == {"iban": tok(PiiCategory.IBAN, IBAN)}
    assert items[4] == body["input"][4]
    assert redact(detector, Api.RESPONSES, {"input": EMAIL}).body == {"input": tok(E, EMAIL)}


def test_anthropic_messages(detector: Detector) -> None:
    body: dict[str, Any] = {
        "model": "claude",
        "system": [{"type": "text", "text": f"Owner: {EMAIL2}"}],
        "messages": [
            {"role": "user", "content": f"Write to {EMAIL}"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "t", "signature": "sig"},
                {"type": "text", "text": "Looking up."},
                {"type": "tool_use", "id": "tu", "name": "lookup",
                 "input": {"customer": {"email": QUOTED_EMAIL, "orders": [1, 2]}}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "tu",
                 "content": [{"type": "text", "text": json.dumps({"phone": PHONE})}]},
                {"type": "tool_result", "tool_use_id": "tu2", "content": f"iban {IBAN}"},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                                "data": f"Contact {EMAIL}"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "iVBORw0KGgo="}},
            ]},
        ],
        "metadata": {"user_id": "customer-42"},
    }  # fmt: skip
    result = redact(detector, Api.MESSAGES, body)
    assert result.body["system"] == [{"type": "text", "text": f"Owner: {tok(E, EMAIL2)}"}]
    msgs = result.body["messages"]
    assert msgs[0]["content"] == f"Write to {tok(E, EMAIL)}"
    assert msgs[1]["content"][:2] == body["messages"][1]["content"][:2]
    assert msgs[1]["content"][2]["input"] == {
        "customer": {"email": tok(E, QUOTED_EMAIL), "orders": [1, 2]}
    }
    results = msgs[2]["content"]
    assert json.loads(results[0]["content"][0]["text"]) == {"phone": tok(PiiCategory.PHONE, PHONE)}
    assert results[1]["content"] == f"iban {tok(PiiCategory.IBAN, IBAN)}"
    assert results[2]["source"]["data"] == f"Contact {tok(E, EMAIL)}"
    assert results[3] == body["messages"][2]["content"][3]
    assert result.body["metadata"] == {"user_id": "customer-42"}


def test_key_aware_values_in_tool_results(detector: Detector) -> None:
    order = {"customer": {"firstname": "Anna", "lastname": "Müller", "street": "Hauptstraße 5"}}
    body = {"messages": [{"role": "tool", "tool_call_id": "c", "content": json.dumps(order)}]}
    result = redact(detector, Api.CHAT, body)
    sent = json.loads(result.body["messages"][0]["content"])["customer"]
    assert sent["lastname"] == tok(PiiCategory.PERSON_NAME, "Müller")
    assert sent["street"] == tok(PiiCategory.ADDRESS, "Hauptstraße 5")
    assert restored(result).json(sent) == order["customer"]


# --- actions ------------------------------------------------------------------------------------


def _with_actions(detector: Detector, actions: dict[PiiCategory, Action]) -> Redactor:
    return Redactor(detector, Tokenizer(SECRET), lambda c: actions.get(c, Action.TOKENIZE))


def test_mask_block_allow(detector: Detector) -> None:
    body = {"messages": [{"role": "user", "content": f"{EMAIL} {PHONE} {IBAN}"}]}
    redactor = _with_actions(
        detector,
        {E: Action.MASK, PiiCategory.PHONE: Action.ALLOW, PiiCategory.IBAN: Action.BLOCK},
    )
    result = redactor.redact_request(Api.CHAT, body, CTX)
    assert result.body["messages"][0]["content"] == f"[EMAIL] {PHONE} [IBAN]"
    assert result.blocked == [PiiCategory.IBAN]
    assert result.issued == {}
    assert result.actions == {
        E: Action.MASK,
        PiiCategory.PHONE: Action.ALLOW,
        PiiCategory.IBAN: Action.BLOCK,
    }


def test_policy_may_return_another_str_enum(detector: Detector) -> None:
    class OtherAction(str):
        pass

    redactor = Redactor(detector, Tokenizer(SECRET), lambda c: OtherAction("allow"))  # type: ignore[arg-type,return-value]
    result = redactor.redact_request(Api.COMPLETIONS, {"prompt": EMAIL}, CTX)
    assert result.body == {"prompt": EMAIL} and result.actions == {E: Action.ALLOW}


def test_tokens_and_masks_are_left_alone(detector: Detector) -> None:
    text = f"{tok(E, EMAIL)} and [EMAIL] and {EMAIL2}"
    result = redact(detector, Api.COMPLETIONS, {"prompt": text})
    assert result.body["prompt"] == f"{tok(E, EMAIL)} and [EMAIL] and {tok(E, EMAIL2)}"
    assert list(result.issued) == [tok(E, EMAIL2)]


def test_stable_across_turns(detector: Detector) -> None:
    tokenizer = Tokenizer(SECRET)
    redactor = Redactor(detector, tokenizer, lambda c: Action.TOKENIZE)
    turn1 = {"messages": [{"role": "user", "content": f"I am {EMAIL}"}]}
    turn2 = {"messages": [*turn1["messages"], {"role": "assistant", "content": "Hi"},
                          {"role": "user", "content": f"Also {EMAIL} and {EMAIL2}"}]}  # fmt: skip
    results = []
    for body in (turn1, turn2):
        conversation = tokenizer.conversation_id("shop1", Api.CHAT, body)
        results.append(
            redactor.redact_request(Api.CHAT, body, RedactContext("shop1", conversation))
        )
    first = results[0].body["messages"][0]["content"]
    assert results[1].body["messages"][0]["content"] == first
    assert first.removeprefix("I am ") in results[1].body["messages"][2]["content"]


def test_collision_with_the_vault_lengthens(detector: Detector) -> None:
    taken = tok(E, EMAIL)
    ctx = RedactContext("shop1", "conv-1", {taken: Binding("other@example.com", "conv-1")}.get)
    result = _redactor(detector).redact_request(Api.COMPLETIONS, {"prompt": EMAIL}, ctx)
    (token,) = result.issued
    assert token != taken and token[:-1].startswith(taken[:-1])


def test_participant_name_stays_a_valid_name(detector: Detector) -> None:
    body = {"messages": [{"role": "user", "name": EMAIL, "content": "hi"}]}
    result = redact(detector, Api.CHAT, body)
    assert result.body["messages"][0]["name"] == tok(E, EMAIL).strip("[]")


def test_invalid_tool_arguments_are_redacted_as_text(detector: Detector) -> None:
    call = {"function": {"name": "f", "arguments": '{"email": "' + EMAIL}}
    body = {"messages": [{"role": "assistant", "tool_calls": [call]}]}
    result = redact(detector, Api.CHAT, body)
    sent = result.body["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert sent == '{"email": "' + tok(E, EMAIL)


def test_numbers_under_sensitive_keys(detector: Detector) -> None:
    """A detected number becomes a token string and comes back as a string (documented)."""
    args = json.dumps({"card": 4111111111111111, "qty": 2})
    body = {"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": args}}]}]}
    result = _redactor(detector).redact_request(Api.CHAT, body, CTX)
    sent = json.loads(result.body["messages"][0]["tool_calls"][0]["function"]["arguments"])
    assert sent == {"card": tok(PiiCategory.CARD, "4111111111111111"), "qty": 2}
    assert restored(result).json(sent) == {"card": "4111111111111111", "qty": 2}


# --- round trips --------------------------------------------------------------------------------

ESCAPY = ['o"brien@example.ie', "back\\slash@example.com", "zoë.ünïcode@example.de", "tab\t@x.io"]


@pytest.mark.parametrize("value", ESCAPY)
def test_escaping_survives_tool_argument_round_trip(detector: Detector, value: str) -> None:
    original = {"email": value, "note": 'say "hi" \\ \u2028 ✓'}
    call = {
        "id": "c",
        "type": "function",
        "function": {"name": "f", "arguments": json.dumps(original)},
    }
    body = {"messages": [{"role": "assistant", "content": None, "tool_calls": [call]}]}
    result = _redactor(detector).redact_request(Api.CHAT, body, CTX)
    sent = result.body["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert value not in sent and json.loads(sent)["note"] == original["note"]
    reply_call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": sent}}
    answer = {
        "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [reply_call]}}]
    }
    back = restored(result).restore_json_body(Api.CHAT, answer)
    assert json.loads(back["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == (
        original
    )


PII = st.sampled_from([EMAIL, EMAIL2, PHONE, IBAN, "anna.schmidt@example.at", "+33 1 23 45 67 89"])
FILLER = st.text(alphabet=st.sampled_from(list("abcdefghij klmnop,.!?\n()")), max_size=12)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.tuples(FILLER, PII), max_size=6), tail=FILLER)
def test_redact_restore_round_trip(
    detector: Detector, pieces: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(f"{filler} {value} " for filler, value in pieces) + tail
    result = _redactor(detector).redact_request(Api.COMPLETIONS, {"prompt": text}, CTX)
    sent = result.body["prompt"]
    for _, value in pieces:
        assert value not in sent
    assert restored(result).restore_text(sent) == text


def _walk_strings(value: Any, visit: Callable[[str], None]) -> None:
    if isinstance(value, str):
        visit(value)
    elif isinstance(value, dict):
        for v in value.values():
            _walk_strings(v, visit)
    elif isinstance(value, list):
        for v in value:
            _walk_strings(v, visit)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.dictionaries(
        st.sampled_from(["email", "note", "contact", "x"]),
        st.one_of(PII, FILLER, st.lists(PII, max_size=2)),
        max_size=4,
    ),
    qty=st.none() | st.integers(0, 100),
)
def test_tool_argument_round_trip(
    detector: Detector, args: dict[str, Any], qty: int | None
) -> None:
    if qty is not None:
        args = {**args, "qty": qty}
    call = {"function": {"name": "f", "arguments": json.dumps(args)}}
    body = {"messages": [{"role": "assistant", "tool_calls": [call]}]}
    result = _redactor(detector).redact_request(Api.CHAT, body, CTX)
    sent = result.body["messages"][0]["tool_calls"][0]["function"]["arguments"]

    def no_pii(text: str) -> None:
        for value in (EMAIL, EMAIL2, IBAN, PHONE):
            assert value not in text

    _walk_strings(json.loads(sent), no_pii)
    assert json.loads(restored(result).arguments(sent)) == args
