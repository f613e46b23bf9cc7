"""The shared state of one PHP data-flow analysis: rules, the file(s), found flows, budget.

`Analysis` lives for one `find_flows` call; `FileCtx` is one file in it (the analysed file,
or a file reached through constructor injection); `ClassState` holds one class's property
taint, shared by its methods (assigned in one method, read in another).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from egressguard.audit.dataflow.php_symbols import ClassInfo, FileUnit, ProjectIndex
from egressguard.audit.dataflow.php_taint import Taint
from egressguard.catalog.dataflow_rules import DataflowRules, LanguageRules
from egressguard.model import IntegrationSite

if TYPE_CHECKING:
    from egressguard.audit.dataflow.flow import Flow
    from egressguard.catalog import Catalog

MAX_DEPTH = 4  # nested calls followed from one entry method
MAX_EVALUATIONS = 60_000  # expression evaluations per analysed file (termination guard)


@dataclass
class FileCtx:
    unit: FileUnit
    sites: tuple[IntegrationSite, ...]
    cross_file: bool = False  # reached through DI: no further file is followed from here

    @property
    def rel(self) -> str:
        return self.unit.rel


@dataclass
class ClassState:
    info: ClassInfo | None
    props: dict[str, Taint] = field(default_factory=dict)


@dataclass
class Analysis:
    rules: DataflowRules
    php: LanguageRules
    catalog: Catalog
    index: ProjectIndex | None
    flows: dict[tuple[str, int, str, int, str], Flow] = field(default_factory=dict)
    evaluations: int = 0
    memo: dict[tuple[str, int, frozenset[tuple[str, Taint]]], Taint] = field(default_factory=dict)
    states: dict[tuple[str, str], ClassState] = field(default_factory=dict)

    def spend(self) -> bool:
        """Count one evaluation; False once the budget is used up."""
        self.evaluations += 1
        return self.evaluations <= MAX_EVALUATIONS

    def state(self, ctx: FileCtx, info: ClassInfo | None) -> ClassState:
        key = (ctx.rel, info.fqcn if info is not None else "")
        if key not in self.states:
            self.states[key] = ClassState(info)
        return self.states[key]
