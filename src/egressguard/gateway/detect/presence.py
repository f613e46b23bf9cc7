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

import threading
from collections.abc import Sequence

import hyperscan


def literal(text: str) -> bytes:
    """A Hyperscan expression matching `text` literally (every byte escaped)."""
    return b"".join(b"\\x%02x" % byte for byte in text.encode("utf-8"))


# Stands for "any non-ASCII character" in byte-level gates: each byte of its UTF-8 encoding
# matches, so a gate written with it accepts whatever `re`'s Unicode \d, \w or [À-Ž] accepts.
NON_ASCII = rb"\x80-\xff"


class Everything:
    """The `present` argument of a finder that runs without gates: every gate passes."""

    def __contains__(self, name: object) -> bool:
        return True


class Presence:
    """The indices of the expressions that occur in a text."""

    def __init__(self, expressions: Sequence[bytes]) -> None:
        self.size = len(expressions)
        self._db: hyperscan.Database | None = None
        if expressions:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=list(expressions),
                ids=list(range(len(expressions))),
                elements=len(expressions),
                flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(expressions),
            )
        self._local = threading.local()

    def found(self, text: str) -> set[int]:
        """The indices of the expressions that occur in `text`."""
        if self._db is None:
            return set()
        hits: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: object) -> None:
            hits.add(pattern_id)

        data = text.encode("utf-8", "surrogatepass")
        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        return hits

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch
