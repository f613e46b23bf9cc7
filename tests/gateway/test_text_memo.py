"""TextMemo: keyed digests of (labels, text), an LRU bounded by entries and by weight."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egressguard.gateway.text_memo import MemoStats, TextMemo

TEXT = "Order 4711 for anna.schmidt@example.de, ship to Hauptstraße 12, 10115 Berlin. " * 4


def test_short_texts_get_no_digest_and_labels_separate_entries() -> None:
    memo: TextMemo[str] = TextMemo(min_chars=64)
    assert memo.digest("short") is None
    keys = {
        memo.digest(TEXT),
        memo.digest(TEXT, None),
        memo.digest(TEXT, ""),
        memo.digest(TEXT, "a", "b"),
        memo.digest(TEXT, "ab"),
        memo.digest(TEXT, "a", None),
    }
    assert len(keys) == 6  # no two label tuples share a digest
    assert memo.digest(TEXT, "a", "b") == memo.digest(TEXT, "a", "b")
    assert TextMemo[str](min_chars=64).digest(TEXT) != memo.digest(TEXT)  # per-process key


def test_the_weight_bound_evicts_least_recently_used_first() -> None:
    memo: TextMemo[str] = TextMemo(min_chars=8, weight=10)
    d = [memo.digest(f"{TEXT} {i}") for i in range(4)]
    assert all(k is not None for k in d)
    a, b, c, e = (k for k in d if k is not None)
    memo.put(a, "a", 4)
    memo.put(b, "b", 4)
    assert memo.get(a) == "a"  # a is now the most recent
    memo.put(c, "c", 4)  # 12 > 10: b goes
    assert memo.get(b) is None and memo.get(a) == "a" and memo.get(c) == "c"
    memo.put(e, "e", 11)  # heavier than the whole budget: not kept, nothing evicted for it
    assert memo.get(e) is None and len(memo) == 2
    memo.put(a, "a2", 9)  # replacing an entry re-weighs it: c goes
    assert memo.get(a) == "a2" and memo.get(c) is None
    memo.clear()
    assert len(memo) == 0
    memo.put(b, "b", 10)  # the whole budget is free again after clear
    assert memo.get(b) == "b"


def test_stats_count_hits_misses_and_stale_hits() -> None:
    memo: TextMemo[str] = TextMemo(min_chars=8)
    key = memo.digest(TEXT)
    assert key is not None
    assert memo.get(key) is None
    memo.put(key, "v")
    assert memo.get(key) == "v"
    assert memo.get(key) == "v"
    memo.note_stale()  # the caller could not use the last hit
    assert memo.stats() == MemoStats(hits=1, misses=1, stale=1, entries=1)


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TextMemo(entries=0)
    with pytest.raises(ValueError):
        TextMemo(weight=0)


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(1, 12)), max_size=60))
def test_both_bounds_always_hold(puts: list[tuple[int, int]]) -> None:
    memo: TextMemo[int] = TextMemo(entries=5, min_chars=1, weight=20)
    for n, weight in puts:
        key = memo.digest(str(n))
        assert key is not None
        memo.put(key, n, weight)
        kept = list(memo._values.values())
        assert len(kept) <= 5 and sum(w for _, w in kept) <= 20
        assert memo._weight == sum(w for _, w in kept)
