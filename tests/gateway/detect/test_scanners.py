"""Fast scanners agree with the plain definitions they replace, on random text."""

from __future__ import annotations

import re

import ahocorasick
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.gateway.detect import addresses, engine, identifiers, internet, wordtrie
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
from egressguard.gateway.detect.presence import Literals, Presence, finditer_near, literal

# Random text made of context words (whole and cut), their fragments and filler.
_PIECES = st.sampled_from(
    [*PHONE_WORDS, *NUMBER_WORDS, "anruf", "telefon", "tel.", "nr", "o", " ", ": ", "x", "1"]
)
_TEXT = st.lists(_PIECES, max_size=24).map("".join)


@settings(max_examples=200, deadline=None)
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
    st.sampled_from([*_KEYWORDS, "a" * 31, "B", "-", " ", "\n", "ü", "😀", "x.b", "\ud800"]),
    max_size=30,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(_KEY_TEXT, st.text(max_size=80)))
def test_presence_is_substring_and_regex_search(text: str) -> None:
    expected = {i for i, k in enumerate(_KEYWORDS) if k in text}
    if _LONG.search(text):
        expected.add(len(_KEYWORDS))
    assert _GATE.found(text) == expected


# Each gate must occur whenever its regex matches (a gate may occur without a match).
_GATED = {
    "digit-run": identifiers._DIGIT_RUN,
    "alpha-ids": identifiers._ALPHA,
    "vat": identifiers._VAT,
    "email": internet._DOMAIN,
    "ipv4": internet._IPV4,
    "ipv6": internet._IPV6_SEED,
    "postcode": addresses._POSTCODES,
    "postcode-prefixed": addresses._PREFIXED,
    "postcode-uk": addresses._UK_POSTCODE,
}
_GATE_NAMES = list(engine._GATES)
_ALL_GATES = Presence(list(engine._GATES.values()))
_GATE_TEXT = st.lists(
    st.sampled_from(
        [*"0123456789", "٣", "３", "߁", *"ABDEFGHILNPRSTXYZ", "DE", "NL", "IT", "SW", "é", "Ł",
         "ß", "a", " ", ", ", ".", "-", ":", "@", "+", "(", ")", "/", "\t", "\n", "\ud800",
         "1234", "10115 Berlin", "00-950 W", "12.34.56.78", "fe80::1", "DE89 3704 0044 0532",
         "SW1A 1AA", "DE136695976", "RSSMRA85T10A562S", "Z1152313H", "٣.٣.٣.٣", "€", "Łódź",
         "D-10115 Berlin", "1012 AB Amsterdam", "٣٣٣٣٣ Berlin", "  ", "Berlinxxxxxxxxxxxxxxa",
         "-\ud80010115 Berlin", "€-€10115 Berlin", "-€€€€€10115 Berlin"]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=_GATE_TEXT)
def test_gates_occur_whenever_their_regex_matches(text: str) -> None:
    present = {_GATE_NAMES[i] for i in _ALL_GATES.found(text)}
    for name, pattern in _GATED.items():
        if pattern.search(text):
            assert name in present, (name, text)


# name -> (regex, window width, look-ahead, extension, anchors from the gate offsets)
_NEAR = {
    "ipv4": (internet._IPV4, internet._IPV4_MAX, 2, None, 0),
    "postcode-uk": (addresses._UK_POSTCODE, addresses._UK_MAX, 1, None, 0),
    "postcode-prefixed": (
        addresses._PREFIXED, addresses._PREFIXED_MAX, 0, addresses._CITY_TAIL, 0,
    ),
    # a leftmost gate reports starts; the anchor is past the start, as addresses._postcodes has it
    "postcode": (
        addresses._POSTCODES,
        addresses._BARE_MAX + addresses._BARE_BEFORE + 1,
        0,
        addresses._CITY_TAIL,
        addresses._BARE_BEFORE + 1,
    ),
}  # fmt: skip
_POSITIONAL_GATES = Presence(
    list(engine._GATES.values()),
    positional=[i for i, name in enumerate(_GATE_NAMES) if name in engine._POSITIONAL],
    leftmost=[i for i, name in enumerate(_GATE_NAMES) if name in engine._LEFTMOST],
)


@settings(max_examples=300, deadline=None)
@given(text=_GATE_TEXT)
def test_searching_near_positional_gates_finds_what_finditer_finds(text: str) -> None:
    offsets = _POSITIONAL_GATES.scan(text)
    for name, (pattern, width, lookahead, extend, shift) in _NEAR.items():
        anchors = [o + shift for o in offsets.get(_GATE_NAMES.index(name), [])]
        near = finditer_near(pattern, text, anchors, width, lookahead, extend)
        assert [m.span() for m in near] == [m.span() for m in pattern.finditer(text)], name


def test_every_gate_is_tested() -> None:
    assert set(_NEAR) == set(engine._POSITIONAL | engine._LEFTMOST)
    assert set(_GATED) == set(_GATE_NAMES)


_WORDS = st.lists(st.text(alphabet="abcß. ", min_size=1, max_size=5), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(words=_WORDS, text=st.text(alphabet="abcßAB. x", max_size=30))
def test_word_trie_matches_like_the_longest_first_alternation(words: list[str], text: str) -> None:
    ordered = sorted(set(words), key=len, reverse=True)
    plain = re.compile("|".join(re.escape(w) for w in ordered))
    trie = re.compile(wordtrie.alternation(words))
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]
    # with a continuation that forces backtracking into shorter words
    plain_end = re.compile(f"(?:{plain.pattern})x")
    trie_end = re.compile(f"(?:{trie.pattern})x")
    assert [m.span() for m in trie_end.finditer(text)] == [
        m.span() for m in plain_end.finditer(text)
    ]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abĀā\x00😀 ", min_size=1, max_size=4), min_size=1, max_size=6),
    text=st.text(alphabet="abĀā\x00😀 c", max_size=40),
)
def test_literals_report_what_aho_corasick_reports(words: list[str], text: str) -> None:
    unique = list(dict.fromkeys(words))
    automaton = ahocorasick.Automaton()
    for i, word in enumerate(unique):
        automaton.add_word(word, i)
    automaton.make_automaton()
    expected = sorted((i, end + 1) for end, i in automaton.iter(text))
    assert sorted(Literals(unique).iter(text)) == expected
