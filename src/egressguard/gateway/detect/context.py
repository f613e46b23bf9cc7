"""Context words near a candidate: "Tel.", "BSN", "Bestellnr." decide what a digit run is."""

from __future__ import annotations

import re

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


def has_any(window: str, words: tuple[str, ...]) -> bool:
    return any(w in window for w in words)


def nearest(window: str, words: re.Pattern[str]) -> int:
    """Distance from the end of `window` to the closest match of `words` (-1: none)."""
    last = -1
    for m in words.finditer(window):
        last = m.start()
    return len(window) - last if last >= 0 else -1


def word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """An alternation of literal (lower-case) words, longest first."""
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


PHONE_PATTERN = word_pattern(PHONE_WORDS)
NUMBER_PATTERN = word_pattern(NUMBER_WORDS)
