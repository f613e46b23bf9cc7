"""Evidence lines for hits: masked before anything else sees them, then shortened.

Every token that matches a catalogue secret rule is replaced by its masked form
(`masking.redact`) BEFORE the line is cut to length, so truncation can never expose the part
of a key that a cut-off regex would no longer recognise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from egressguard.masking import redact

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

MAX_EVIDENCE = 200


def mask_secrets(text: str, catalog: Catalog) -> str:
    """`text` with every catalogue secret (rule group `secret_group`) masked."""
    for rule in catalog.secrets:
        for m in rule.regex.finditer(text):
            secret = m.group(rule.secret_group)
            if secret:
                text = redact(text, secret)
    return text


def masked_line(f: SourceFile, line: int, catalog: Catalog, column: int = 0) -> str:
    """Line `line` of `f`, secrets masked, trimmed to MAX_EVIDENCE characters around `column`."""
    text = mask_secrets(f.line_text(line), catalog)
    stripped = text.strip()
    if len(stripped) <= MAX_EVIDENCE:
        return stripped
    start = max(0, min(column - MAX_EVIDENCE // 4, len(text) - MAX_EVIDENCE))
    return "…" + text[start : start + MAX_EVIDENCE].strip() + "…"
