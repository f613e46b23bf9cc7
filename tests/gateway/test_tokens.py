"""Token form, stability, separation of tenants and conversations, collisions, conversation ids."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egressguard.gateway.actions import Api
from egressguard.gateway.tokens import (
    MASK_PATTERN,
    TOKEN_PATTERN,
    Binding,
    Tokenizer,
    conversation_source,
    label,
    mask,
    normalise,
)

SECRET = b"0123456789abcdef0123456789abcdef"
names = st.text(min_size=0, max_size=20)
categories = st.sampled_from(["email", "phone", "iban", "person_name", "customer", "ip_address"])


@pytest.fixture
def tokenizer() -> Tokenizer:
    return Tokenizer(SECRET)


def test_form(tokenizer: Tokenizer) -> None:
    token = tokenizer.token("shop1", "c1", "email", "alice@example.com")
    assert TOKEN_PATTERN.fullmatch(token)
    assert token.startswith("[EMAIL_") and len(token) == len("[EMAIL_") + 6 + 1
    assert not MASK_PATTERN.fullmatch(token)


def test_labels_and_masks() -> None:
    assert label("person_name") == "PERSON_NAME"
    assert label("vat-id") == "VAT_ID"
    assert label("9lives") == "DATA_9LIVES"
    assert label("") == "DATA"
    assert mask("email") == "[EMAIL]"
    assert MASK_PATTERN.fullmatch(mask("ip_address"))
    assert not TOKEN_PATTERN.search(mask("ip_address"))


def test_documented_encoding(tokenizer: Tokenizer) -> None:
    """The digest is HMAC-SHA256 over length-prefixed fields, as the module documents."""

    def field(text: str) -> bytes:
        raw = text.encode()
        return len(raw).to_bytes(4, "big") + raw

    message = b"egressguard/token/v1" + b"".join(
        field(f) for f in ("shop1", "c1", "email", "alice@example.com")
    )
    digest = hmac.new(SECRET, message, hashlib.sha256).hexdigest()
    assert tokenizer.token("shop1", "c1", "email", "Alice@example.com") == f"[EMAIL_{digest[:6]}]"
    assert digest[:6] == "729eea"  # pinned: a change here changes every stored token


@pytest.mark.parametrize("secret", [b"k" * 16, b"k" * 64, b"k" * 65, bytes(range(256))])
def test_digest_is_hmac_sha256_for_any_key_length(secret: bytes) -> None:
    """The precomputed-pad HMAC equals the standard library's for short and long keys."""
    message = b"egressguard/conversation/v1" + b"".join(
        len(f.encode()).to_bytes(4, "big") + f.encode() for f in ("t", "header", "c")
    )
    expected = hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
    assert Tokenizer(secret).conversation_id("t", Api.CHAT, {}, header="c") == f"header:{expected}"


def test_normalised_values_share_a_token(tokenizer: Tokenizer) -> None:
    def tok(category: str, value: str) -> str:
        return tokenizer.token("t", "c", category, value)

    assert tok("email", "Alice@Example.COM ") == tok("email", "alice@example.com")
    assert tok("iban", "DE89 3704 0044 0532 0130 00") == tok("iban", "de89370400440532013000")
    assert tok("phone", "+49 30 123-4567") == tok("phone", "+49301234567")
    assert tok("person_name", "Jan  Kowalski") == tok("person_name", "jan kowalski")
    assert tok("email", "a@example.com") != tok("email", "b@example.com")
    assert normalise("customer", "ＡＢＣ") == "abc"  # NFKC: full-width letters


def test_field_boundaries_are_unambiguous(tokenizer: Tokenizer) -> None:
    assert tokenizer.token("ab", "c", "email", "x@y.z") != tokenizer.token(
        "a", "bc", "email", "x@y.z"
    )
    assert tokenizer.token("t", "c", "customer", "ab") != tokenizer.token(
        "t", "ca", "customer", "b"
    )


def test_secret_matters_and_is_checked() -> None:
    other = Tokenizer(b"another secret of 32 bytes......")
    assert other.token("t", "c", "email", "a@b.c") != Tokenizer(SECRET).token(
        "t", "c", "email", "a@b.c"
    )
    with pytest.raises(ValueError, match="16 bytes"):
        Tokenizer(b"short")


def test_collision_lengthens_deterministically(tokenizer: Tokenizer) -> None:
    first = tokenizer.token("t", "c", "email", "a@example.com")

    def bound_to(table: dict[str, Binding]) -> Callable[[str], Binding | None]:
        return table.get

    bound = {first: Binding("someone-else@example.com", "c")}
    second = tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(bound))
    assert second != first and second[:-1].startswith(first[:-1]) and len(second) == len(first) + 2
    assert tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(bound)) == second
    # bound to the same value (another spelling of it): not a collision
    same = {first: Binding("A@Example.com", "c")}
    assert tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(same)) == first
    # an entry from before conversations were recorded: the same value is not a collision
    legacy = {first: Binding("a@example.com", None)}
    assert tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(legacy)) == first
    # the same value bound in another conversation: a collision (a token names one conversation)
    elsewhere = {first: Binding("a@example.com", "other")}
    assert tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(elsewhere)) == second
    # a chain of collisions keeps lengthening
    longer = {first: Binding("x@x.x", "c"), second: Binding("y@y.y", "c")}
    third = tokenizer.token("t", "c", "email", "a@example.com", bound=bound_to(longer))
    assert len(third) == len(first) + 4 and TOKEN_PATTERN.fullmatch(third)


@given(tenant=names, conversation=names, category=categories, value=st.text(min_size=1))
def test_stable_and_well_formed(tenant: str, conversation: str, category: str, value: str) -> None:
    tokenizer = Tokenizer(SECRET)
    token = tokenizer.token(tenant, conversation, category, value)
    assert TOKEN_PATTERN.fullmatch(token)
    assert Tokenizer(SECRET).token(tenant, conversation, category, value) == token


@given(a=names, b=names, conversation=names, value=st.text(min_size=1))
def test_tenants_get_unrelated_tokens(a: str, b: str, conversation: str, value: str) -> None:
    tokenizer = Tokenizer(SECRET)
    ta = tokenizer.token(a, conversation, "email", value)
    tb = tokenizer.token(b, conversation, "email", value)
    assert (ta == tb) == (a == b)


@given(tenant=names, a=names, b=names, value=st.text(min_size=1))
def test_conversations_get_unrelated_tokens(tenant: str, a: str, b: str, value: str) -> None:
    tokenizer = Tokenizer(SECRET)
    ta = tokenizer.token(tenant, a, "customer", value)
    tb = tokenizer.token(tenant, b, "customer", value)
    assert (ta == tb) == (a == b)


# --- conversation ids ---------------------------------------------------------------------------

CHAT_TURN_1 = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Hi"}]}
CHAT_TURN_2 = {
    "messages": [
        *CHAT_TURN_1["messages"],
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "More"},
    ]
}


@pytest.mark.parametrize(
    ("api", "body", "header", "expected"),
    [
        (Api.CHAT, CHAT_TURN_1, "conv-42", ("header", "conv-42")),
        (
            Api.CHAT,
            {**CHAT_TURN_1, "metadata": {"conversation_id": "c9"}},
            None,
            ("metadata", "c9"),
        ),
        (Api.RESPONSES, {"conversation": "conv_1", "input": "x"}, None, ("conversation", "conv_1")),
        (Api.RESPONSES, {"conversation": {"id": "conv_2"}}, None, ("conversation", "conv_2")),
        (Api.CHAT, {**CHAT_TURN_1, "user": "u-7"}, None, ("user", "u-7")),
        (Api.MESSAGES, {"metadata": {"user_id": "u-8"}, "messages": []}, None, ("user", "u-8")),
        (Api.CHAT, CHAT_TURN_1, "  ", ("first-message", "Hi")),
        (Api.CHAT, CHAT_TURN_2, None, ("first-message", "Hi")),
        (
            Api.CHAT,
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]},
            None,
            ("first-message", "a"),
        ),
        (
            Api.MESSAGES,
            {"system": "s", "messages": [{"role": "user", "content": "Hallo"}]},
            None,
            ("first-message", "Hallo"),
        ),
        (Api.RESPONSES, {"input": "Bonjour"}, None, ("first-message", "Bonjour")),
        (
            Api.RESPONSES,
            {"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hoi"}]}]},
            None,
            ("first-message", "Hoi"),
        ),
        (Api.COMPLETIONS, {"prompt": ["p1", "p2"]}, None, ("first-message", "p1")),
        (Api.EMBEDDINGS, {"input": "e"}, None, ("first-message", "e")),
        (Api.EMBEDDINGS, {"input": [[1, 2]]}, None, ("first-message", "")),
    ],
)
def test_conversation_source(
    api: Api, body: dict[str, object], header: str | None, expected: tuple[str, str]
) -> None:
    assert conversation_source(api, body, header) == expected


def test_conversation_id_is_stable_across_turns_and_carries_no_data(tokenizer: Tokenizer) -> None:
    first = tokenizer.conversation_id("shop1", Api.CHAT, CHAT_TURN_1)
    assert tokenizer.conversation_id("shop1", Api.CHAT, CHAT_TURN_2) == first
    assert tokenizer.conversation_id("shop2", Api.CHAT, CHAT_TURN_1) != first
    assert first.startswith("first-message:") and len(first.split(":")[1]) == 32
    with_user = tokenizer.conversation_id("shop1", Api.CHAT, {"user": "alice@example.com"})
    assert "alice" not in with_user and with_user.startswith("user:")
