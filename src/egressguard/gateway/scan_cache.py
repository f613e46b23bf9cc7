"""`ScanCache`: the detector's spans of long texts, remembered, so resent history is scanned once.

Chat clients resend the whole conversation on every turn: the system prompt, every earlier user
message, every earlier answer (with tokens in it), every tool result. Without a cache each turn
scans all of it again, so a conversation's detection cost grows with the square of its length.
`ScanCache` wraps the detector: a text of at least `min_chars` characters is looked up in a
`text_memo.TextMemo` by a keyed digest of the text and its JSON key; on a hit its spans are
rebuilt from the text, on a miss the detector runs and its spans are remembered. The detector is
a pure function of (text, key), so a hit returns exactly what a scan would. It serves any
conversation (a system prompt every conversation starts with); within one conversation the
redactor's own memo (`transform.Redactor`) usually answers first.

What is kept per entry: each span's offsets, category and rule id. No text and no detected value
is kept: a span's value is cut from the text being scanned. Short texts (JSON values, names) are
not cached: scanning them costs about what a look-up does.

Entries hold only ints and plain strings (a category is kept as its value, not as the enum
member), so the cyclic GC stops tracking them: with enum members inside, a full cache was
~45,000 tracked tuples that every full collection walked (~50 ms on the project VM).
"""

from __future__ import annotations

from collections.abc import Sequence

from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.text_memo import ENTRIES, MIN_CHARS, MemoStats, TextMemo
from egressguard.gateway.transform import DetectorLike

_Cached = tuple[tuple[int, int, str, str], ...]  # (start, end, category value, rule) per span
_CATEGORY = {str(c.value): c for c in PiiCategory}


class ScanCache:
    """A `DetectorLike` that remembers the spans of long texts (see the module docstring)."""

    def __init__(
        self, detector: DetectorLike, *, entries: int = ENTRIES, min_chars: int = MIN_CHARS
    ) -> None:
        self._detector = detector
        self._memo: TextMemo[_Cached] = TextMemo(entries=entries, min_chars=min_chars)

    @property
    def hits(self) -> int:
        return self._memo.hits

    @property
    def misses(self) -> int:
        return self._memo.misses

    def stats(self) -> MemoStats:
        return self._memo.stats()

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]:
        digest = self._memo.digest(text, key)
        if digest is None:
            return self._detector.scan(text, key=key)
        cached = self._memo.get(digest)
        if cached is not None:
            category = _CATEGORY
            return [Span(s, e, category[c], text[s:e], rule) for s, e, c, rule in cached]
        spans = self._detector.scan(text, key=key)
        self._memo.put(
            digest,
            tuple((s.start, s.end, str(s.category.value), str(s.rule)) for s in spans),
            len(spans),
        )
        return spans

    def __len__(self) -> int:
        return len(self._memo)
