"""Magento/PHP data flow: which shop data reaches each AI call of a PHP file.

    find_flows(f, catalog) -> list[Flow]

Parses the file with tree-sitter (a file with syntax errors is analysed as far as it parsed
and noted in `f.partial`, which the engine lists in skipped[] as `parse-error`), then runs
every method of every class (twice, so a property assigned in one method is seen by the
others), every top-level function and the top-level script as entry points. Modules:

    php_ast       node helpers             php_symbols  classes, PSR-4/registration index
    php_taint     labels and traces        php_context  per-analysis state and budget
    php_eval      statements/expressions   php_calls    sources, sanitisers, followed calls
    php_sinks     sinks and their AI site      php_callers  who injects a class
Vocabulary: catalog/dataflow/php.toml, fields.toml, sanitizers.toml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.php_callers import callers, relevant
from egressguard.audit.dataflow.php_context import Analysis, FileCtx
from egressguard.audit.dataflow.php_eval import Frame, run_function
from egressguard.audit.dataflow.php_symbols import FileUnit, ProjectIndex, file_unit, project_index
from egressguard.catalog.dataflow_rules import load_dataflow_rules

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

_ROUNDS = 2  # property taint assigned in a later method reaches earlier ones


def find_flows(f: SourceFile, catalog: Catalog) -> list[Flow]:
    """Every flow from a shop-data source to an AI call in one PHP file (never raises)."""
    index = project_index(f.project) if f.project is not None else None
    unit = index.unit_of(f.rel, f.data) if index is not None else file_unit(f.rel, f.data)
    _note_parse_error(f, unit)
    rules = load_dataflow_rules()
    an = Analysis(rules, rules.language("php"), catalog, index)
    ctx = FileCtx(unit, f.sites)
    for _ in range(_ROUNDS):
        an.memo.clear()
        _entries(an, ctx, unit)
    if index is not None and f.sites:
        _from_callers(an, index, unit)
    here = [fl for fl in an.flows.values() if fl.steps and _site_file(fl) == f.rel]
    return sorted(here, key=_order)


def _from_callers(an: Analysis, index: ProjectIndex, unit: FileUnit) -> None:
    """Shop data handed to this file's classes by the classes that inject them (one level):
    their methods run as entries, and calls into this file are followed from there. Callers
    that cannot reach this file's code or objects are not run (php_callers.relevant)."""
    found = [caller for info in unit.classes for caller in callers(index, unit, info)]
    for caller in relevant(index, unit, found):
        ctx = FileCtx.other(caller.unit, index, an.catalog, cross_file=False)
        an.memo.clear()
        _entries(an, ctx, caller.unit, caller.only)


def _note_parse_error(f: SourceFile, unit: FileUnit) -> None:
    if unit.error_line is not None:
        f.partial.append(f"line {unit.error_line}: partial analysis")


def _entries(
    an: Analysis, ctx: FileCtx, unit: FileUnit, only: frozenset[str] | None = None
) -> None:
    for info in unit.classes:
        state = an.state(ctx, info)
        for name, method in info.methods.items():
            if only is None or name in only:
                run_function(an, Frame(ctx, state, method, 0, ()), {})
    if only is not None:
        return
    top = an.state(ctx, None)
    for function in unit.functions.values():
        run_function(an, Frame(ctx, top, function, 0, ()), {})
    run_function(an, Frame(ctx, top, unit.root, 0, ()), {}, body=unit.root)


def _site_file(flow: Flow) -> str:
    """The file of the flow's AI call site (the sink's file unless the site is elsewhere)."""
    return flow.site_file or flow.steps[-1].file


def _order(flow: Flow) -> tuple[int, int, str]:
    return (flow.steps[-1].line, flow.source_line, flow.steps[0].note)
