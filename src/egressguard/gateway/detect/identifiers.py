"""Checksummed identifiers: payment cards, IBANs, EU VAT IDs and national IDs.

A loose regex finds candidates; the checksum decides. Identifiers that are only digits and whose
check digit passes by chance for one number in ten (German Steuer-ID, Dutch BSN, Polish PESEL)
also need a naming word just before them ("Steuer-ID", "BSN", "PESEL"), and so do VAT IDs of
countries without a public checksum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from egressguard.gateway.detect import checksums, phones
from egressguard.gateway.detect.context import left, word_pattern
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.presence import EVERYTHING, NON_ASCII, Gates

# One pass for identifiers that start with capital letters (IBAN, VAT ID, codice fiscale, NIE);
# the look-behind sits after the first character so `re` can skip ahead on a character set.
_ALPHA = re.compile(
    r"[A-Z](?<![\w].)(?:"
    r"(?P<iban>[A-Z]\d{2}(?:[ ]?[A-Z0-9]){11,30})"
    r"|(?P<cf>[A-Z]{5}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}"
    r"[A-Z])"
    r"|(?P<nie>(?<=[XYZ])-?\d{7}[ -]?[A-Z])"
    r")(?!\w)"
)
_VAT_COUNTRIES = (
    "AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI"
)
_VAT = re.compile(rf"(?:{_VAT_COUNTRIES})(?<![\w]..)[ -]?[0-9A-Z](?:[ .]?[0-9A-Z+*]){{6,13}}(?!\w)")
# One pass for digit runs: cards, digit-only national IDs, NIR, DNI and phone numbers.
_DIGIT_RUN = re.compile(r"[\d+(](?<![\w+.,/:-].)[\d \t./()-]{5,24}\d(?!(?![A-Z])\w|[.,/-]\d)")
# Necessary conditions for the regexes above, as Hyperscan expressions over UTF-8 bytes (the
# engine tests them all in one pass): a text without a gate's match has no match of its regex.
# `_D` is any digit as `re`'s Unicode \d sees it (a non-ASCII digit is non-ASCII bytes).
# Repeated optional groups are written as plain classes (`(?:[ ]?[A-Z0-9]){11}` as
# `[ A-Z0-9]{11}`, looser still): Hyperscan takes seconds to compile the former, and as long
# for the VAT country alternation before a repeat.
_D = b"[0-9" + NON_ASCII + b"]"
# No positional gates here: the IBAN and VAT gates end at dozens of places in a text with
# IBANs, which costs more in callbacks than searching near them saves.
POSITIONAL: frozenset[str] = frozenset()
GATES = {
    "alpha-ids": b"[A-Z]{2}" + _D + b"+[ A-Z0-9]{11}"  # IBAN
    b"|[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST]"  # codice fiscale
    b"|[XYZ]-?" + _D + b"{7}",  # NIE
    "vat": b"[A-Z]{2}[ -]?[0-9A-Z][ .0-9A-Z+*]{6}",  # any two capitals: the country list is slow
    "digit-run": b"[0-9" + NON_ASCII + b"+(][0-9" + NON_ASCII + b" \t./()-]{5}",
}
# A digit run holds digits and these separators; deleting them leaves the digits.
_DROP_SEPARATORS = str.maketrans("", "", "+( \t./)-")
# Digits with at most one kind of separator, spaces or dashes (no dots, slashes).
_CARD_LIKE = re.compile(r"\d[\d ]*|\d[\d-]*")
_ID_LENGTHS = frozenset({9, 11, 15})  # BSN; PESEL, Steuer-ID; NIR
_DNI_LETTER = re.compile(r"[ -]?[A-Z](?!\w)")
_SPLIT = re.compile(r"[ \t]+/[ \t]+|[ \t]{2,}")

# Naming words (lower-case substrings) in the window before an identifier.
_STEUER_ID_WORDS = word_pattern(
    ("steuer-id", "steuerid", "steuer id", "idnr", "identifikationsnummer", "tin")
)
_BSN_WORDS = word_pattern(("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer"))
_PESEL_WORDS = word_pattern(("pesel",))
_VAT_WORDS = word_pattern((
    "vat", "ust", "tva", "btw", "iva", "nip", "mwst", "moms", "alv", "dph", "áfa", "pvm",
    "tax", "steuer", "fiscal",
))  # fmt: skip
_VAT_CHECKED = frozenset({"AT", "BE", "DE", "ES", "FR", "IT", "NL", "PL"})
_ID_WINDOW = 48


def find(text: str, lower: str, gates: Gates = EVERYTHING) -> Iterator[Span]:
    """Every identifier and phone number in `text` (`lower`: `text.lower()`, same length).

    `gates`: which of `GATES` occur in `text` and where (default: run every regex everywhere).
    """
    if "digit-run" in gates:
        yield from _digit_runs(text, lower)
    if "alpha-ids" in gates:
        yield from _alpha(text)
    if "vat" in gates:
        yield from _vats(text, lower)


def _national(start: int, end: int, value: str, rule: str) -> Span:
    return Span(start, end, PiiCategory.NATIONAL_ID, value, rule)


def _alpha(text: str) -> Iterator[Span]:
    for m in _ALPHA.finditer(text):
        if m.group("iban"):
            yield from _iban(m.start(), m.group())
        elif m.group("cf"):
            if checksums.it_codice_fiscale_valid(m.group()):
                yield _national(m.start(), m.end(), m.group(), "it-codice-fiscale")
        elif checksums.es_dni_valid(m.group()):
            yield _national(m.start(), m.end(), m.group(), "es-nie")


def _digit_runs(text: str, lower: str) -> Iterator[Span]:
    for m in _DIGIT_RUN.finditer(text):
        value = m.group()
        span = _classify(text, lower, m.start(), value)
        if span is not None:
            yield span
        elif "  " in value or "\t" in value or " /" in value:
            yield from _parts_classified(text, lower, m.start(), value)


def _parts_classified(text: str, lower: str, start: int, value: str) -> Iterator[Span]:
    for part in _parts(start, value):
        span = _classify(text, lower, *part)
        if span is not None:
            yield span


def _parts(start: int, value: str) -> Iterator[tuple[int, str]]:
    """A run cut at " / " and double spaces: "030 1234567 / 0171 2345678" holds two numbers."""
    pos = 0
    for sep in _SPLIT.finditer(value):
        if sep.start() > pos:
            yield start + pos, value[pos : sep.start()]
        pos = sep.end()
    if pos:
        yield start + pos, value[pos:]


def _classify(text: str, lower: str, start: int, value: str) -> Span | None:
    value = value.strip(" \t")
    digits = value.translate(_DROP_SEPARATORS)
    n = len(digits)
    end = start + len(value)
    if value[0].isdigit():
        if 12 <= n <= 19 and _CARD_LIKE.fullmatch(value) and checksums.card_valid(digits):
            return Span(start, end, PiiCategory.CARD, value, "card-luhn")
        rule = _digit_id_rule(digits, lower, start) if n in _ID_LENGTHS else ""
        if rule:
            return _national(start, end, value, rule)
        if n == 8 and (dni := _DNI_LETTER.match(text, end)) is not None:
            doc = text[start : dni.end()]
            if checksums.es_dni_valid(doc):
                return _national(start, dni.end(), doc, "es-dni")
    if not phones.MIN_DIGITS <= n <= phones.MAX_DIGITS:
        return None
    return phones.span_if_phone(value, lower, start, digits)


def _digit_id_rule(digits: str, lower: str, start: int) -> str:
    window = left(lower, start, _ID_WINDOW)
    if len(digits) == 15:
        return "fr-nir" if checksums.fr_nir_valid(digits) else ""
    if len(digits) == 9:
        ok = _BSN_WORDS.search(window) is not None and checksums.nl_bsn_valid(digits)
        return "nl-bsn" if ok else ""
    if len(digits) == 11:
        if _PESEL_WORDS.search(window) and checksums.pl_pesel_valid(digits):
            return "pl-pesel"
        if _STEUER_ID_WORDS.search(window) and checksums.de_steuer_id_valid(digits):
            return "de-steuer-id"
    return ""


def _iban(start: int, value: str) -> Iterator[Span]:
    cut = _cut_to_length(value, checksums.IBAN_LENGTHS.get(value[:2], 0))
    if cut and checksums.iban_valid(cut):
        yield Span(start, start + len(cut), PiiCategory.IBAN, cut, "iban-mod97")


def _cut_to_length(value: str, length: int) -> str:
    """The prefix of `value` holding exactly `length` letters/digits, ending at a group end."""
    count = 0
    for i, ch in enumerate(value):
        if ch != " ":
            count += 1
            if count == length:
                rest = value[i + 1 :]
                return value[: i + 1] if not rest or rest[0] == " " else ""
    return ""


def _vats(text: str, lower: str) -> Iterator[Span]:
    for m in _VAT.finditer(text):
        for value in _prefixes_at_separators(m.group()):
            if checksums.vat_valid(value):
                country = value[:2]
                if country in _VAT_CHECKED or _VAT_WORDS.search(left(lower, m.start(), _ID_WINDOW)):
                    end = m.start() + len(value)
                    yield Span(m.start(), end, PiiCategory.VAT_ID, value, "eu-vat-id")
                break


def _prefixes_at_separators(value: str) -> Iterator[str]:
    """`value`, then `value` cut before each space or dot, longest first."""
    yield value
    for i in range(len(value) - 1, 3, -1):
        if value[i] in " .":
            yield value[:i]
