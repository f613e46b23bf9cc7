"""Proof that every catalogue regex also compiles in Hyperscan, the engine the prefilter uses.

Python `re` and Hyperscan accept different dialects (Hyperscan has no look-around or
back-references), so a pattern is only valid when both compile it. Compiling ~130 patterns in
Hyperscan takes ~0.3 s, far too slow for every start, so the packaged patterns carry a proof:
hs_verified.toml lists a digest of each pattern the test suite has compiled with this Hyperscan
version. The loader compiles only patterns without a proof (custom providers, edited entries);
on failure it compiles them one by one to name the culprit entry.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence

import hyperscan

from egressguard.errors import CatalogError

# (entry id, what, pattern): e.g. ("openai", "hosts[0]", b"^(?:api\\.openai\\.com)$")
Checked = tuple[str, str, bytes]

VERIFIED_FILE = "hs_verified.toml"


def digest(pattern: bytes) -> str:
    """A short digest of a pattern together with the Hyperscan version that compiled it."""
    version: str = getattr(hyperscan, "__version__", "unknown")
    data = version.encode() + b"\0" + pattern
    return hashlib.sha256(data).hexdigest()[:16]


def check_hyperscan(patterns: Sequence[Checked], verified: Iterable[str] = ()) -> None:
    """Raise CatalogError naming the first entry whose pattern Hyperscan rejects."""
    proven = frozenset(verified)
    _check_all(tuple(p for p in patterns if digest(p[2]) not in proven))


def compiles(pattern: bytes) -> bool:
    """True when Hyperscan compiles the pattern on its own (used to write hs_verified.toml)."""
    try:
        _compile([pattern])
    except hyperscan.error:
        return False
    return True


@functools.lru_cache(maxsize=16)
def _check_all(patterns: tuple[Checked, ...]) -> None:
    if not patterns:
        return
    try:
        _compile([p for _, _, p in patterns])
    except hyperscan.error:
        _name_culprit(patterns)
        raise CatalogError("catalogue: Hyperscan rejected the pattern set") from None


def _name_culprit(patterns: tuple[Checked, ...]) -> None:
    for eid, what, pattern in patterns:
        try:
            _compile([pattern])
        except hyperscan.error as exc:
            shown = pattern.decode("utf-8", "replace")
            raise CatalogError(
                f"{eid}: {what} does not compile in Hyperscan ({exc}): {shown!r}"
            ) from exc


def _compile(expressions: list[bytes]) -> None:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=expressions, ids=list(range(len(expressions))), flags=[0] * len(expressions)
    )
