"""The scanned tree as a whole, for analyses that follow code into another file.

Memory stays independent of the tree's size: the engine indexes only the few file names
cross-file analysis looks up (INDEXED_NAMES, e.g. every registration.php and composer.json),
and `read()`/`has()` ask the file system, honouring the scan's excludes and size cap, so
cross-file analysis only ever reads files the walk would have accepted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# Base names the engine indexes during the walk (Magento module/theme registration, PSR-4
# maps, module and DI declarations, Shopify app/theme markers).
INDEXED_NAMES = frozenset(
    {"registration.php", "composer.json", "module.xml", "di.xml", "config.xml", "theme.liquid"}
)


@dataclass
class Project:
    base: Path
    exclude: re.Pattern[str] | None = None
    max_file_size: int = 5 * 1024 * 1024
    index: dict[str, list[str]] = field(default_factory=dict)
    # Per-scan results that analysers derive from the tree (e.g. Magento config defaults),
    # keyed by the analyser's own key, so each is computed once.
    cache: dict[str, object] = field(default_factory=dict)

    def add(self, rel: str) -> None:
        """Called by the engine for every walked file; keeps only INDEXED_NAMES."""
        name = rel.rpartition("/")[2]
        if name in INDEXED_NAMES:
            self.index.setdefault(name, []).append(rel)

    def by_name(self, name: str) -> list[str]:
        """Every scanned file with this base name, sorted (only for INDEXED_NAMES)."""
        if name not in INDEXED_NAMES:
            raise ValueError(f"{name} is not indexed; use has()/read() with a path")
        return sorted(self.index.get(name, []))

    def has(self, rel: str) -> bool:
        """Whether `rel` (POSIX, relative to the base) is a file the scan would analyse."""
        return self._path(rel) is not None

    def read(self, rel: str) -> bytes | None:
        """The bytes of a file in the scan, or None (outside, excluded, too large, unreadable)."""
        path = self._path(rel)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                data = fh.read(self.max_file_size + 1)
        except OSError:
            return None
        return data if len(data) <= self.max_file_size else None

    def _path(self, rel: str) -> str | None:
        norm = os.path.normpath(rel).replace(os.sep, "/")
        if norm.startswith(("../", "/")) or norm == "..":
            return None
        if self.exclude is not None and self.exclude.fullmatch(norm):
            return None
        path = os.path.join(self.base, norm)
        return path if os.path.isfile(path) else None
