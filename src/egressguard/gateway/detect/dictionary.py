"""Shop dictionaries: customers' names and emails, SKUs, suppliers, cost prices, codenames.

Terms come from CSV exports (`DictionarySpec`) and go into one multi-literal matcher
(`presence.Literals`: Hyperscan, every occurrence, as an Aho-Corasick automaton reports them)
over lower-cased text; a hit counts only on word boundaries. Terms shorter than
`MIN_TERM` characters are ignored (they would match everywhere).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from egressguard.errors import GatewayConfigError
from egressguard.gateway.detect.model import DictionarySpec, PiiCategory, Span
from egressguard.gateway.detect.presence import Literals

MIN_TERM = 3


class ShopDictionary:
    """Case-insensitive, whole-word multi-string matcher over the shop's terms."""

    def __init__(self, terms: Iterable[tuple[str, PiiCategory, str]]) -> None:
        """`terms`: (term, category, rule id such as `dict:customers.csv:email`)."""
        entries: dict[str, tuple[PiiCategory, str]] = {}
        for term, category, rule in terms:
            key = term.strip().lower()
            if len(key) >= MIN_TERM and key not in entries:
                entries[key] = (category, rule)
        self._terms = tuple((len(key), *meta) for key, meta in entries.items())
        self._matcher = Literals(list(entries))
        self.size = len(entries)

    def find(self, text: str, lower: str) -> Iterator[Span]:
        """Hits in `text`; `lower` is its lower-cased form of the same length."""
        if not self.size:
            return
        for index, end in self._matcher.iter(lower):
            length, category, rule = self._terms[index]
            start = end - length
            if _boundary(lower, start - 1) and _boundary(lower, end):
                yield Span(start, end, category, text[start:end], rule)


def _boundary(text: str, i: int) -> bool:
    return i < 0 or i >= len(text) or not (text[i].isalnum() or text[i] == "_")


def load_dictionaries(specs: Sequence[DictionarySpec]) -> ShopDictionary:
    """Read every CSV export; a missing file or column raises GatewayConfigError."""
    return ShopDictionary(term for spec in specs for term in _terms(spec))


def _terms(spec: DictionarySpec) -> Iterator[tuple[str, PiiCategory, str]]:
    try:
        with spec.path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = [h for h in (rows[0].keys() if rows else []) if h is not None]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GatewayConfigError(f"dictionary {spec.path}: cannot read CSV: {exc}") from exc
    by_lower = {h.strip().lower(): h for h in header}
    wanted = [c.lower() for c in spec.columns] or list(by_lower)
    missing = [c for c in wanted if c not in by_lower]
    if rows and missing:
        raise GatewayConfigError(f"dictionary {spec.path}: no column(s) {', '.join(missing)}")
    for row in rows:
        for column in wanted:
            value = row.get(by_lower.get(column, column)) or ""
            if value.strip():
                yield value, spec.category, f"dict:{spec.path.name}:{column}"
