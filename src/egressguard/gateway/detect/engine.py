"""The detector: every finder over one text, then one deterministic overlap resolution.

Finders run on the text and its lower-cased twin (same length, so offsets agree). Each is gated
by a cheap test (an `@`, a digit, a colon, a keyword) before its regex runs; checksums and
libphonenumber metadata run only on candidates.

Overlaps: the longest span wins; equal lengths go to the category earlier in
`model.PRIORITY`, then to the earlier start, then to the rule id, so the result never depends
on finder order.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from egressguard.catalog.schema import SecretRule
from egressguard.gateway.detect import addresses, identifiers, internet, keys, names, phones
from egressguard.gateway.detect.dictionary import ShopDictionary, load_dictionaries
from egressguard.gateway.detect.model import RANK, DictionarySpec, Span
from egressguard.gateway.detect.ner import SpacyNames
from egressguard.gateway.detect.presence import Found, Presence
from egressguard.gateway.detect.secrets import SecretFinder

# The finders' necessary conditions, tested in one Hyperscan pass per text (`presence`).
_GATES: dict[str, bytes] = {**identifiers.GATES, **internet.GATES, **addresses.GATES}
_GATE_NAMES = tuple(_GATES)
_POSITIONAL = identifiers.POSITIONAL | internet.POSITIONAL | addresses.POSITIONAL
_LEFTMOST = addresses.LEFTMOST

_WARM_UP = (
    "Herr Jan Kowalski, Hauptstraße 5, 10115 Berlin, Tel. +49 30 1234567, jan@example.com, "
    'IBAN DE89 3704 0044 0532 0130 00, {"telephone": "030 1234567"}, 192.0.2.1, fe80::1'
)


class Detector:
    """Finds personal and business data in a text. Immutable and safe to share across tasks."""

    def __init__(
        self,
        *,
        dictionary: ShopDictionary | None = None,
        secrets: SecretFinder | None = None,
        ner: SpacyNames | None = None,
    ) -> None:
        self._dictionary = dictionary if dictionary is not None else ShopDictionary(())
        self._secrets = secrets if secrets is not None else SecretFinder()
        self._ner = ner
        self._gates = Presence(
            list(_GATES.values()),
            positional=[i for i, name in enumerate(_GATE_NAMES) if name in _POSITIONAL],
            leftmost=[i for i, name in enumerate(_GATE_NAMES) if name in _LEFTMOST],
        )

    def scan(self, text: str, *, key: str | None = None) -> list[Span]:
        """Non-overlapping spans sorted by start; `key` is the JSON key `text` was stored under."""
        if not text:
            return []
        if key is not None:
            whole = keys.whole_value(text, key)
            if whole is not None:
                return [whole]
        lower = lower_same_length(text)
        return resolve(self._candidates(text, lower))

    def _candidates(self, text: str, lower: str) -> list[Span]:
        ends = self._gates.scan(text)
        present = Found({_GATE_NAMES[i]: e for i, e in ends.items()}, _POSITIONAL | _LEFTMOST)
        found: list[Span] = []
        found.extend(self._secrets.find(text, lower))
        found.extend(self._dictionary.find(text, lower))
        found.extend(keys.find_pairs(text))
        found.extend(internet.find(text, lower, present))
        found.extend(identifiers.find(text, lower, present))
        found.extend(addresses.find(text, lower, present))
        found.extend(names.find(text))
        if self._ner is not None:
            found.extend(self._ner.find(text))
        return found


def lower_same_length(text: str) -> str:
    """`text.lower()`, except characters whose lower case is longer ('İ') stay as they are."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Longest first, then category priority, then position; keep what does not overlap."""
    ordered = sorted(spans, key=lambda s: (s.start - s.end, RANK[s.category], s.start, s.rule))
    starts: list[int] = []
    kept: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        i = bisect.bisect_right(starts, span.start)
        if i > 0 and kept[i - 1].end > span.start:
            continue
        if i < len(kept) and kept[i].start < span.end:
            continue
        starts.insert(i, span.start)
        kept.insert(i, span)
    return kept


def build_detector(
    dictionaries: Sequence[DictionarySpec],
    *,
    ner_model: str | None = None,
    secret_rules: Sequence[SecretRule] | None = None,
) -> Detector:
    """A detector with the shop's dictionaries loaded and every pattern compiled (warm)."""
    detector = Detector(
        dictionary=load_dictionaries(dictionaries),
        secrets=SecretFinder(secret_rules),
        ner=SpacyNames(ner_model) if ner_model else None,
    )
    phones.warm_up()
    detector.scan(_WARM_UP)
    return detector
