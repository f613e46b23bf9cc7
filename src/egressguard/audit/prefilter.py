"""The one native multi-pattern pass over every byte of every file.

Why Hyperscan: it matches hundreds of literals and regexes in one SIMD pass (several GB/s per
core), reports which patterns occurred without backtracking, and its Python binding hands us
pattern ids, so one call per file tells us which analysers care about it. RE2's `Set` gives
the same answer but scans slower on literal-heavy sets, and Python's `re` would need one pass
per pattern. Only files with at least one hit are decoded and analysed deeply.

Patterns come from the catalogue (`Catalog.prefilter_literals()`): provider keywords and host
fragments ("ai"), secret-key prefixes ("key"), SDK package names ("sdk") and AI/chat widget
hosts ("widget"). `bench_patterns()` exports the same set as regex strings so the benchmark
can give ripgrep and Semgrep exactly the same work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import hyperscan

from egressguard.catalog import Catalog


@dataclass(frozen=True, slots=True)
class Pattern:
    tags: frozenset[str]  # a literal may serve several tags ("generativelanguage": ai and key)
    literal: bytes
    caseless: bool


@dataclass
class Prefilter:
    """A compiled Hyperscan database plus the tag of each pattern id.

    Not thread-safe: each thread needs its own `Prefilter.clone()` (its own scratch space).
    """

    patterns: tuple[Pattern, ...]
    _db: hyperscan.Database
    _scratch: hyperscan.Scratch = field(init=False)
    _tags: tuple[frozenset[str], ...] = field(init=False)

    def __post_init__(self) -> None:
        self._scratch = hyperscan.Scratch(self._db)
        self._tags = tuple(p.tags for p in self.patterns)

    def clone(self) -> Prefilter:
        return Prefilter(self.patterns, self._db)

    def tags(self, data: bytes) -> frozenset[str]:
        """The tags of every pattern that occurs in `data` (empty: nothing to analyse)."""
        found: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: object) -> None:
            found.add(pattern_id)

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        if not found:
            return frozenset()
        tags = self._tags
        return frozenset().union(*(tags[i] for i in found))


def patterns_from(catalog: Catalog) -> tuple[Pattern, ...]:
    """The deduplicated pattern set of a catalogue, in a stable order."""
    seen: dict[tuple[bytes, bool], tuple[bytes, set[str]]] = {}
    for tag, literal, caseless in catalog.prefilter_literals():
        key = (literal.lower() if caseless else literal, caseless)
        seen.setdefault(key, (literal, set()))[1].add(tag)
    return tuple(Pattern(frozenset(tags), lit, key[1]) for key, (lit, tags) in seen.items())


def build(catalog: Catalog) -> Prefilter:
    """Compile the catalogue's prefilter literals into one Hyperscan block-mode database."""
    patterns = patterns_from(catalog)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    base = hyperscan.HS_FLAG_SINGLEMATCH
    db.compile(
        expressions=[_hs_escape(p.literal) for p in patterns],
        ids=list(range(len(patterns))),
        flags=[base | (hyperscan.HS_FLAG_CASELESS if p.caseless else 0) for p in patterns],
    )
    return Prefilter(patterns, db)


def _hs_escape(literal: bytes) -> bytes:
    return re.escape(literal.decode("latin-1")).encode("latin-1")


_META = re.compile(r"([.^$*+?{}\[\]\\|()])")


def portable_escape(literal: str) -> str:
    """Escape only regex metacharacters, so RE2, Rust regex and PCRE accept the pattern
    (Python's `re.escape` also escapes spaces and `-`, which ripgrep rejects)."""
    return _META.sub(r"\\\1", literal)


def bench_patterns(catalog: Catalog) -> list[tuple[str, bool]]:
    """The prefilter as (regex, caseless) pairs for other tools (ripgrep, Semgrep) in bench/."""
    return [
        (portable_escape(p.literal.decode("latin-1")), p.caseless) for p in patterns_from(catalog)
    ]
