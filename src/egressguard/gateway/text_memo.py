"""`TextMemo`: results for long texts, remembered under a keyed digest of the text, never the text.

Chat clients resend the whole conversation on every turn (system prompt, earlier messages,
earlier answers, tool results), so the gateway sees the same long texts again and again. Two
caches remember what was worked out for them: `scan_cache.ScanCache` (the detector's spans, any
conversation) and the redactor's memo (`transform.Redactor`: what each span became in one
tenant, route and conversation). Both keep entries here.

An entry is looked up by a BLAKE2b digest of the text and its labels (JSON key, tenant, ...),
keyed with a random per-process key, so a digest cannot be tested against guessed texts even in
a memory dump. No text and no detected value is kept: a caller stores offsets and ids and cuts
values from the text it is handling. Bounded to `entries` and to `weight` (the callers weigh an
entry by its records, one per span: a few dense 64 KB tool results must not hold hundreds of
megabytes), least recently used first out.
Texts shorter than `min_chars` get no digest (`digest` returns None): working them out costs
about what a look-up does.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Generic, NamedTuple, TypeVar

MIN_CHARS = 256
ENTRIES = 1024
WEIGHT = 131_072  # records (about 100-150 bytes each): ~15-20 MB at most per memo

V = TypeVar("V")


class MemoStats(NamedTuple):
    """Look-ups since start (a stale hit was found but no longer held) and current entries."""

    hits: int
    misses: int
    stale: int
    entries: int


class TextMemo(Generic[V]):
    """A bounded, thread-safe LRU of `V` under keyed digests of (labels, text)."""

    def __init__(
        self, *, entries: int = ENTRIES, min_chars: int = MIN_CHARS, weight: int = WEIGHT
    ) -> None:
        if entries < 1 or weight < 1:
            raise ValueError("entries and weight must be at least 1")
        self._entries = entries
        self._max_weight = weight
        self._weight = 0
        self._min_chars = min_chars
        self._key = os.urandom(32)
        self._values: OrderedDict[bytes, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.stale = 0

    def digest(self, text: str, *labels: str | None) -> bytes | None:
        """The entry key of `text` under `labels`; None when the text is too short to keep."""
        if len(text) < self._min_chars:
            return None
        h = hashlib.blake2b(key=self._key, digest_size=32)
        for label in labels:  # each length-prefixed, so no two label tuples share an input
            raw = b"\x00" if label is None else b"\x01" + label.encode("utf-8", "surrogatepass")
            h.update(len(raw).to_bytes(4, "big") + raw)
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.digest()

    def get(self, digest: bytes) -> V | None:
        with self._lock:
            found = self._values.get(digest)
            if found is None:
                self.misses += 1
                return None
            self._values.move_to_end(digest)
            self.hits += 1
            return found[0]

    def put(self, digest: bytes, value: V, weight: int = 1) -> None:
        """Remember `value` (weighing `weight`; an entry heavier than the whole budget is not
        kept), then drop the least recently used entries until both bounds hold."""
        weight = max(1, weight)
        with self._lock:
            old = self._values.pop(digest, None)
            if old is not None:
                self._weight -= old[1]
            if weight > self._max_weight:
                return
            self._values[digest] = (value, weight)
            self._weight += weight
            while len(self._values) > self._entries or self._weight > self._max_weight:
                self._weight -= self._values.popitem(last=False)[1][1]

    def note_stale(self) -> None:
        """The last hit could not be used (the caller worked the text out again)."""
        with self._lock:
            self.hits -= 1
            self.stale += 1

    def stats(self) -> MemoStats:
        with self._lock:
            return MemoStats(self.hits, self.misses, self.stale, len(self._values))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._values)
