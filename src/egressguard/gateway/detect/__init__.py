"""Detection of personal and business data in prompts: no network, no model download.

    build_detector(dictionaries) -> Detector
    Detector.scan(text, *, key=None) -> list[Span]     non-overlapping, sorted by start
    Span(start, end, category, value, rule)
    PiiCategory                                        stable values used in tokens and policy
    DictionarySpec(path, category, columns)            a shop's CSV export

Modules: checksums (check digits), identifiers (cards, IBAN, VAT, national IDs), phones
(libphonenumber metadata), internet (e-mail, IP), addresses (streets, postcodes), names
(context, first names), keys (JSON keys), dictionary (multi-literal match over shop CSVs),
secrets (catalogue key rules), ner (optional spaCy), presence (one Hyperscan pass: which
finder regexes can match, and where), wordtrie (word lists as regex tries), context (context
words near a candidate), engine (orchestration and overlaps).
"""

from __future__ import annotations

from egressguard.gateway.detect.engine import Detector, build_detector
from egressguard.gateway.detect.model import DictionarySpec, PiiCategory, Span

__all__ = ["Detector", "DictionarySpec", "PiiCategory", "Span", "build_detector"]
