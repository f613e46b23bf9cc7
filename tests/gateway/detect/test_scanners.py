"""Fast scanners agree with the plain definitions they replace, on random text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.gateway.detect import secrets as secrets_module
from egressguard.gateway.detect.context import (
    NUMBER_PATTERN,
    NUMBER_WORDS,
    PHONE_PATTERN,
    PHONE_WORDS,
    left,
    nearest,
    phone_and_number_at,
)
from egressguard.gateway.detect.presence import Presence, literal

# Random text made of context words (whole and cut), their fragments and filler.
_PIECES = st.sampled_from(
    [*PHONE_WORDS, *NUMBER_WORDS, "anruf", "telefon", "tel.", "nr", "o", " ", ": ", "x", "1"]
)
_TEXT = st.lists(_PIECES, max_size=24).map("".join)


@settings(max_examples=200)
@given(text=_TEXT, data=st.data())
def test_phone_and_number_at_is_nearest_over_the_window(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    width = data.draw(st.sampled_from([0, 1, 5, 28, 48]))
    window = left(text, start, width)
    expected = (nearest(window, PHONE_PATTERN), nearest(window, NUMBER_PATTERN))
    assert phone_and_number_at(text, start, width) == expected


_KEYWORDS = ["sk-", "T3BlbkFJ", "api-key", "é", "ключ", "a.b"]
_LONG = re.compile(r"(?:^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{32}")
_GATE = Presence([*(literal(k) for k in _KEYWORDS), secrets_module._LONG_TOKEN])
_KEY_TEXT = st.lists(
    st.sampled_from([*_KEYWORDS, "a" * 31, "B", "-", " ", "\n", "ü", "😀", "x.b"]), max_size=30
).map("".join)


@settings(max_examples=200)
@given(text=st.one_of(_KEY_TEXT, st.text(max_size=80)))
def test_presence_is_substring_and_regex_search(text: str) -> None:
    expected = {i for i, k in enumerate(_KEYWORDS) if k in text}
    if _LONG.search(text):
        expected.add(len(_KEYWORDS))
    assert _GATE.found(text) == expected
