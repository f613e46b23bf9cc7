"""`ScanCache`: the detector's spans of long texts, remembered, so resent history is scanned once.

Chat clients resend the whole conversation on every turn: the system prompt, every earlier user
message, every earlier answer (with tokens in it), every tool result. Without a cache each turn
scans all of it again, so a conversation's detection cost grows with the square of its length.
`ScanCache` wraps the detector: a text of at least `min_chars` characters is looked up by a keyed
BLAKE2b digest of the text and its JSON key; on a hit its spans are rebuilt from the text, on a
miss the detector runs and its spans are remembered. The detector is a pure function of (text,
key), so a hit returns exactly what a scan would.

What is kept: per entry the digest (keyed with a random per-process key, so it cannot be tested
against guessed values even in a memory dump) and each span's offsets, category and rule id. No
text and no detected value is kept: a span's value is cut from the text being scanned. Bounded
to `entries` entries, least recently used first out. Short texts (JSON values, names) are not
cached: scanning them costs about what a lookup does.

Entries hold only ints and plain strings (a category is kept as its value, not as the enum
member), so the cyclic GC stops tracking them: with enum members inside, a full cache was
~45,000 tracked tuples that every full collection walked (~50 ms on the project VM).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.transform import DetectorLike

MIN_CHARS = 256
ENTRIES = 1024

_Cached = tuple[tuple[int, int, str, str], ...]  # (start, end, category value, rule) per span
_CATEGORY = {str(c.value): c for c in PiiCategory}


class ScanCache:
    """A `DetectorLike` that remembers the spans of long texts (see the module docstring)."""

    def __init__(
        self, detector: DetectorLike, *, entries: int = ENTRIES, min_chars: int = MIN_CHARS
    ) -> None:
        if entries < 1:
            raise ValueError("entries must be at least 1")
        self._detector = detector
        self._entries = entries
        self._min_chars = min_chars
        self._key = os.urandom(32)
        self._spans: OrderedDict[bytes, _Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]:
        if len(text) < self._min_chars:
            return self._detector.scan(text, key=key)
        digest = self._digest(text, key)
        with self._lock:
            cached = self._spans.get(digest)
            if cached is not None:
                self._spans.move_to_end(digest)
                self.hits += 1
        if cached is not None:
            category = _CATEGORY
            return [Span(s, e, category[c], text[s:e], rule) for s, e, c, rule in cached]
        spans = self._detector.scan(text, key=key)
        remembered = tuple((s.start, s.end, str(s.category.value), str(s.rule)) for s in spans)
        with self._lock:
            self.misses += 1
            self._spans[digest] = remembered
            if len(self._spans) > self._entries:
                self._spans.popitem(last=False)
        return spans

    def _digest(self, text: str, key: str | None) -> bytes:
        h = hashlib.blake2b(key=self._key, digest_size=32)
        # the JSON key first, length-prefixed, so (key, text) pairs never share an input
        label = b"\x00" if key is None else b"\x01" + key.encode("utf-8", "surrogatepass")
        h.update(len(label).to_bytes(4, "big") + label)
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.digest()

    def __len__(self) -> int:
        return len(self._spans)
