"""Which of a fixed set of patterns occur in a text: one Hyperscan pass, no positions.

A finder that only needs to know whether its keywords occur (to skip its regexes) asks here
instead of running one search per keyword. Expressions are Hyperscan patterns over the text's
UTF-8 bytes; each reports at most once (`HS_FLAG_SINGLEMATCH`), so a pass costs one native
scan and a callback per distinct hit. UTF-8 is self-synchronising, so a literal occurs in the
bytes exactly when it occurs in the text.

Lone surrogates (which a JSON body may carry) are encoded as their three bytes; they are
non-ASCII bytes to every expression here, as they are non-ASCII characters to `re`.

A Hyperscan scratch space must not be used by two threads at once: each thread gets its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import Protocol

import hyperscan


def literal(text: str) -> bytes:
    """A Hyperscan expression matching `text` literally (every byte escaped)."""
    return _escaped(text.encode("utf-8"))


def _escaped(data: bytes) -> bytes:
    return b"".join(b"\\x%02x" % byte for byte in data)


# Stands for "any non-ASCII character" in byte-level gates: each byte of its UTF-8 encoding
# matches, so a gate written with it accepts whatever `re`'s Unicode \d, \w or [À-Ž] accepts.
NON_ASCII = rb"\x80-\xff"


class Gates(Protocol):
    """What a finder learns from the gate pass: which gates occur, and where positional ones
    end."""

    def __contains__(self, name: object) -> bool: ...

    def ends(self, name: str) -> list[int] | None: ...


class Everything:
    """The gates of a finder run without a gate pass: every gate is present, positions unknown."""

    def __contains__(self, name: object) -> bool:
        return True

    def ends(self, name: str) -> list[int] | None:
        return None


EVERYTHING = Everything()


class Found:
    """The gates present in one text, with the character offsets where positional gates end."""

    def __init__(self, ends: dict[str, list[int]], positional: frozenset[str]) -> None:
        self._ends = ends
        self._positional = positional

    def __contains__(self, name: object) -> bool:
        return name in self._ends

    def ends(self, name: str) -> list[int] | None:
        """Where gate `name` ends (sorted, characters), or None when it only reports presence."""
        return self._ends.get(name, []) if name in self._positional else None


class Presence:
    """Which of a set of expressions occur in a text; for `positional` ones, where each match
    ends; for `leftmost` ones, where each match starts (its leftmost start)."""

    def __init__(
        self,
        expressions: Sequence[bytes],
        positional: Collection[int] = (),
        leftmost: Collection[int] = (),
    ) -> None:
        self.size = len(expressions)
        self._positional = frozenset(positional) | frozenset(leftmost)
        self._leftmost = frozenset(leftmost)
        self._db: hyperscan.Database | None = None
        if expressions:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=list(expressions),
                ids=list(range(len(expressions))),
                elements=len(expressions),
                flags=[self._flags(i) for i in range(len(expressions))],
            )
        self._local = threading.local()

    def _flags(self, i: int) -> int:
        if i in self._leftmost:
            return int(hyperscan.HS_FLAG_SOM_LEFTMOST)
        return 0 if i in self._positional else int(hyperscan.HS_FLAG_SINGLEMATCH)

    def found(self, text: str) -> set[int]:
        """The indices of the expressions that occur in `text`."""
        return set(self.scan(text))

    def scan(self, text: str) -> dict[int, list[int]]:
        """Index -> sorted offsets in `text` (characters): the end of every match of a
        positional expression, the start of every match of a leftmost one, one end of the
        others (presence only)."""
        if self._db is None:
            return {}
        hits: dict[int, list[int]] = {}
        leftmost = self._leftmost

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: object) -> None:
            hits.setdefault(pattern_id, []).append(start if pattern_id in leftmost else end)

        data = text.encode("utf-8", "surrogatepass")
        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        if not text.isascii():
            hits = self._in_characters(data, hits)
        return {i: sorted(offsets) for i, offsets in hits.items()}

    def _in_characters(self, data: bytes, hits: dict[int, list[int]]) -> dict[int, list[int]]:
        """Byte offsets as character offsets (presence-only hits: no offsets)."""
        ends: set[int] = set()
        starts: set[int] = set()
        for i, offsets in hits.items():
            if i in self._positional:
                (starts if i in self._leftmost else ends).update(offsets)
        of_end = _char_offsets(data, ends, round_up=True)
        of_start = _char_offsets(data, starts, round_up=False)
        return {
            i: [(of_start if i in self._leftmost else of_end)[o] for o in offsets]
            if i in self._positional
            else []
            for i, offsets in hits.items()
        }

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch


def _char_offsets(data: bytes, offsets: set[int], *, round_up: bool) -> dict[int, int]:
    """Byte offsets in UTF-8 `data` -> character offsets, in one decode pass. An offset inside
    a character moves to that character's end (`round_up`, for match ends) or start (for match
    starts), so a region built on it still covers the character."""
    chars: dict[int, int] = {}
    done_bytes = done_chars = 0
    for offset in sorted(offsets):
        boundary = offset
        if round_up:
            while boundary < len(data) and data[boundary] & 0xC0 == 0x80:
                boundary += 1
        else:
            while 0 < boundary < len(data) and data[boundary] & 0xC0 == 0x80:
                boundary -= 1
        done_chars += len(data[done_bytes:boundary].decode("utf-8", "surrogatepass"))
        done_bytes = boundary
        chars[offset] = done_chars
    return chars


def finditer_near(
    pattern: re.Pattern[str],
    text: str,
    ends: list[int] | None,
    max_len: int,
    lookahead: int,
    extend: re.Pattern[str] | None = None,
) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, searching only near where a gate of it ends.

    Exact when every match of `pattern` starts in [end - max_len, end) of some gate end (a match
    of at most `max_len` characters that contains a gate match does) and its look-aheads read
    at most `lookahead` characters past the match, or up to where `extend` (matched at that
    point) stops: each such region is searched with the text cut there, and finds what
    `finditer` finds. `ends` None: no positions known, plain `finditer`.
    """
    if ends is None:
        yield from pattern.finditer(text)
        return
    pos = 0
    for lo, hi in _regions(ends, max_len):
        pos = max(pos, lo)
        endpos = min(len(text), hi + max_len + lookahead)
        if extend is not None and (tail := extend.match(text, endpos)) is not None:
            endpos = tail.end()
        while pos < hi and (m := pattern.search(text, pos, endpos)) is not None:
            if m.start() >= hi:
                break
            yield m
            pos = m.end()


def _regions(ends: list[int], width: int) -> Iterator[tuple[int, int]]:
    """The union of [end - width, end) over sorted `ends`, as disjoint sorted intervals."""
    lo, hi = 0, -1
    for end in ends:
        if hi < 0 or end - width > hi:
            if hi >= 0:
                yield lo, hi
            lo = max(0, end - width)
        hi = max(hi, end)
    if hi >= 0:
        yield lo, hi


class Literals:
    """Every occurrence of a set of literal words, as (word index, end offset in characters),
    like an Aho-Corasick automaton's output (overlapping occurrences included).

    The text is scanned as UTF-32: four bytes per character, so an end offset divided by four
    is a character offset (an end that is not a multiple of four straddles two characters and
    is dropped).
    """

    def __init__(self, words: Sequence[str]) -> None:
        self.size = len(words)
        self._db: hyperscan.Database | None = None
        if words:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(  # escaped: the binding passes expressions as C strings (no NULs)
                expressions=[_escaped(w.encode("utf-32-le", "surrogatepass")) for w in words],
                ids=list(range(len(words))),
                elements=len(words),
                flags=0,
            )
        self._local = threading.local()

    def iter(self, text: str) -> list[tuple[int, int]]:
        """(word index, end) of every occurrence in `text`, in no particular order."""
        if self._db is None:
            return []
        hits: list[tuple[int, int]] = []

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: object) -> None:
            if not end & 3:
                hits.append((pattern_id, end >> 2))

        data = text.encode("utf-32-le", "surrogatepass")
        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        return hits

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch
