"""The redactor's memo: resent long texts are not redacted again, and a hit changes nothing.

A hit must give exactly what a fresh redaction gives (body, counts, actions, issued tokens and
values, blocked categories), must not scan or mint, and must give way to a fresh redaction as
soon as a remembered token no longer stands for its value in this conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.gateway.actions import Action, Api
from egressguard.gateway.detect import Detector, PiiCategory, Span, build_detector
from egressguard.gateway.tokens import Binding, Tokenizer
from egressguard.gateway.transform import RedactContext, RedactionMemo, Redactor, RedactResult

SECRET = b"0123456789abcdef0123456789abcdef"
EMAIL = "jan.kowalski@example.com"
PHONE = "+49 30 1234567"
IBAN = "DE89 3704 0044 0532 0130 00"
HISTORY = (
    f"Order 1001 for Jan Kowalski ({EMAIL}, {PHONE}), paid from {IBAN}.\n"
    "Ship to Hauptstraße 5, 10115 Berlin. Contact marie.dupont@example.fr for the invoice.\n"
    "Customer asks whether the order can be split over two deliveries next week, please.\n"
)


class Counting:
    """The real detector, counting its scans."""

    def __init__(self, real: Detector) -> None:
        self.real = real
        self.scans = 0

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]:
        self.scans += 1
        return self.real.scan(text, key=key)


class CountingTokenizer(Tokenizer):
    def __init__(self, secret: bytes) -> None:
        super().__init__(secret)
        self.minted = 0

    def token(self, *args: Any, **kwargs: Any) -> str:
        self.minted += 1
        return super().token(*args, **kwargs)


@pytest.fixture(scope="module")
def real() -> Detector:
    return build_detector([])


class Shop:
    """A redactor with a memo and a 'vault' (what was issued so far, as the protector keeps)."""

    def __init__(
        self,
        real: Detector,
        action_for: Callable[[PiiCategory], Action] = lambda c: Action.TOKENIZE,
        *,
        memo: bool = True,
    ) -> None:
        self.detector = Counting(real)
        self.tokenizer = CountingTokenizer(SECRET)
        self.memo: RedactionMemo | None = RedactionMemo(min_chars=64) if memo else None
        self.redactor = Redactor(
            self.detector, self.tokenizer, action_for, memo=self.memo, scope="/v1/chat"
        )
        self.stored: dict[str, Binding] = {}

    def send(self, text: str, conversation: str = "conv-1", tenant: str = "shop1") -> RedactResult:
        ctx = RedactContext(tenant, conversation, self.stored.get)
        result = self.redactor.redact_request(Api.COMPLETIONS, {"prompt": text}, ctx)
        for token, issued in result.issued.items():  # stored, as the protector does
            self.stored.setdefault(token, Binding(issued.value, conversation))
        return result


def _same(a: RedactResult, b: RedactResult) -> None:
    assert a.body == b.body
    assert a.counts == b.counts and a.actions == b.actions
    assert a.issued == b.issued and a.blocked == b.blocked


def test_a_resent_text_is_neither_scanned_nor_tokenised_again(real: Detector) -> None:
    shop = Shop(real)
    first = shop.send(HISTORY)
    scans, minted = shop.detector.scans, shop.tokenizer.minted
    assert minted >= 6
    again = shop.send(HISTORY)
    _same(again, first)
    assert (shop.detector.scans, shop.tokenizer.minted) == (scans, minted)
    assert shop.memo is not None and shop.memo.hits == 1


def test_another_conversation_tenant_or_route_is_redacted_afresh(real: Detector) -> None:
    shop = Shop(real)
    first = shop.send(HISTORY)
    other = shop.send(HISTORY, conversation="conv-2")
    elsewhere = shop.send(HISTORY, tenant="shop2")
    assert set(other.issued).isdisjoint(first.issued)
    assert set(elsewhere.issued).isdisjoint(first.issued)
    routed = Redactor(
        shop.detector, shop.tokenizer, lambda c: Action.MASK, memo=shop.memo, scope="/v1/other"
    )
    masked = routed.redact_request(
        Api.COMPLETIONS, {"prompt": HISTORY}, RedactContext("shop1", "conv-1", shop.stored.get)
    )
    assert masked.issued == {} and "[EMAIL]" in masked.body["prompt"]


def test_a_token_that_no_longer_holds_is_minted_again(real: Detector) -> None:
    """After an erasure (the binding is gone) or a collision (bound to another value), the
    memo's token is not used: the text is redacted as if never seen."""
    shop = Shop(real)
    first = shop.send(HISTORY)
    token = next(t for t, item in first.issued.items() if item.value == EMAIL)
    del shop.stored[token]  # erased
    minted = shop.tokenizer.minted
    again = shop.send(HISTORY)
    _same(again, first)  # the same tokens, now minted afresh
    assert shop.tokenizer.minted > minted
    assert shop.memo is not None and shop.memo.stats()[:3] == (0, 1, 1)  # a stale hit, no hit
    shop.stored[token] = Binding("someone.else@example.com", "conv-1")  # taken by another value
    moved = shop.send(HISTORY)
    (new,) = [t for t, item in moved.issued.items() if item.value == EMAIL]
    assert new != token and new[:-1].startswith(token[:-1])  # lengthened, as without a memo
    assert moved.body["prompt"] != first.body["prompt"]


def test_a_remembered_token_bound_in_another_conversation_is_not_used(real: Detector) -> None:
    shop = Shop(real)
    first = shop.send(HISTORY)
    token = next(iter(first.issued))
    shop.stored[token] = Binding(first.issued[token].value, "conv-9")
    again = shop.send(HISTORY)
    assert token not in again.issued


def test_the_memo_keeps_no_text_or_value(real: Detector) -> None:
    shop = Shop(real)
    shop.send(HISTORY)
    assert shop.memo is not None
    kept = repr(list(shop.memo._values.items()))
    for secret in (EMAIL, "Kowalski", "DE89", "Hauptstraße", "marie.dupont", "split over"):
        assert secret not in kept


PII = st.sampled_from(
    [EMAIL, PHONE, IBAN, "anna.schmidt@example.at", "+33 1 23 45 67 89", "Anna@Example.AT"]
)
FILLER = st.text(alphabet=st.sampled_from(list("abcdefghij klmnop,.!?\n()")), max_size=30)
ACTIONS = st.sampled_from(list(Action))


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    turns=st.lists(
        st.lists(st.tuples(FILLER, PII), min_size=1, max_size=6), min_size=1, max_size=4
    ),
    actions=st.fixed_dictionaries(
        dict.fromkeys((PiiCategory.EMAIL, PiiCategory.PHONE, PiiCategory.IBAN), ACTIONS)
    ),
    repeats=st.lists(st.integers(0, 3), min_size=1, max_size=6),
)
def test_with_or_without_the_memo_the_same_result(
    real: Detector,
    turns: list[list[tuple[str, str]]],
    actions: dict[PiiCategory, Action],
    repeats: list[int],
) -> None:
    """Any sequence of (re)sent texts: the memo never changes what a request sends or issues."""

    def action_for(category: PiiCategory) -> Action:
        return actions.get(category, Action.TOKENIZE)

    texts = [("".join(f"{f} {v} " for f, v in turn) + "x" * 64) for turn in turns]
    with_memo, without = Shop(real, action_for), Shop(real, action_for, memo=False)
    for index in repeats:
        text = texts[index % len(texts)]
        _same(with_memo.send(text), without.send(text))
