"""Data flows in JavaScript and TypeScript: shop data reaching an AI call of a file, from the
file itself or (one level) from the files of its package that import it and call its
exported functions (js_modules, js_incoming).

    find_flows(f, catalog)         one .js/.ts/.tsx/.mjs file
    flows_in_tree(...)             the same over an already parsed tree (liquid.py feeds it
                                   the inline scripts of a template, with Liquid outputs
                                   stood in for by placeholder identifiers)

Sources, sinks and field names come from catalog/dataflow/javascript.toml and the shared
fields.toml/sanitizers.toml; js_scope indexes the tree, js_eval computes what each expression
carries, js_sinks ties requests and SDK calls to the file's AI call sites.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Tree

from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.js_eval import Context, Evaluator
from egressguard.audit.dataflow.js_incoming import find_callers, prepare
from egressguard.audit.dataflow.js_modules import ModuleGraph, exported_functions, module_graph
from egressguard.audit.dataflow.js_scope import Index
from egressguard.audit.dataflow.js_sinks import find_sink_flows
from egressguard.audit.dataflow.js_value import Value
from egressguard.audit.dataflow.parse import parse, syntax_error
from egressguard.catalog.dataflow_rules import load_dataflow_rules
from egressguard.model import IntegrationSite, Language

TRUNCATED = "expressions nested too deeply to follow; data flow analysed in part"
# The evaluator costs roughly 2-5 µs of CPU per byte (linear; bench/js_flow_speed.py);
# bigger files (minified bundles) are listed as skipped for data flow rather than slowing
# the audit down.
MAX_BYTES = 400_000
TOO_LARGE = f"larger than {MAX_BYTES // 1000} kB: data flow not analysed"

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog


def find_flows(f: SourceFile, catalog: Catalog) -> list[Flow]:
    """Every flow of shop data into one of the file's AI call sites."""
    if not f.sites:
        return []
    if len(f.data) > MAX_BYTES:
        f.partial.append(TOO_LARGE)
        return []
    language = Language.TYPESCRIPT if f.language is Language.TYPESCRIPT else Language.JAVASCRIPT
    tree = parse(language, f.text.encode("utf-8", "surrogatepass"))
    note_syntax_error(f, tree, "JavaScript")
    graph = module_graph(f.project) if f.project is not None else None
    flows, truncated = flows_in_tree(tree, f.rel, f.sites, f.text, graph=graph)
    if truncated:
        f.partial.append(TRUNCATED)
    return flows


def note_syntax_error(f: SourceFile, tree: Tree, what: str) -> None:
    """Record a syntax error as a partial analysis (the engine lists it as parse-error)."""
    bad = syntax_error(tree)
    if bad is not None:
        where = bad.start_point.row + 1
        f.partial.append(f"line {where}: {what} syntax error; data flow analysed in part")


def flows_in_tree(
    tree: Tree,
    rel: str,
    sites: tuple[IntegrationSite, ...],
    file_text: str,
    placeholders: dict[str, Value] | None = None,
    placeholder_pattern: re.Pattern[str] | None = None,
    data_attrs: dict[str, Value] | None = None,
    graph: ModuleGraph | None = None,
) -> tuple[list[Flow], bool]:
    """The flows of a parsed program, and whether some expression was too deep to follow
    (with `graph`: also the data its package's other files pass to its exported functions)."""
    ctx = Context(
        rel=rel,
        index=Index(tree),
        rules=load_dataflow_rules(),
        placeholders=placeholders or {},
        placeholder_pattern=placeholder_pattern,
        data_attrs=data_attrs or {},
        file_text=file_text,
    )
    ev = Evaluator(ctx)
    exported = exported_functions(ctx.index, ev.functions_named)
    callers = find_callers(graph, rel, exported) if graph is not None else None
    prepare(ev, exported, callers)
    ev.run()
    flows = find_sink_flows(ev, sites)
    return flows, ev.truncated
