"""What detection returns: categories, spans and dictionary specifications."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class PiiCategory(StrEnum):
    """Data categories. The values are stable: tokens (`[EMAIL_7f3a]`) and policy use them."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    VAT_ID = "vat_id"
    NATIONAL_ID = "national_id"
    IP_ADDRESS = "ip_address"
    ADDRESS = "address"
    POSTCODE = "postcode"
    PERSON_NAME = "person_name"
    CUSTOMER = "customer"
    PROPRIETARY = "proprietary"
    SECRET = "secret"


# When two candidate spans have the same length, the earlier category here wins.
# The shop's own dictionaries are the most specific statement about a value; checksummed
# identifiers are more certain than pattern- or context-based ones.
PRIORITY: tuple[PiiCategory, ...] = (
    PiiCategory.SECRET,
    PiiCategory.CUSTOMER,
    PiiCategory.PROPRIETARY,
    PiiCategory.CARD,
    PiiCategory.IBAN,
    PiiCategory.NATIONAL_ID,
    PiiCategory.VAT_ID,
    PiiCategory.EMAIL,
    PiiCategory.IP_ADDRESS,
    PiiCategory.PHONE,
    PiiCategory.ADDRESS,
    PiiCategory.POSTCODE,
    PiiCategory.PERSON_NAME,
)
RANK: dict[PiiCategory, int] = {category: i for i, category in enumerate(PRIORITY)}


@dataclass(frozen=True, slots=True)
class Span:
    """`text[start:end] == value` was detected as `category` by the rule `rule` (kebab-case)."""

    start: int
    end: int
    category: PiiCategory
    value: str
    rule: str


@dataclass(frozen=True, slots=True)
class DictionarySpec:
    """A shop's CSV export whose `columns` hold terms of `category` (empty: every column).

    Column names are matched case-insensitively against the CSV header.
    """

    path: Path
    category: PiiCategory
    columns: tuple[str, ...] = ()
