"""ScanCache: a hit returns exactly what the detector would, and keeps no text or value."""

from __future__ import annotations

import gc
from collections.abc import Sequence

import pytest

from egressguard.gateway.detect import Span, build_detector
from egressguard.gateway.scan_cache import ScanCache

DENSE = (
    "Customer Anna Schmidt (anna.schmidt@example.de, +49 30 1234567) ordered SKU MB-2049 twice.\n"
    "Ship to Hauptstraße 12, 10115 Berlin; invoice IBAN DE89370400440532013000, VAT DE136695976.\n"
    "Mme Claire Dubois, 14 rue de la Paix, 75002 Paris, claire.dubois@example.fr, 06 12 34 56 78.\n"
)


class Counting:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self._real = build_detector([])

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]:
        self.calls.append((text, key))
        return self._real.scan(text, key=key)


@pytest.fixture(scope="module")
def detector() -> Counting:
    return Counting()


def test_a_hit_returns_what_a_scan_returns(detector: Counting) -> None:
    cache = ScanCache(detector, min_chars=64)
    first = list(cache.scan(DENSE))
    before = len(detector.calls)
    again = list(cache.scan(DENSE))
    assert len(detector.calls) == before  # not scanned again
    assert again == first == list(detector.scan(DENSE))
    assert len(first) >= 8 and all(DENSE[s.start : s.end] == s.value for s in again)
    assert (cache.hits, cache.misses) == (1, 1)


def test_the_json_key_is_part_of_the_entry(detector: Counting) -> None:
    cache = ScanCache(detector, min_chars=64)
    cache.scan(DENSE)
    before = len(detector.calls)
    cache.scan(DENSE, key="note")
    assert detector.calls[before:] == [(DENSE, "note")]


def test_short_texts_are_always_scanned(detector: Counting) -> None:
    cache = ScanCache(detector, min_chars=64)
    before = len(detector.calls)
    cache.scan("anna@example.de")
    cache.scan("anna@example.de")
    assert len(detector.calls) == before + 2 and len(cache) == 0


def test_least_recently_used_leaves_first(detector: Counting) -> None:
    cache = ScanCache(detector, entries=2, min_chars=8)
    texts = [f"{DENSE} ticket {i}" for i in range(3)]
    cache.scan(texts[0])
    cache.scan(texts[1])
    cache.scan(texts[0])  # 0 is now the most recent
    cache.scan(texts[2])  # evicts 1
    before = len(detector.calls)
    cache.scan(texts[0])
    assert len(detector.calls) == before
    cache.scan(texts[1])
    assert len(detector.calls) == before + 1 and len(cache) == 2


def test_no_text_or_value_is_kept(detector: Counting) -> None:
    cache = ScanCache(detector, min_chars=64)
    cache.scan(DENSE)
    kept = repr(list(cache._memo._values.items()))
    for secret in ("anna.schmidt", "DE89370400440532013000", "Hauptstraße", "Schmidt"):
        assert secret not in kept


def test_at_least_one_entry() -> None:
    with pytest.raises(ValueError):
        ScanCache(Counting(), entries=0)


def test_entries_leave_the_cyclic_gcs_view(detector: Counting) -> None:
    """Only ints and plain strings inside: full collections need not walk a full cache."""
    cache = ScanCache(detector, min_chars=64)
    cache.scan(DENSE)
    gc.collect()
    gc.collect()  # the outer tuple is untracked once its spans are
    ((entry, _weight),) = cache._memo._values.values()
    assert entry and not gc.is_tracked(entry)
    assert not any(gc.is_tracked(span) for span in entry)
