"""JSON-key awareness: a value under `email`, `telephone`, `street`, `cost` … is that category.

Two uses: the caller walking a parsed body passes the key (`scan(value, key="telephone")`), and
JSON pasted into a prompt (`"lastname": "Nowak"`, also escaped as `\\"lastname\\": \\"Nowak\\"`)
is recognised in the text itself. The key table is data (`data/keys.toml`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.names import looks_like_name
from egressguard.gateway.detect.tables import key_table

_SEGMENT = re.compile(r"[^.\[\]/]+")
_NOT_ALNUM = re.compile(r"[\W_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# "key": "value" | "key": ["value" | "key": 12.5 — with optional backslash-escaped quotes.
_PAIR = re.compile(
    r'"(?P<key>[A-Za-z_][\w.-]{0,60})\\?"\s*:\s*\[?\s*'
    r'(?:\\?"(?P<str>(?:[^"\\\n]|\\[^"])*)\\?"|(?P<num>-?\d+(?:\.\d+)?)(?![\w.]))'
)
_BLANK = frozenset({"", "null", "none", "n/a", "-", "0", "0.0", "0.00"})


def normalise(key: str) -> str:
    """`billing_address.Telephone` -> `telephone`; `customerEmail` -> `customeremail`."""
    segments = _SEGMENT.findall(key)
    last = segments[-1] if segments else key
    return _NOT_ALNUM.sub("", _CAMEL.sub("", last)).lower()


def category_for(key: str, value: str) -> PiiCategory | None:
    """The category a value has by virtue of its key, or None when the key does not decide."""
    table = key_table()
    norm = normalise(key)
    category = table.strong.get(norm)
    if category is not None:
        return category
    category = table.weak.get(norm)
    if category is PiiCategory.PERSON_NAME and looks_like_name(value):
        return category
    return None


def whole_value(text: str, key: str) -> Span | None:
    """The trimmed value as one span when `key` decides its category."""
    value = text.strip()
    if value.lower() in _BLANK:
        return None
    category = category_for(key, value)
    if category is None:
        return None
    start = text.index(value)
    return Span(start, start + len(value), category, value, f"key:{normalise(key)}")


def find_pairs(text: str) -> Iterator[Span]:
    """Values of JSON pairs written inside `text` whose key decides their category."""
    if '":' not in text and '" :' not in text:
        return
    for m in _PAIR.finditer(text):
        group = "str" if m.group("str") is not None else "num"
        value = m.group(group)
        if value.strip().lower() in _BLANK:
            continue
        category = category_for(m.group("key"), value)
        if category is not None:
            start = m.start(group)
            rule = f"key:{normalise(m.group('key'))}"
            yield Span(start, start + len(value), category, value, rule)
