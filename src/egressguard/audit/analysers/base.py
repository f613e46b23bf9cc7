"""The analyser interface: one small class per rule family.

An analyser sees one SourceFile at a time (plus the read-only Catalog) and yields Hit values
(findings before the engine adds rule metadata, fingerprints and suppressions) and
IntegrationSite values (the AI inventory). It never raises for bad content, with one
exception: input that is expected to be structured but is not (malformed XML or JSON) raises
MalformedInput(reason), which the engine lists in skipped[] with that reason. The engine also
turns an unexpected exception into a SkippedTarget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from egressguard.errors import EgressGuardError
from egressguard.model import Exposure, Hit, IntegrationSite, Language

if TYPE_CHECKING:
    from egressguard.audit.analysers.lexical import Blocks, CodeView
    from egressguard.audit.project import Project
    from egressguard.catalog import Catalog


class MalformedInput(EgressGuardError):
    """A file that should be XML/JSON/… but cannot be parsed; the engine skips it with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SourceFile:
    """One candidate file handed to the analysers.

    `rel` is the POSIX path relative to the scan root; `tags` are the prefilter tags that hit
    (e.g. "host", "key", "sdk", "kw-ai", "log", "bulk", "script"), see prefilter.py.
    """

    rel: str
    data: bytes
    language: Language
    exposure: Exposure
    tags: frozenset[str]
    # AI call sites found in this file by the first-phase analysers (the endpoint analyser);
    # set by the engine before the second phase (`after_sites = True` analysers) runs.
    sites: tuple[IntegrationSite, ...] = ()
    # The whole scanned tree, for analyses that follow code into another file (set by the
    # engine; None in unit tests that analyse one file alone).
    project: Project | None = None
    # Analyses that only partly understood the file append a detail here ("line 12: partial
    # analysis"); the engine lists each as a skipped[] entry with reason `parse-error`.
    partial: list[str] = field(default_factory=list)
    _text: str | None = None
    latin1: bool = False  # set when `text` had to fall back to Latin-1 (not valid UTF-8)

    @property
    def text(self) -> str:
        """The decoded text (UTF-8, or Latin-1 when the bytes are not UTF-8)."""
        if self._text is None:
            try:
                self._text = self.data.decode("utf-8")
            except UnicodeDecodeError:
                self._text = self.data.decode("latin-1")
                self.latin1 = True
        return self._text

    @cached_property
    def view(self) -> CodeView:
        """Comment- and string-blanked views of `text`, computed once for every analyser."""
        from egressguard.audit.analysers.lexical import code_view

        return code_view(self.text, self.language)

    @cached_property
    def blocks(self) -> Blocks:
        """Brace-matched blocks (functions, classes) of `view`, computed once."""
        from egressguard.audit.analysers.lexical import Blocks

        return Blocks(self.view.bare)

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [0]
        text = self.text
        pos = text.find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        return starts

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset in `text`."""
        from bisect import bisect_right

        return bisect_right(self.line_starts, offset)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")


Output = Hit | IntegrationSite


class Analyser(Protocol):
    """A rule family.

    `tags`: the prefilter tags that make a file interesting to it.
    `after_sites`: run in the second phase, when `SourceFile.sites` holds the file's AI calls.
    """

    name: str
    tags: frozenset[str]
    after_sites: bool

    def wants(self, f: SourceFile) -> bool:
        """Cheap check (path, language, tags) before `analyse` runs."""
        ...

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        """Yield hits and integration sites for one file."""
        ...
