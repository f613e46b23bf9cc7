"""Street addresses and postcodes in EU formats.

An address span is the street and house number ("Hauptstraße 5", "12 rue de la Paix",
"ul. Długa 7/3"); the postcode is its own span; the city is not reported. The street words per
language are data (`data/streets.toml`). A bare five-digit number is a postcode only with postal
context: a capitalised place name after it and, before it, the start of a line, a comma, a
postal word ("PLZ", "CP", "CAP", "kod") or an address.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import ahocorasick

from egressguard.gateway.detect import wordtrie
from egressguard.gateway.detect.letters import CAP_TAIL, CAP_WORD, UPPER, is_word_char
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.presence import EVERYTHING, NON_ASCII, Gates, finditer_near
from egressguard.gateway.detect.tables import StreetWords, street_words

_HOUSE = r"\d{1,4}(?:[ ]?[a-hA-H](?![\w]))?(?:[ ]?[/-][ ]?\d{1,4}[a-zA-Z]?)?"
_END = r"(?![\w%€$£]|[.,]\d)"
_POSTAL_WORDS = re.compile(
    r"\b(?:plz|postleitzahl|zip|post ?code|postal|c\.p\.|cp|cap|kod)\b|\b(?:nach|naar|à)[ ]+$",
    re.IGNORECASE,
)
_CITY_AFTER = rf"(?=,?[ ]+[{UPPER}][\w'’-]*[a-zà-ÿ])"
# Look-behinds sit after the first character so `re` can skip ahead on a character set.
_POSTCODES = re.compile(
    rf"\d(?<![\w.,/+-]\d)"
    rf"(?:(?P<nl>\d{{3}}[ ]?(?!S[ADS])[A-Z]{{2}})|(?P<pl>\d-\d{{3}})"
    rf"|(?P<five>\d{{4}})|(?P<four>\d{{3}}))"
    rf"{_CITY_AFTER}"
)
_PREFIXED = re.compile(rf"[A-Z](?<![\w.,/+-].)[A-Z]?-\d{{4,5}}{_CITY_AFTER}")
_PREFIXES = frozenset({"D", "F", "I", "E", "A", "B", "L", "DE", "FR", "IT", "ES", "AT", "BE", "LU"})
_UK_POSTCODE = re.compile(r"[A-Z](?<!\w.)[A-Z]?\d[A-Z\d]?[ ]\d[A-Z]{2}(?!\w)")

# Necessary conditions for the postcode regexes (see identifiers.GATES); `_U` stands for
# `[{UPPER}]`, `_D` for `re`'s Unicode \d. The regexes then search only near the gates
# (`presence.finditer_near`): postcode-uk and postcode-prefixed end inside a match of at most 8
# characters; postcode (bare) runs on into the city, so its gate reports where it starts
# (LEFTMOST): at most 7 characters into a match, or up to 14 before it (`_D` also takes the
# non-ASCII characters before a match, at most 12 bytes after a dash). The city look-ahead
# reads a word of any length: `_CITY_TAIL` extends the searched text to that word's end.
_UK_MAX = 8
_PREFIXED_MAX = 8
_BARE_MAX = 7
_BARE_BEFORE = 14
_CITY_TAIL = re.compile(r"[ ,]*[\w'’-]*")
POSITIONAL = frozenset({"postcode-uk", "postcode-prefixed"})
LEFTMOST = frozenset({"postcode"})
_D = b"[0-9" + NON_ASCII + b"]"
_U = b"[A-Z" + NON_ASCII + b"]"
GATES = {
    "postcode": b"(?:"
    + _D
    + b"{4}|"
    + _D
    + b"-"
    + _D
    + b"{1,12}|"
    + _D
    + b"{3} ?[A-Z]{2}),? +"
    + _U,
    "postcode-prefixed": b"[A-Z]-" + _D + b"{4}",
    "postcode-uk": b" " + _D + b"+[A-Z]{2}",
}


def _alternation(words: tuple[str, ...]) -> str:
    return wordtrie.alternation(words)


def _capitalised(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w[0].upper() + w[1:] for w in words if w[0].isalpha())


class _Kind(enum.Enum):
    SUFFIX = "suffixes"  # Hauptstraße 5
    BEFORE_NAME = "before_name"  # Via Roma 12
    NUMBER_FIRST = "number_first"  # 12 rue de la Paix
    NUMBER_NAME_WORD = "number_name_word"  # 221B Baker Street


@dataclass(frozen=True, slots=True)
class _Streets:
    triggers: ahocorasick.Automaton
    patterns: dict[_Kind, re.Pattern[str]]


# Each pattern starts with a character class and checks the character before it afterwards
# (`[A-Z](?<!\w.)`), so `re` skips ahead to candidate first characters instead of trying a
# look-behind at every position of the window.
@functools.cache
def _streets() -> _Streets:
    words: StreetWords = street_words()
    link = rf"(?:(?:{_alternation(words.linkers)})[ ]|[ldLD]['’])"
    name = rf"{link}*{CAP_WORD}"
    suffix = _alternation(words.suffixes)
    patterns = {
        _Kind.SUFFIX: re.compile(
            rf"[{UPPER}](?<![\w].)(?:(?:{CAP_TAIL}[ -][{UPPER}])?[\w'’-]*?(?i:{suffix})"
            rf"|{CAP_TAIL}[ ](?:{_alternation(_capitalised(words.suffixes))}))[ ]?{_HOUSE}{_END}"
        ),
        _Kind.BEFORE_NAME: re.compile(
            rf"(?i:{_alternation(words.before_name)})[ ]+{name}(?:[ -]{name}){{0,3}},?[ ]+"
            rf"(?:n[º°o.][ ]?)?{_HOUSE}{_END}"
        ),
        _Kind.NUMBER_FIRST: re.compile(
            rf"\d(?<![\w,.].)\d{{0,3}}(?:[ ]?(?:bis|ter))?,?[ ]+"
            rf"(?i:{_alternation(words.number_first)})[ ]+{name}(?:[ -]{name}){{0,4}}{_END}"
        ),
        _Kind.NUMBER_NAME_WORD: re.compile(
            rf"\d(?<![\w,.].)\d{{0,4}}[A-Za-z]?[ ]+(?:{CAP_WORD}[ ]){{1,3}}"
            rf"(?:{_alternation(_capitalised(words.number_name_word))})(?!\w)"
        ),
    }
    by_word: dict[str, tuple[_Kind, ...]] = {}
    for kind in _Kind:
        for word in getattr(words, kind.value):
            key = word.lower()
            by_word[key] = (*by_word.get(key, ()), kind)
    automaton = ahocorasick.Automaton()
    for key, kinds in by_word.items():
        automaton.add_word(key, (len(key), kinds))
    automaton.make_automaton()
    return _Streets(automaton, patterns)


def find(text: str, lower: str, gates: Gates = EVERYTHING) -> Iterator[Span]:
    """Street addresses and postcodes; `gates`: which of `GATES` occur in `text` and where."""
    addresses = list(_addresses(text, lower))
    yield from addresses
    ends = [span.end for span in addresses]
    yield from _postcodes(text, ends, gates)


def _addresses(text: str, lower: str) -> Iterator[Span]:
    streets = _streets()
    seen: set[tuple[int, int]] = set()
    for end_index, (length, kinds) in streets.triggers.iter(lower):
        for kind in kinds:
            m = _match_at(text, end_index + 1, length, kind, streets.patterns[kind])
            if m is not None and (m.start(), m.end()) not in seen:
                seen.add((m.start(), m.end()))
                value = m.group().rstrip(" ,")
                start = m.start()
                yield Span(start, start + len(value), PiiCategory.ADDRESS, value, "street-address")


def _match_at(
    text: str, end: int, length: int, kind: _Kind, pattern: re.Pattern[str]
) -> re.Match[str] | None:
    """The address around a street word that ends at `end`, or None."""
    if end < len(text) and is_word_char(text[end]):
        return None
    if kind is _Kind.SUFFIX:
        if not _digit_soon(text, end):
            return None
        return _leftmost_covering(pattern, text, end - 1, max(0, end - 60), end + 16)
    word_start = end - length
    if word_start > 0 and is_word_char(text[word_start - 1]):
        return None
    if kind is _Kind.BEFORE_NAME:
        return pattern.match(text, word_start)
    if kind is _Kind.NUMBER_FIRST:
        return _leftmost_covering(pattern, text, word_start, max(0, word_start - 16), end + 80)
    if not text[word_start].isupper():
        return None
    return _leftmost_covering(pattern, text, word_start, max(0, word_start - 60), end)


def _digit_soon(text: str, end: int) -> bool:
    tail = text[end : end + 3]
    return any(ch.isdigit() for ch in tail)


def _leftmost_covering(
    pattern: re.Pattern[str], text: str, pos: int, lo: int, hi: int
) -> re.Match[str] | None:
    """The first match in text[lo:hi] that contains position `pos`."""
    for m in pattern.finditer(text, lo, min(hi, len(text))):
        if m.start() <= pos < m.end():
            return m
        if m.start() > pos:
            break
    return None


def _postcodes(text: str, address_ends: list[int], gates: Gates) -> Iterator[Span]:
    if "postcode" in gates:
        starts = gates.ends("postcode")
        near = None if starts is None else [start + _BARE_BEFORE + 1 for start in starts]
        yield from _bare_postcodes(text, address_ends, near)
    if "postcode-prefixed" in gates:
        ends = gates.ends("postcode-prefixed")
        for m in finditer_near(_PREFIXED, text, ends, _PREFIXED_MAX, 0, _CITY_TAIL):
            if m.group().split("-")[0] in _PREFIXES:
                yield Span(m.start(), m.end(), PiiCategory.POSTCODE, m.group(), "postcode-prefixed")
    if "postcode-uk" in gates:
        for m in finditer_near(_UK_POSTCODE, text, gates.ends("postcode-uk"), _UK_MAX, 1):
            yield Span(m.start(), m.end(), PiiCategory.POSTCODE, m.group(), "postcode-uk")


def _bare_postcodes(text: str, address_ends: list[int], near: list[int] | None) -> Iterator[Span]:
    """`near`: each gate start + `_BARE_BEFORE` + 1; a match starts in the window before."""
    width = _BARE_MAX + _BARE_BEFORE + 1
    for m in finditer_near(_POSTCODES, text, near, width, 0, _CITY_TAIL):
        kind = next(k for k in ("nl", "pl", "five", "four") if m.group(k))
        if kind == "nl" and m.group()[0] == "0":
            continue
        if kind == "four" and not _after_address(m.start(), address_ends):
            continue  # a bare 4-digit number is a year or a quantity, unless it ends an address
        if _postal_context(text, m.start(), address_ends):
            yield Span(m.start(), m.end(), PiiCategory.POSTCODE, m.group(), f"postcode-{kind}")


def _postal_context(text: str, start: int, address_ends: list[int]) -> bool:
    before = text[max(0, start - 24) : start]
    stripped = before.rstrip(" \t")
    if not stripped or stripped.endswith(("\n", ",", ";", "|", '"', "(")):
        return True
    if _after_address(start, address_ends):
        return True
    return _POSTAL_WORDS.search(before) is not None


def _after_address(start: int, address_ends: list[int]) -> bool:
    """`start` follows an address span closely ("Hauptstraße 5, 10115")."""
    return any(0 <= start - end <= 3 for end in address_ends)
