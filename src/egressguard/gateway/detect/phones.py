"""Phone numbers, validated against libphonenumber's metadata for EU (and nearby) regions.

`phonenumbers.parse` + `is_valid_number` costs ~70 µs per call and per region guess, too slow
for a millisecond budget with a dozen region guesses per candidate. This module compiles, once,
each region's number-type patterns from the same libphonenumber metadata (the patterns
`is_valid_number` applies) and matches the national significant number against them.

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
from dataclasses import dataclass

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from egressguard.gateway.detect.context import NUMBER_PATTERN, PHONE_PATTERN, left, nearest
from egressguard.gateway.detect.model import PiiCategory, Span

# Regions tried for national numbers. International numbers may be of any country code.
TRUNK_REGIONS = ("DE", "FR", "NL", "AT", "BE", "GB", "IE", "CH", "LU", "FI", "SE", "IT")
BARE_REGIONS = ("ES", "PL", "IT", "PT", "DK", "GR", "CZ", "SK", "NO")
_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
    "voip", "uan",
)  # fmt: skip

_NON_DIGIT = re.compile(r"\D")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_GROUPED_333 = re.compile(r"\d{3}[ -]\d{3}[ -]\d{3}")
_WINDOW = 28


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    trunk: str
    types: tuple[tuple[frozenset[int], re.Pattern[str]], ...]  # (possible lengths, pattern)
    lengths: frozenset[int]  # every type's possible lengths
    any_type: re.Pattern[str]  # union of the type patterns: one test rejects most candidates


@functools.cache
def _region(code: str) -> _Region | None:
    meta = PhoneMetadata.metadata_for_region(code)
    if meta is None:
        return None
    general_desc = meta.general_desc
    general = frozenset(general_desc.possible_length or ()) if general_desc else frozenset()
    types = tuple(
        (frozenset(desc.possible_length or ()) or general, re.compile(desc.national_number_pattern))
        for name in _TYPES
        if (desc := getattr(meta, name)) is not None and desc.national_number_pattern
    )
    if not types:
        return None
    return _Region(
        code=code,
        trunk=meta.national_prefix or "",
        types=types,
        lengths=frozenset().union(*(lengths for lengths, _ in types)),
        any_type=re.compile("|".join(f"(?:{p.pattern})" for _, p in types)),
    )


def _valid_in(nsn: str, region: _Region | None) -> bool:
    """What `is_valid_number` decides: some number type has this length and pattern."""
    if region is None:
        return False
    n = len(nsn)
    if n not in region.lengths or region.any_type.fullmatch(nsn) is None:
        return False
    return any(n in lengths and pattern.fullmatch(nsn) for lengths, pattern in region.types)


def valid_international(digits: str) -> bool:
    """`digits` (after + or 00) is a valid number of some country code."""
    for cc_len in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:cc_len]), ())
        nsn = digits[cc_len:]
        if any(_valid_in(nsn, _region(code)) for code in regions if code != "001"):
            return True
    return False


def valid_national(digits: str, *, bare: bool) -> bool:
    """`digits` as dialled inside a region: with trunk 0, or bare (ES/PL/IT style)."""
    regions = BARE_REGIONS if bare else TRUNK_REGIONS
    for code in regions:
        region = _region(code)
        if region is None:
            continue
        nsn = (
            digits[len(region.trunk) :]
            if region.trunk and digits.startswith(region.trunk)
            else digits
        )
        if (bare or region.trunk == "" or nsn != digits) and _valid_in(nsn, region):
            return True
    return False


def span_if_phone(value: str, lower: str, start: int) -> Span | None:
    """A phone span when the digit run `value` (at `start`) is a phone number in context."""
    trimmed = value.rstrip(" \t(")
    if trimmed.startswith("(") and ")" not in trimmed:
        trimmed, start = trimmed[1:], start + 1
    if trimmed.endswith(")") and "(" not in trimmed:
        trimmed = trimmed[:-1]
    if not trimmed or not _is_phone(trimmed, lower, start):
        return None
    return Span(start, start + len(trimmed), PiiCategory.PHONE, trimmed, "phone")


def _is_phone(value: str, lower: str, start: int) -> bool:
    digits = _NON_DIGIT.sub("", value)
    if not 7 <= len(digits) <= 15 or _DATE.fullmatch(value):
        return False
    if value[0] == "+" or value.startswith("00"):
        return valid_international(digits[2:] if value[0] == "0" else digits)
    window = left(lower, start, _WINDOW)
    phone_at = nearest(window, PHONE_PATTERN)
    number_at = nearest(window, NUMBER_PATTERN)
    if number_at >= 0 and (phone_at < 0 or number_at < phone_at):
        return False
    if digits[0] == "0":
        return valid_national(digits, bare=False)
    if phone_at < 0 and _GROUPED_333.fullmatch(value) is None:
        return False
    return valid_national(digits, bare=True)
