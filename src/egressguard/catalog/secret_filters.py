"""Is a key-shaped value a live secret or a placeholder? Pure functions, no I/O.

A candidate that matched a secret rule's regex still is not reported when it is a placeholder
(`sk-proj-XXXX…`, `your-api-key`, `${OPENAI_KEY}`, `%env(OPENAI_KEY)%`, `process.env.X`,
`changeme`, `<your key>`) or when its Shannon entropy is below the rule's `min_entropy`.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# Whole values that are never a key.
_PLACEHOLDER_VALUES = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "dummy",
        "example",
        "test",
        "testing",
        "secret",
        "password",
        "none",
        "null",
        "undefined",
        "todo",
        "tbd",
        "redacted",
        "placeholder",
    }
)
# Substrings that mark a template, a variable reference or an instruction to the reader.
_PLACEHOLDER_MARKERS = re.compile(
    r"""
    <[^<>]*>                    # <your key>, <API_KEY>
    | \$\{ | \{\{ | \{% | %\w+%  # ${VAR}, {{ var }}, {% ... %}, %VAR%
    | %env\( | process\.env | getenv\( | \benv\( | \$_(?:env|server)\b
    | x{4,} | \*{3,} | \.{3} | …  # XXXX, ***, ..., …
    | your[-_ ]?(?:api|key|token|secret|openai|own)
    | (?:api|secret)[-_ ]?key[-_ ]?here | insert[-_ ]?(?:your|key|here) | replace[-_ ]?(?:me|with)
    | example | placeholder | dummy | changeme | redacted | sample[-_]?key | fake[-_]?key
    """,
    re.IGNORECASE | re.VERBOSE,
)
_PREFIX = re.compile(r"^(?:[a-z0-9]{1,8}[-_]){1,3}(?=.{16})")
_RUN_LIMIT = 5  # a character repeated this often in a row: aaaaa, 00000
_RUN = re.compile(r"(.)\1{" + str(_RUN_LIMIT - 1) + ",}")
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz")
_SEQUENCE_LIMIT = 6  # "123456", "abcdef" in a row
_DISTINCT_MIN = 5  # fewer distinct characters in the value body: not random


def shannon_entropy(value: str) -> float:
    """Shannon entropy of the character distribution, in bits per character (0.0 for '')."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """True when `value` is obviously not a live secret (template, instruction or filler)."""
    text = value.strip().strip("\"'`")
    lower = text.lower()
    if not text or lower in _PLACEHOLDER_VALUES:
        return True
    if _PLACEHOLDER_MARKERS.search(text):
        return True
    return _is_filler(_body(lower))


def _body(lower: str) -> str:
    """The random part after a key-type prefix such as `sk-proj-`, `sk-or-v1-` or `hf_`."""
    return _PREFIX.sub("", lower, count=1)


def _is_filler(body: str) -> bool:
    if len(set(body)) < _DISTINCT_MIN:
        return True
    if _RUN.search(body):
        return True
    return any(_has_sequence(body, seq) for seq in _SEQUENCES)


def _has_sequence(body: str, sequence: str) -> bool:
    return any(
        sequence[i : i + _SEQUENCE_LIMIT] in body
        for i in range(len(sequence) - _SEQUENCE_LIMIT + 1)
    )
