"""Check digits of payment cards, IBANs, EU VAT IDs and national IDs. Pure, total functions.

Every validator takes the candidate as found (separators are removed here) and returns a bool;
none raises, whatever the input. The public algorithms are the national registries' own; the
test suite cross-checks them against python-stdnum.
"""

from __future__ import annotations

import datetime
import re
import string
from collections import Counter

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def compact(value: str) -> str:
    """Upper-case letters and digits only: `de 12 3-4` -> `DE1234`."""
    return _NON_ALNUM.sub("", value).upper()


def _digits(value: str) -> str | None:
    """The ASCII digits of `value`, or None when it holds anything but digits."""
    return value if value.isascii() and value.isdigit() else None


# --- payment cards ----------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) over a string of ASCII digits."""
    if _digits(digits) is None or len(digits) < 2:
        return False
    doubled = digits[-2::-2].translate(_LUHN_DOUBLE)
    total = sum(map(int, digits[::-2])) + sum(map(int, doubled))
    return total % 10 == 0


# Luhn doubles every second digit from the right and sums the result's digits: 7 -> 14 -> 5.
_LUHN_DOUBLE = str.maketrans("0123456789", "0246813579")


# (first digits low, high inclusive, prefix length, allowed lengths)
_IIN_RANGES: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    (4, 4, 1, frozenset({13, 16, 19})),  # Visa
    (51, 55, 2, frozenset({16})),  # Mastercard
    (2221, 2720, 4, frozenset({16})),  # Mastercard 2-series
    (34, 34, 2, frozenset({15})),  # American Express
    (37, 37, 2, frozenset({15})),
    (6011, 6011, 4, frozenset({16, 19})),  # Discover
    (644, 649, 3, frozenset({16, 19})),
    (65, 65, 2, frozenset({16, 19})),
    (300, 305, 3, frozenset({14, 16, 19})),  # Diners Club
    (36, 36, 2, frozenset({14, 16, 19})),
    (38, 39, 2, frozenset({14, 16, 19})),
    (3528, 3589, 4, frozenset({16, 17, 18, 19})),  # JCB
    (62, 62, 2, frozenset({16, 17, 18, 19})),  # UnionPay
    (50, 50, 2, frozenset(range(12, 20))),  # Maestro
    (56, 59, 2, frozenset(range(12, 20))),
    (67, 67, 2, frozenset(range(12, 20))),
)


def card_valid(value: str) -> bool:
    """A payment card number: a known issuer range, a length that issuer uses, and Luhn."""
    digits = _digits(value) or _digits(compact(value))
    if digits is None or not 12 <= len(digits) <= 19:
        return False
    if not any(
        len(digits) in _IIN_PREFIXES[width].get(digits[:width], ()) for width in (1, 2, 3, 4)
    ):
        return False
    return luhn_valid(digits)


def _iin_prefixes() -> tuple[dict[str, frozenset[int]], ...]:
    """`_IIN_RANGES` as one table per prefix width: prefix -> the lengths its issuer uses."""
    tables: tuple[dict[str, frozenset[int]], ...] = ({}, {}, {}, {}, {})
    for low, high, width, lengths in _IIN_RANGES:
        for prefix in range(low, high + 1):
            key = str(prefix)
            tables[width][key] = tables[width].get(key, frozenset()) | lengths
    return tables


_IIN_PREFIXES = _iin_prefixes()


# --- IBAN ---------------------------------------------------------------------------------------

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def _alnum_to_int(value: str) -> int:
    """ISO 7064 letter expansion (A=10 … Z=35) of an upper-case alphanumeric string."""
    return int(value.translate(_LETTER_DIGITS))


_LETTER_DIGITS = {ord(ch): str(int(ch, 36)) for ch in string.ascii_letters}


def iban_valid(value: str) -> bool:
    """An IBAN: a known country, that country's length and ISO 7064 mod 97-10 == 1."""
    iban = compact(value)
    if not iban.isascii() or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    if not iban[2:4].isdigit():
        return False
    return _alnum_to_int(iban[4:] + iban[:4]) % 97 == 1


# --- ISO 7064 MOD 11,10 (German VAT ID and Steuer-ID) -------------------------------------------


def _mod_11_10_ok(digits: str) -> bool:
    product = 10
    for ch in digits[:-1]:
        total = (int(ch) + product) % 10 or 10
        product = (2 * total) % 11
    check = (11 - product) % 10
    return check == int(digits[-1])


# --- EU VAT IDs --------------------------------------------------------------------------------

# Formats of the number after the country prefix (VIES). Checksums are applied where public.
VAT_FORMATS: dict[str, re.Pattern[str]] = {
    code: re.compile(pattern)
    for code, pattern in {
        "AT": r"U\d{8}",
        "BE": r"[01]\d{9}",
        "BG": r"\d{9,10}",
        "CY": r"\d{8}[A-Z]",
        "CZ": r"\d{8,10}",
        "DE": r"\d{9}",
        "DK": r"\d{8}",
        "EE": r"\d{9}",
        "EL": r"\d{9}",
        "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
        "FI": r"\d{8}",
        "FR": r"[0-9A-HJ-NP-Z]{2}\d{9}",
        "HR": r"\d{11}",
        "HU": r"\d{8}",
        "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}",
        "IT": r"\d{11}",
        "LT": r"\d{9}|\d{12}",
        "LU": r"\d{8}",
        "LV": r"\d{11}",
        "MT": r"\d{8}",
        "NL": r"\d{9}B\d{2}",
        "PL": r"\d{10}",
        "PT": r"\d{9}",
        "RO": r"[1-9]\d{1,9}",
        "SE": r"\d{10}01",
        "SI": r"\d{8}",
        "SK": r"\d{10}",
        "XI": r"\d{9}|\d{12}",
    }.items()
}


def vat_valid(value: str) -> bool:
    """An EU VAT ID with its country prefix (`DE…`, `ATU…`, `EL…`): format, then checksum."""
    vat = compact(value)
    country, number = vat[:2], vat[2:]
    fmt = VAT_FORMATS.get(country)
    if fmt is None or not number.isascii() or fmt.fullmatch(number) is None:
        return False
    check = _VAT_CHECKS.get(country)
    return check(number) if check is not None else True


def _vat_de(number: str) -> bool:
    return number[0] != "0" and _mod_11_10_ok(number)


def _vat_at(number: str) -> bool:
    digits = number[1:]
    total = 0
    for i, ch in enumerate(digits[:7]):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return (10 - (total + 4) % 10) % 10 == int(digits[7])


def _vat_be(number: str) -> bool:
    return 97 - int(number[:8]) % 97 == int(number[8:])


def _vat_it(number: str) -> bool:
    return number[:7] != "0000000" and luhn_valid(number)


def _vat_pl(number: str) -> bool:
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    check = sum(int(d) * w for d, w in zip(number, weights, strict=False)) % 11
    return check != 10 and check == int(number[9])


def _vat_nl(number: str) -> bool:
    digits = number[:9]
    if _elfproef(digits):
        return True
    # Since 2020 new Dutch VAT IDs use ISO 7064 mod 97-10 over "NL" + number.
    return _alnum_to_int("NL" + number) % 97 == 1


def _vat_fr(number: str) -> bool:
    key, siren = number[:2], number[2:]
    if not key.isdigit():
        return True  # alphanumeric keys (new scheme): no public checksum
    return luhn_valid(siren) and int(key) == (12 + 3 * (int(siren) % 97)) % 97


_ES_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_ES_CIF_LETTERS = "JABCDEFGHI"


def _vat_es(number: str) -> bool:
    first = number[0]
    if first.isdigit() or first in "XYZKLM":
        return es_dni_valid(number)
    if first in "ABCDEFGHJNPQRSUVW":
        return _es_cif_valid(number)
    return False


def _es_cif_valid(number: str) -> bool:
    body = number[1:8]
    if not body.isdigit():
        return False
    total = 0
    for i, ch in enumerate(body):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d // 10 + d % 10
        total += d
    check = (10 - total % 10) % 10
    return number[8] in (str(check), _ES_CIF_LETTERS[check])


_VAT_CHECKS = {
    "AT": _vat_at,
    "BE": _vat_be,
    "DE": _vat_de,
    "ES": _vat_es,
    "FR": _vat_fr,
    "IT": _vat_it,
    "NL": _vat_nl,
    "PL": _vat_pl,
}


# --- national IDs ------------------------------------------------------------------------------


def de_steuer_id_valid(value: str) -> bool:
    """German tax ID (Steuerliche Identifikationsnummer): 11 digits, digit pattern, MOD 11,10."""
    digits = _digits(compact(value))
    if digits is None or len(digits) != 11 or digits[0] == "0":
        return False
    counts = Counter(digits[:10])
    repeated = [c for c in counts.values() if c > 1]
    if len(repeated) != 1 or repeated[0] not in (2, 3):
        return False
    return _mod_11_10_ok(digits)


def nl_bsn_valid(value: str) -> bool:
    """Dutch citizen service number (BSN): 9 digits passing the 11-proof."""
    digits = _digits(compact(value))
    return digits is not None and len(digits) == 9 and _elfproef(digits)


def _elfproef(digits: str) -> bool:
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def fr_nir_valid(value: str) -> bool:
    """French social security number (NIR): 13 characters + 2-digit key, Corsica 2A/2B."""
    nir = compact(value)
    if len(nir) != 15 or not nir.isascii():
        return False
    body, key = nir[:13], nir[13:]
    body = body[:5] + body[5:7].replace("2A", "19").replace("2B", "18") + body[7:]
    if not body.isdigit() or not key.isdigit() or body[0] not in "12378":
        return False
    month = int(body[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(key)


_CF_ODD = {
    **dict(zip("0123456789", (1, 0, 5, 7, 9, 13, 15, 17, 19, 21), strict=True)),
    **dict(
        zip(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
             24, 23),
            strict=True,
        )
    ),
}  # fmt: skip
_CF_FORMAT = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
)


def it_codice_fiscale_valid(value: str) -> bool:
    """Italian fiscal code (codice fiscale) of a person: 16 characters with check letter."""
    cf = compact(value)
    if len(cf) != 16 or not cf.isascii() or _CF_FORMAT.fullmatch(cf) is None:
        return False
    total = 0
    for i, ch in enumerate(cf[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == cf[15]


def es_dni_valid(value: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter)."""
    doc = compact(value)
    if len(doc) != 9 or not doc.isascii():
        return False
    head = doc[:8]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    elif head[0] in "KLM":
        head = "0" + head[1:]
    if not head.isdigit():
        return False
    return _ES_LETTERS[int(head) % 23] == doc[8]


def pl_pesel_valid(value: str) -> bool:
    """Polish PESEL: 11 digits, a real birth date (century in the month), weighted check digit."""
    digits = _digits(compact(value))
    if digits is None or len(digits) != 11:
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 10) % 10
    if check != int(digits[10]):
        return False
    coded_month = int(digits[2:4])
    century = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}[coded_month // 20]
    try:
        datetime.date(century + int(digits[:2]), coded_month % 20, int(digits[4:6]))
    except ValueError:
        return False
    return True
