"""E-mail addresses and IP addresses.

IPv4 and IPv6 candidates are confirmed with the standard library's `ipaddress`. A dotted quad
written as a version (`v1.2.3.4`, `Version 10.0.19041.1`, `build 2.4.6.8`) is not an address:
a `v` right before it or a version word in the 24 characters before it rules it out.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from egressguard.gateway.detect.context import VERSION_PATTERN, left
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.presence import EVERYTHING, NON_ASCII, Gates, finditer_near

# The domain is matched from the "@"; the local part is found by looking back from it.
_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,24}(?![\w-])")
_LOCAL_MAX = 64
# Look-behinds sit after the first character so `re` can skip ahead on a character set.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)")
# IPv6 candidates are found from a colon pair (`:hex:` or `::`), then widened both ways.
_IPV6_SEED = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX_COLON = frozenset("0123456789abcdefABCDEF:")
_IPV6_TAIL = re.compile(
    r"(?:[0-9A-Fa-f]{0,4}:)*(?:\d{1,3}(?:\.\d{1,3}){3}(?![\w.])|[0-9A-Fa-f]{0,4})"
)
_VERSION_WINDOW = 24

# Necessary conditions for the regexes above (see identifiers.GATES); ipv4 is positional:
# a match is at most 15 characters and its look-ahead reads two.
_IPV4_MAX = 15
POSITIONAL = frozenset({"ipv4"})
_D = b"[0-9" + NON_ASCII + b"]"
GATES = {
    "email": b"@[A-Za-z0-9_" + NON_ASCII + b"-]+\\.",
    "ipv4": _D + b"\\." + _D + b"+\\." + _D + b"+\\." + _D,
    "ipv6": b":[0-9A-Fa-f]{0,4}:",
}


def find(text: str, lower: str, gates: Gates = EVERYTHING) -> Iterator[Span]:
    """E-mail and IP addresses; `gates`: which of `GATES` occur in `text` and where."""
    if "email" in gates and "@" in text:
        yield from _emails(text)
    if "ipv4" in gates and "." in text:
        yield from _ipv4(text, lower, gates.ends("ipv4"))
    if "ipv6" in gates and text.count(":") >= 2:
        yield from _ipv6(text)


def _emails(text: str) -> Iterator[Span]:
    for m in _DOMAIN.finditer(text):
        start = m.start()
        floor = max(0, start - _LOCAL_MAX)
        while start > floor and (text[start - 1].isalnum() or text[start - 1] in "._%+-"):
            start -= 1
        while start < m.start() and text[start] == ".":
            start += 1
        if start == m.start() or text[m.start() - 1] == ".":
            continue
        yield Span(start, m.end(), PiiCategory.EMAIL, text[start : m.end()], "email")


def _ipv4(text: str, lower: str, ends: list[int] | None) -> Iterator[Span]:
    for m in finditer_near(_IPV4, text, ends, _IPV4_MAX, 2):
        if not all(int(octet) <= 255 for octet in m.group().split(".")):
            continue
        if VERSION_PATTERN.search(left(lower, m.start(), _VERSION_WINDOW)):
            continue
        yield Span(m.start(), m.end(), PiiCategory.IP_ADDRESS, m.group(), "ipv4")


def _ipv6(text: str) -> Iterator[Span]:
    pos = 0
    while (m := _IPV6_SEED.search(text, pos)) is not None:
        start = m.start()
        while start > 0 and text[start - 1] in _HEX_COLON and m.start() - start < 40:
            start -= 1
        tail = _IPV6_TAIL.match(text, m.start())
        end = tail.end() if tail is not None else m.end()
        pos = max(end, m.end())
        value = text[start:end]
        if _bounded(text, start, end) and _is_ipv6(value):
            yield Span(start, end, PiiCategory.IP_ADDRESS, value, "ipv6")


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in "_.") and not (after.isalnum() or after in "_:")


def _is_ipv6(value: str) -> bool:
    if sum(ch != ":" for ch in value) < 2:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True
