"""Apply one secret rule to a text: regex, placeholder filter, entropy and context window.

This is the meaning of a [[secrets]] entry; the secret analyser and the self-tests share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from egressguard.catalog.schema import SecretRule
from egressguard.catalog.secret_filters import is_placeholder, shannon_entropy


def find_secrets(rule: SecretRule, text: str) -> Iterator[tuple[int, str]]:
    """(character offset, secret) for every live-looking key `rule` finds in `text`."""
    if rule.keywords and not any(k in text for k in rule.keywords):
        return
    for m in rule.regex.finditer(text):
        secret = m.group(rule.secret_group)
        if secret and is_live(rule, secret) and has_context(rule, text, m.start(rule.secret_group)):
            yield m.start(rule.secret_group), secret


def is_live(rule: SecretRule, secret: str) -> bool:
    """Not a placeholder and random enough for this rule."""
    return not is_placeholder(secret) and shannon_entropy(secret) >= rule.min_entropy


def has_context(rule: SecretRule, text: str, offset: int) -> bool:
    """True when the rule needs no context or one context regex occurs within the line window."""
    if not rule.needs_context:
        return True
    window = _line_window(text, offset, rule.context_lines)
    return any(re.search(pattern, window) for pattern in rule.needs_context)


def _line_window(text: str, offset: int, lines: int) -> str:
    """The line holding `offset` plus `lines` lines before and after it."""
    start = offset
    for _ in range(lines + 1):
        start = text.rfind("\n", 0, start)
        if start < 0:
            break
    end = offset
    for _ in range(lines + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            break
    return text[start + 1 : end if end >= 0 else len(text)]
