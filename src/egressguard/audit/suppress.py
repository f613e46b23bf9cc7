"""Inline suppressions: `egressguard-ignore: <rule-id>[, <rule-id>] -- <reason>`.

The comment stands on the finding's line or on the line above it, in any comment syntax
(`//`, `#`, `/* */`, `<!-- -->`, `{% comment %}`). The reason is mandatory: a suppression
without one is not applied and the result carries a warning naming the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(
    r"egressguard-ignore:\s*(?P<rules>[a-z0-9*][a-z0-9,\s*-]*?)\s*(?:--\s*(?P<reason>.*?))?\s*"
    r"(?:\*/|-->|%}|\?>)?\s*$",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class InlineSuppression:
    line: int
    rules: frozenset[str]  # may contain "*" (every rule)
    reason: str

    def covers(self, rule: str, line: int) -> bool:
        return line in (self.line, self.line + 1) and ("*" in self.rules or rule in self.rules)


def find_suppressions(text: str) -> list[InlineSuppression]:
    """Every marker in a file (valid or not: an empty reason means invalid)."""
    if "egressguard-ignore" not in text:
        return []
    out = []
    for m in _MARKER.finditer(text):
        rules = frozenset(r.strip() for r in m.group("rules").split(",") if r.strip())
        line = text.count("\n", 0, m.start()) + 1
        out.append(InlineSuppression(line, rules, (m.group("reason") or "").strip()))
    return out
