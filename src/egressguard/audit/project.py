"""The scanned tree as a whole, for analyses that follow code into another file.

The engine builds one Project per scan from the walk (no extra I/O) and hands it to every
SourceFile. `read()` returns another file's bytes (capped; None when it is not part of the
scan), so cross-file analysis only ever reads files the walk accepted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Project:
    base: Path
    rels: frozenset[str]
    max_file_size: int = 5 * 1024 * 1024
    _by_name: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)

    def has(self, rel: str) -> bool:
        return rel in self.rels

    def read(self, rel: str) -> bytes | None:
        """The bytes of a scanned file, or None (not in the scan, unreadable, too large)."""
        if rel not in self.rels:
            return None
        try:
            with open(self.base / rel, "rb") as fh:
                data = fh.read(self.max_file_size + 1)
        except OSError:
            return None
        return data if len(data) <= self.max_file_size else None

    def by_name(self, name: str) -> list[str]:
        """Every scanned file with this base name (e.g. "registration.php"), sorted."""
        if not self._by_name:
            for rel in sorted(self.rels):
                self._by_name.setdefault(os.path.basename(rel), []).append(rel)
        return self._by_name.get(name, [])
