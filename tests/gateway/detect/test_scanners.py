"""Fast scanners agree with the plain definitions they replace, on random text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.gateway.detect.context import (
    NUMBER_PATTERN,
    NUMBER_WORDS,
    PHONE_PATTERN,
    PHONE_WORDS,
    left,
    nearest,
    phone_and_number_at,
)

# Random text made of context words (whole and cut), their fragments and filler.
_PIECES = st.sampled_from(
    [*PHONE_WORDS, *NUMBER_WORDS, "anruf", "telefon", "tel.", "nr", "o", " ", ": ", "x", "1"]
)
_TEXT = st.lists(_PIECES, max_size=24).map("".join)


@settings(max_examples=400)
@given(text=_TEXT, data=st.data())
def test_phone_and_number_at_is_nearest_over_the_window(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    width = data.draw(st.sampled_from([0, 1, 5, 28, 48]))
    window = left(text, start, width)
    expected = (nearest(window, PHONE_PATTERN), nearest(window, NUMBER_PATTERN))
    assert phone_and_number_at(text, start, width) == expected
