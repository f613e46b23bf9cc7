"""Masking and fingerprinting of detected secrets and personal data.

No output, log, error or snapshot may contain a full secret that EgressGuard detected.
Everything that shows a detected value shows `mask(value)`; everything that needs to
recognise a value again (baselines, fingerprints) uses `fingerprint(value)`.
"""

from __future__ import annotations

import hashlib

_ELLIPSIS = "…"


def fingerprint(value: str) -> str:
    """A stable, non-reversible identifier of a value: `sha256:` + 12 hex digits."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def mask(value: str) -> str:
    """Show at most a short, non-secret prefix (a key's type marker) and the last 2 characters.

    At most a quarter of the value is ever shown, so short values are almost fully hidden.
    """
    n = len(value)
    if n <= 4:
        return "*" * n
    head = min(8, n // 4)
    tail = 2 if n >= 16 else 0
    hidden = n - head - tail
    return f"{value[:head]}{_ELLIPSIS}[{hidden}]{_ELLIPSIS}{value[n - tail :] if tail else ''}"


def redact(text: str, value: str) -> str:
    """Replace every occurrence of `value` in `text` by its masked form."""
    if not value:
        return text
    return text.replace(value, mask(value))
