"""The canary matcher: every supported encoding found anywhere, nothing found by chance."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.runtime.canary import (
    CANARY_FIELDS,
    CanaryMatcher,
    Encoding,
    base64_fragments,
    canary_values,
    chat_nonce,
    make_persona,
    persona_from_mapping,
    persona_to_mapping,
)

PERSONA = make_persona("property-tests")
MATCHER = CanaryMatcher(PERSONA)
VALUES = canary_values(PERSONA)

# Independent oracles: the encodings as a page, a tag manager or a pixel would write them.
TEXT_ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "url": lambda v: quote(v, safe=""),
    "url-keep-at": lambda v: quote(v, safe="@"),
    "form": lambda v: quote_plus(v, safe=""),
    "url-lower-hex": lambda v: quote(v, safe="").lower(),
    "json": lambda v: json.dumps(v)[1:-1],
    "json-php": lambda v: json.dumps(v)[1:-1].replace("/", "\\/"),
    "html": lambda v: html.escape(v),
    "upper": lambda v: v.upper(),
}
HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}
noise = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(sorted(VALUES)),
    encoding=st.sampled_from(sorted(TEXT_ENCODINGS)),
    before=noise,
    after=noise,
    as_bytes=st.booleans(),
)
def test_text_encodings_found_anywhere(
    field: str, encoding: str, before: str, after: str, as_bytes: bool
) -> None:
    if encoding == "upper" and field not in ("email",):
        encoding = "raw"  # only e-mail addresses are case-insensitive by nature
    text = before + TEXT_ENCODINGS[encoding](VALUES[field]) + after
    data: str | bytes = text.encode("utf-8") if as_bytes else text
    assert field in MATCHER.fields_in(data)


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(sorted(VALUES)),
    before=st.binary(max_size=20),
    after=st.binary(max_size=20),
    urlsafe=st.booleans(),
    wrap=noise,
)
def test_base64_found_at_every_alignment(
    field: str, before: bytes, after: bytes, urlsafe: bool, wrap: str
) -> None:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    blob = encode(before + VALUES[field].encode("utf-8") + after).decode("ascii")
    hits = MATCHER.find(wrap + blob + wrap)
    assert field in {h.field for h in hits} or _inside_longer_value(field, hits)


def _inside_longer_value(field: str, hits: list[object]) -> bool:
    """first/last name inside the encoded full name: the longer value is reported."""
    return field in ("first_name", "last_name") and any(
        getattr(h, "field", "") == "full_name" for h in hits
    )


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["email", "phone"]),
    algorithm=st.sampled_from(sorted(HASHES)),
    upper=st.booleans(),
    before=noise,
    after=noise,
)
def test_hashed_email_and_phone_found(
    field: str, algorithm: str, upper: bool, before: str, after: str
) -> None:
    normalised = f"  {VALUES[field].upper()} ".strip().lower()
    digest = HASHES[algorithm](normalised.encode()).hexdigest()
    hits = MATCHER.find(before + (digest.upper() if upper else digest) + after)
    assert (field, Encoding(algorithm)) in {(h.field, h.encoding) for h in hits}


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400), blob=st.binary(max_size=300))
def test_random_text_without_a_canary_matches_nothing(text: str, blob: bytes) -> None:
    assert MATCHER.find(text) == []
    assert MATCHER.find(blob) == []
    assert MATCHER.find(base64.b64encode(blob).decode()) == []


def test_another_personas_values_are_not_this_ones() -> None:
    other = make_persona("someone-else")
    text = json.dumps(canary_values(other))
    assert MATCHER.find(text) == []


@pytest.mark.parametrize(
    ("text", "field", "encoding"),
    [
        (f"q={quote_plus(PERSONA.chat_sentence)}", "chat_sentence", Encoding.FORM),
        (f"q={quote(PERSONA.chat_sentence)}", "chat_sentence", Encoding.URL),
        (json.dumps({"m": PERSONA.chat_sentence}), "chat_sentence", Encoding.RAW),
        (json.dumps({"m": f'say "{PERSONA.street}"'}), "street", Encoding.RAW),
        (f"<p>{html.escape(PERSONA.chat_sentence)}</p>", "chat_sentence", Encoding.RAW),
        (f"em={quote(PERSONA.email, safe='')}", "email", Encoding.URL),
        (f"ph={PERSONA.phone.replace(' ', '')}", "phone", Encoding.RAW),
        (f"ph=0{PERSONA.phone.replace(' ', '')[3:]}", "phone", Encoding.RAW),
        (f"nonce {chat_nonce(PERSONA)} only", "chat_sentence", Encoding.RAW),
        (f"b={base64.b64encode(PERSONA.email.encode()).decode()}", "email", Encoding.BASE64),
    ],
)
def test_reported_field_and_encoding(text: str, field: str, encoding: Encoding) -> None:
    hits = MATCHER.find(text)
    assert (field, encoding) in {(h.field, h.encoding) for h in hits}


def test_json_escaped_sentence_with_quotes_is_json_escaped() -> None:
    persona = make_persona("q")
    quoted = persona_from_mapping(
        {**persona_to_mapping(persona), "chat_sentence": 'He said "hi" EGC-QQQQQQ'}
    )
    m = CanaryMatcher(quoted)
    hits = m.find(json.dumps({"x": quoted.chat_sentence}))
    assert [(h.field, h.encoding) for h in hits] == [("chat_sentence", Encoding.JSON)]
    hits = m.find("&quot;hi&quot; " + html.escape(quoted.chat_sentence))
    assert ("chat_sentence", Encoding.HTML) in {(h.field, h.encoding) for h in hits}


def test_inner_values_are_not_reported_twice() -> None:
    hits = MATCHER.find(f"addr={PERSONA.street}")
    assert [h.field for h in hits] == ["street"]


def test_base64_fragments_cover_each_offset() -> None:
    value = b"canary-value"
    for k in range(3):
        blob = base64.b64encode(b"x" * k + value + b"yz").decode()
        assert base64_fragments(value)[k] in blob


def test_postcode_and_country_are_not_canaries() -> None:
    assert "postcode" not in CANARY_FIELDS and "country" not in CANARY_FIELDS
    assert MATCHER.find(f"zip={PERSONA.postcode}&c={PERSONA.country}") == []


def test_non_ascii_persona_values_are_found_in_any_case() -> None:
    """Hyperscan folds ASCII case only: with accented values the automata decide alone."""
    data = {**persona_to_mapping(make_persona("accents")), "last_name": "Ÿmeraude-Égalité"}
    matcher = CanaryMatcher(persona_from_mapping(data))
    assert matcher.fields_in("name=ÿMERAUDE-éGALITÉ") == {"last_name"}
    assert matcher.fields_in(json.dumps({"n": "Ÿmeraude-Égalité"})) == {"last_name"}  # \u escapes
    assert matcher.find("nothing here") == []
