"""The shared state of one PHP data-flow analysis: rules, the file(s), found flows, budget.

`Analysis` lives for one `find_flows` call; `FileCtx` is one file in it (the analysed file,
or a file reached through constructor injection); `ClassState` holds one class's property
taint, shared by its methods (assigned in one method, read in another).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow.php_symbols import ClassInfo, FileUnit, ProjectIndex, parent_of
from egressguard.audit.dataflow.php_taint import Taint
from egressguard.catalog.dataflow_rules import DataflowRules, LanguageRules
from egressguard.model import IntegrationSite

if TYPE_CHECKING:
    from egressguard.audit.dataflow.flow import Flow
    from egressguard.catalog import Catalog

MAX_DEPTH = 4  # nested calls followed from one entry method
MAX_EVALUATIONS = 60_000  # expression evaluations per analysed file (termination guard)


Sites = tuple[IntegrationSite, ...]


class FileCtx:
    """One file in the analysis. Its AI call sites are given (the analysed file) or looked up
    when a sink first needs them (`FileCtx.other`: the endpoint analysis of a file reached
    through DI or a caller costs a parse, and most such files never reach a sink)."""

    __slots__ = ("_sites", "cross_file", "unit")

    def __init__(
        self, unit: FileUnit, sites: Sites | Callable[[], Sites], cross_file: bool = False
    ) -> None:
        self.unit = unit
        self._sites = sites
        self.cross_file = cross_file  # reached through DI: no further file is followed

    @classmethod
    def other(
        cls, unit: FileUnit, index: ProjectIndex | None, catalog: Catalog, cross_file: bool
    ) -> FileCtx:
        """Another file of the project, its sites found on first use (none without an index)."""
        if index is None:
            return cls(unit, (), cross_file)
        return cls(unit, lambda: index.sites(unit, catalog), cross_file)

    @property
    def sites(self) -> Sites:
        if callable(self._sites):
            self._sites = self._sites()
        return self._sites

    @property
    def rel(self) -> str:
        return self.unit.rel


@dataclass
class ClassState:
    """One object's class (`$this`): its file, its property taint and, once looked up, the
    class it extends (one level: members not found in the class are looked up there)."""

    info: ClassInfo | None
    unit: FileUnit | None = None
    props: dict[str, Taint] = field(default_factory=dict)
    parent: tuple[FileUnit, ClassInfo] | None = None
    parent_known: bool = False

    def lineage(self, index: ProjectIndex | None) -> list[tuple[FileUnit, ClassInfo]]:
        """The class and the class it extends, nearest first."""
        if self.info is None or self.unit is None:
            return []
        if not self.parent_known:
            self.parent_known = True
            self.parent = parent_of(index, self.unit, self.info)
        own = (self.unit, self.info)
        return [own, self.parent] if self.parent is not None else [own]

    def method(
        self, index: ProjectIndex | None, name: str, inherited_only: bool = False
    ) -> tuple[FileUnit, ClassInfo, Node] | None:
        """Where `$this->name()` runs: the class's own method, else the parent's."""
        for unit, info in self.lineage(index)[1 if inherited_only else 0 :]:
            found = info.methods.get(name)
            if found is not None:
                return unit, info, found
        return None

    def prop_type(self, index: ProjectIndex | None, prop: str) -> tuple[FileUnit, str] | None:
        """The declared type of `$this->prop` and the file that declares it."""
        for unit, info in self.lineage(index):
            kind = info.prop_types.get(prop)
            if kind:
                return unit, kind
        return None


@dataclass
class Analysis:
    rules: DataflowRules
    php: LanguageRules
    catalog: Catalog
    index: ProjectIndex | None
    flows: dict[tuple[str, int, str, int, str, str, int], Flow] = field(default_factory=dict)
    evaluations: int = 0
    # (file, function, bound parameters, the object's property taint) -> return taint
    memo: dict[
        tuple[str, int, frozenset[tuple[str, Taint]], frozenset[tuple[str, Taint]]], Taint
    ] = field(default_factory=dict)
    states: dict[tuple[str, str], ClassState] = field(default_factory=dict)

    def spend(self) -> bool:
        """Count one evaluation; False once the budget is used up."""
        self.evaluations += 1
        return self.evaluations <= MAX_EVALUATIONS

    def state(self, ctx: FileCtx, info: ClassInfo | None) -> ClassState:
        key = (ctx.rel, info.fqcn if info is not None else "")
        if key not in self.states:
            self.states[key] = ClassState(info, ctx.unit if info is not None else None)
        return self.states[key]
