"""Code excerpts and evidence, masked before they leave the engine.

Analysers mask what they detect; this is the engine's second line of defence: every line
that reaches a report passes `mask_line`, which masks anything a secret rule matches and any
long, high-entropy token (a key we have no rule for still must not leak).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.analysers.evidence import mask_secrets
from egressguard.catalog import Catalog
from egressguard.masking import mask

_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{24,}")
_MAX_LINE = 400
CONTEXT_LINES = 2


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_secret(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and _entropy(token) >= 3.5


def mask_line(line: str, catalog: Catalog) -> str:
    """The line with every secret-looking value masked, cut to a readable length."""
    line = mask_secrets(line, catalog)
    line = _TOKEN.sub(lambda m: mask(m.group()) if _looks_secret(m.group()) else m.group(), line)
    return line if len(line) <= _MAX_LINE else line[:_MAX_LINE] + "…"


def excerpt(f: SourceFile, line: int, catalog: Catalog) -> tuple[tuple[int, str], ...]:
    """Masked lines around `line` (1-based), as (line number, text) pairs."""
    last = len(f.line_starts)
    lo, hi = max(1, line - CONTEXT_LINES), min(last, line + CONTEXT_LINES)
    return tuple((n, mask_line(f.line_text(n), catalog)) for n in range(lo, hi + 1))
