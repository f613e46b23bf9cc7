"""Phone numbers, validated against libphonenumber's metadata for EU (and nearby) regions.

`phonenumbers.parse` + `is_valid_number` costs ~70 µs per call and per region guess, too slow
for a millisecond budget with a dozen region guesses per candidate. This module compiles, once,
each region's number-type patterns from the same libphonenumber metadata (the patterns
`is_valid_number` applies) and matches the national significant number against them. Patterns
are grouped by the number's length: for each length, one alternation of every type (of every
region sharing a country code or a trunk prefix) that allows that length, so one `fullmatch`
decides what `is_valid_number` decides over all those regions.

Which digit runs count (tuned against order numbers, dates, prices and SKUs):
- `+CC …` or `00CC …`: valid for a region of that country code.
- `0…` (trunk prefix): valid in a region with trunk prefix 0 (DE, FR, NL, AT, BE, GB …) or in
  Italy (where the 0 belongs to the number); not after an order/SKU/tracking word unless a
  phone word is closer.
- no prefix (ES, PL, IT mobiles have none): valid there and either a phone word just before
  ("Tel.", "móvil", "tel. kom.") or written in 3-3-3 groups (`612 345 678`).
- never a date (`12.03.2024`), never fewer than 7 or more than 15 digits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from egressguard.gateway.detect.context import phone_and_number_at
from egressguard.gateway.detect.model import PiiCategory, Span

# Regions tried for national numbers. International numbers may be of any country code.
TRUNK_REGIONS = ("DE", "FR", "NL", "AT", "BE", "GB", "IE", "CH", "LU", "FI", "SE", "IT")
BARE_REGIONS = ("ES", "PL", "IT", "PT", "DK", "GR", "CZ", "SK", "NO")
_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
    "voip", "uan",
)  # fmt: skip

MIN_DIGITS, MAX_DIGITS = 7, 15
_NON_DIGIT = re.compile(r"\D")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_GROUPED_333 = re.compile(r"\d{3}[ -]\d{3}[ -]\d{3}")
_WINDOW = 28

# National significant number length -> one pattern: the alternation of the number types that
# allow that length.
_ByLength = dict[int, re.Pattern[str]]


@dataclass(frozen=True, slots=True)
class _Trunk:
    """Regions dialled with the same trunk prefix ("" for none), their patterns by length."""

    prefix: str
    by_length: _ByLength


def _type_patterns(code: str) -> list[tuple[frozenset[int], str]]:
    """(possible lengths, national number pattern) of every number type of region `code`."""
    meta = PhoneMetadata.metadata_for_region(code)
    if meta is None:
        return []
    general_desc = meta.general_desc
    general = frozenset(general_desc.possible_length or ()) if general_desc else frozenset()
    return [
        (frozenset(desc.possible_length or ()) or general, desc.national_number_pattern)
        for name in _TYPES
        if (desc := getattr(meta, name)) is not None and desc.national_number_pattern
    ]


def _by_length(codes: Iterable[str]) -> _ByLength:
    alternatives: dict[int, list[str]] = {}
    for code in codes:
        for lengths, pattern in _type_patterns(code):
            for n in lengths:
                alternatives.setdefault(n, []).append(f"(?:{pattern})")
    return {n: re.compile("|".join(dict.fromkeys(ps))) for n, ps in alternatives.items()}


def _valid(nsn: str, by_length: _ByLength) -> bool:
    """What `is_valid_number` decides: some number type has this length and pattern."""
    pattern = by_length.get(len(nsn))
    return pattern is not None and pattern.fullmatch(nsn) is not None


@functools.cache
def _country(cc: int) -> _ByLength:
    return _by_length(code for code in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()) if code != "001")


@functools.cache
def _trunks(regions: tuple[str, ...]) -> tuple[_Trunk, ...]:
    groups: dict[str, list[str]] = {}
    for code in regions:
        meta = PhoneMetadata.metadata_for_region(code)
        if meta is not None:
            groups.setdefault(meta.national_prefix or "", []).append(code)
    return tuple(_Trunk(prefix, _by_length(codes)) for prefix, codes in groups.items())


def warm_up() -> None:
    """Compile the national regions' patterns and their country codes' (not on a request)."""
    for regions in (TRUNK_REGIONS, BARE_REGIONS):
        _trunks(regions)
        for code in regions:
            meta = PhoneMetadata.metadata_for_region(code)
            if meta is not None and meta.country_code is not None:
                _country(meta.country_code)


def valid_international(digits: str) -> bool:
    """`digits` (after + or 00) is a valid number of some country code."""
    for cc_len in (1, 2, 3):
        if len(digits) > cc_len and _valid(digits[cc_len:], _country(int(digits[:cc_len]))):
            return True
    return False


def valid_national(digits: str, *, bare: bool) -> bool:
    """`digits` as dialled inside a region: with trunk 0, or bare (ES/PL/IT style)."""
    for trunk in _trunks(BARE_REGIONS if bare else TRUNK_REGIONS):
        if trunk.prefix and digits.startswith(trunk.prefix):
            nsn = digits[len(trunk.prefix) :]
        elif bare or not trunk.prefix:
            nsn = digits
        else:
            continue
        if _valid(nsn, trunk.by_length):
            return True
    return False


def span_if_phone(value: str, lower: str, start: int, digits: str | None = None) -> Span | None:
    """A phone span when the digit run `value` (at `start`) is a phone number in context.

    `digits`: the digits of `value` when the caller has them already.
    """
    trimmed = value.rstrip(" \t(")
    if trimmed.startswith("(") and ")" not in trimmed:
        trimmed, start = trimmed[1:], start + 1
    if trimmed.endswith(")") and "(" not in trimmed:
        trimmed = trimmed[:-1]
    if digits is None:
        digits = _NON_DIGIT.sub("", trimmed)
    if not trimmed or not _is_phone(trimmed, digits, lower, start):
        return None
    return Span(start, start + len(trimmed), PiiCategory.PHONE, trimmed, "phone")


def _is_phone(value: str, digits: str, lower: str, start: int) -> bool:
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or _DATE.fullmatch(value):
        return False
    if value[0] == "+" or value.startswith("00"):
        return valid_international(digits[2:] if value[0] == "0" else digits)
    phone_at, number_at = phone_and_number_at(lower, start, _WINDOW)
    if number_at >= 0 and (phone_at < 0 or number_at < phone_at):
        return False
    if digits[0] == "0":
        return valid_national(digits, bare=False)
    if phone_at < 0 and _GROUPED_333.fullmatch(value) is None:
        return False
    return valid_national(digits, bare=True)
