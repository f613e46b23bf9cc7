"""Context words near a candidate: "Tel.", "BSN", "Bestellnr." decide what a digit run is."""

from __future__ import annotations

import re

import ahocorasick

from egressguard.gateway.detect import wordtrie

# Words (lower-case substrings) in a candidate's left window that say "a phone number follows".
PHONE_WORDS = (
    "tel", "phone", "fon", "fax", "mobil", "handy", "call", "anruf", "ruf", "whatsapp",
    "portable", "appel", "bellen", "cellulare", "chiama", "móvil", "movil", "llam", "komórk",
    "komork", "kom.", "numer", "☎", "📞", "gsm",
)  # fmt: skip

# Words that say "an order, item, shipment or document number follows".
NUMBER_WORDS = (
    "order", "bestell", "auftrag", "invoice", "rechnung", "factur", "fattura", "faktur",
    "commande", "bestelling", "pedido", "ordine", "zamówieni", "zamowieni", "sku", "art.",
    "artikel", "article", "articolo", "artículo", "item", "tracking", "sendung", "colis",
    "track", "paket", "pakket", "ean", "gtin", "isbn", "ref", "kundennummer", "customer id",
    "customer no", "ticket", "quote", "angebot", "lieferschein", "increment", "id:", "#",
    "version", "build", "serial", "seriennummer", "iban", "bic", "blz", "konto", "account",
)  # fmt: skip

VERSION_WORDS = ("version", "versión", "versione", "wersja", "release", "build", "ver.", "versie")

_WINDOW = 32


def left(lower: str, start: int, width: int = _WINDOW) -> str:
    """The `width` characters before `start` in the lower-cased text."""
    return lower[max(0, start - width) : start]


def nearest(window: str, words: re.Pattern[str]) -> int:
    """Distance from the end of `window` to the closest match of `words` (-1: none)."""
    last = -1
    for m in words.finditer(window):
        last = m.start()
    return len(window) - last if last >= 0 else -1


def word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """An alternation of literal (lower-case) words, longest first.

    `pattern.search(window)` is `any(w in window for w in words)` in one native pass.
    """
    return re.compile(wordtrie.alternation(words))


PHONE_PATTERN = word_pattern(PHONE_WORDS)
NUMBER_PATTERN = word_pattern(NUMBER_WORDS)
VERSION_PATTERN = word_pattern(VERSION_WORDS)


def _phone_number_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word in PHONE_WORDS:
        automaton.add_word(word, (len(word), True))
    for word in NUMBER_WORDS:
        automaton.add_word(word, (len(word), False))
    automaton.make_automaton()
    return automaton


_PHONE_NUMBER_WORDS = _phone_number_automaton()


def phone_and_number_at(lower: str, start: int, width: int) -> tuple[int, int]:
    """`(nearest(window, PHONE_PATTERN), nearest(window, NUMBER_PATTERN))` for the window
    `left(lower, start, width)`, from one Aho-Corasick pass over the window.

    The pass reports every occurrence; `_last_greedy` keeps the ones `finditer` would (leftmost,
    longest first, non-overlapping), so the distances are the regexes' own.
    """
    lo = max(0, start - width)
    phone: list[tuple[int, int]] = []
    number: list[tuple[int, int]] = []
    for end, (length, is_phone) in _PHONE_NUMBER_WORDS.iter(lower, lo, start):
        (phone if is_phone else number).append((end + 1 - length, -length))
    return _distance(start, _last_greedy(phone, lo)), _distance(start, _last_greedy(number, lo))


def _last_greedy(hits: list[tuple[int, int]], lo: int) -> int:
    """Start of the last match a left-to-right, longest-first scan from `lo` keeps (-1: none)."""
    pos, last = lo, -1
    for begin, negative_length in sorted(hits):
        if begin >= pos:
            last, pos = begin, begin - negative_length
    return last


def _distance(start: int, last: int) -> int:
    return start - last if last >= 0 else -1
