"""Shop data handed to a file's exported functions by the files that import it (one level).

Mirrors the PHP side's constructor injection: when a file with AI calls is analysed, each
file of its package that imports it (js_modules) is parsed and evaluated on its own, and
every call it makes to an imported function of this file becomes an `Incoming` binding:
the arguments' values, with the caller's trace (source -> ... -> the call) already on them.
The exported function's parameters then carry those values through this file to its AI
calls, so a parameter that reaches an SDK call acts as a summary "param i -> sink", and the
trace reads caller source -> call -> callee parameter -> SDK call.

`open_exports` is None when some importer could not be understood (too big, or it imports
the file without calling it, e.g. a dynamic import): then no export is treated as closed.
A "barrel" that re-exports the file's functions (`export { ask } from './ai.server'`,
`export * from …`) is followed one step: its importers' calls count as calls into the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from egressguard.audit.dataflow import js_callers
from egressguard.audit.dataflow.js_eval import Context, Evaluator, Incoming, args_of, line, snippet
from egressguard.audit.dataflow.js_modules import (
    Imported,
    ModuleGraph,
    imported_names,
    reexported,
)
from egressguard.audit.dataflow.js_scope import Index, text
from egressguard.audit.dataflow.parse import parse
from egressguard.catalog.dataflow_rules import load_dataflow_rules
from egressguard.model import Language, TraceStep

MAX_IMPORTERS = 40  # importers analysed per file
MAX_IMPORTER_BYTES = 200_000
_TS = (".ts", ".tsx", ".mts", ".cts")


@dataclass(frozen=True, slots=True)
class Callers:
    incoming: list[Incoming]
    unknown: dict[int, set[int]]  # function id -> parameter positions a caller leaves unknown
    open_exports: set[str] | None


def prepare(ev: Evaluator, exported: dict[str, list[Node]], callers: Callers | None) -> None:
    """Set the evaluator's closed functions, known names and incoming bindings."""
    open_exports = callers.open_exports if callers is not None else None
    closed_exports: set[str] = set()
    if open_exports is not None:
        closed_exports = {name for name in exported if name not in open_exports}
    ev.closed = js_callers.closed_functions(ev, exported, closed_exports)
    if callers is not None:
        ev.incoming = callers.incoming
    unknown = callers.unknown if callers is not None else {}
    ev.known = js_callers.known_keys(ev, ev.closed, unknown)


def find_callers(graph: ModuleGraph, rel: str, exported: dict[str, list[Node]]) -> Callers | None:
    """The calls other files of the package make into `exported` (None: nobody imports it)."""
    if not exported:  # nothing exported (a browser script, a RequireJS module): no graph
        return None
    importers = graph.importers(rel)
    if not importers:
        return None
    incoming: list[Incoming] = []
    unknown: dict[int, set[int]] = {}
    open_exports: set[str] | None = set()
    found = _Found(rel, incoming, unknown, open_exports)
    for imp in importers[:MAX_IMPORTERS]:
        if not _one_importer(graph, imp, rel, exported, found, barrels=True):
            found.open_exports = None
    if len(importers) > MAX_IMPORTERS:
        found.open_exports = None
    return Callers(incoming, unknown, found.open_exports)


@dataclass
class _Found:
    target: str  # the file whose exported functions are called
    incoming: list[Incoming]
    unknown: dict[int, set[int]]
    open_exports: set[str] | None


def _through_barrel(
    graph: ModuleGraph,
    barrel: str,
    names: dict[str, str],
    exported: dict[str, list[Node]],
    found: _Found,
) -> bool:
    """Importers of a file that re-exports the target's functions (one barrel, no more)."""
    if "*" in names:
        renamed = {k: v for k, v in exported.items() if not k.startswith("default")}
    else:
        renamed = {new: exported[old] for new, old in names.items() if old in exported}
    importers = graph.importers(barrel)
    ok = len(importers) <= MAX_IMPORTERS
    for imp in importers[:MAX_IMPORTERS]:
        if imp != found.target and not _one_importer(graph, imp, barrel, renamed, found):
            ok = False
    return ok


def _one_importer(
    graph: ModuleGraph,
    imp: str,
    rel: str,
    exported: dict[str, list[Node]],
    found: _Found,
    barrels: bool = False,
) -> bool:
    """Analyse one importer of `rel` (the target, or a barrel re-exporting it); False when
    its use of `rel` is not understood."""
    data = graph.project.read(imp)
    if data is None or len(data) > MAX_IMPORTER_BYTES:
        return False
    language = Language.TYPESCRIPT if imp.endswith(_TS) else Language.JAVASCRIPT
    index = Index(parse(language, data))
    resolve = graph.resolver(imp)
    mine = {local: im for local, im in imported_names(index, resolve).items() if im.module == rel}
    names = reexported(index, resolve, rel) if barrels else {}
    if names and not _through_barrel(graph, imp, names, exported, found):
        return False
    if not mine:
        return bool(names)  # else a dynamic import: callers beyond view
    ev = Evaluator(
        Context(
            rel=imp,
            index=index,
            rules=load_dataflow_rules(),
            file_text=data.decode("utf-8", "replace"),
        )
    )
    prepare(ev, {}, None)
    ev.run()
    words, calls = js_callers.word_counts(index), js_callers.callee_counts(index)
    for local, im in mine.items():
        if js_callers.only_called(index, local, words, calls):
            continue
        if im.name in ("*", "default"):
            return False  # the module object itself escapes
        if found.open_exports is not None:
            found.open_exports.update(_names(im, None))
    for call in index.calls:
        _call(ev, call, mine, exported, found)
    return True


def _call(
    ev: Evaluator,
    call: Node,
    mine: dict[str, Imported],
    exported: dict[str, list[Node]],
    found: _Found,
) -> None:
    callee = call.child_by_field_name("function")
    if call.type != "call_expression" or callee is None:
        return
    fns = _target(ev, callee, mine, exported)
    if not fns:
        return
    args = args_of(call)
    step = TraceStep(ev.ctx.rel, line(call), f"passed to {snippet(callee)}() in {found.target}")
    values = [ev.value(a).hop(step) for a in args]
    label = f"passed to {snippet(callee)}() from {ev.ctx.rel}"
    found.incoming.append(Incoming(tuple(fns), values, label))
    flags = js_callers.external_unknown(ev, args, ev.known)
    for fn in fns:
        found.unknown.setdefault(fn.id, set()).update(i for i, bad in enumerate(flags) if bad)


def _target(
    ev: Evaluator, callee: Node, mine: dict[str, Imported], exported: dict[str, list[Node]]
) -> list[Node]:
    if callee.type == "identifier":
        im = mine.get(text(callee))
        if im is None or not ev.index.var_key(callee).startswith("0:"):
            return []
        member = None
    elif callee.type == "member_expression":
        obj, prop = callee.child_by_field_name("object"), callee.child_by_field_name("property")
        if obj is None or prop is None or obj.type != "identifier":
            return []
        im = mine.get(text(obj))
        if im is None or not ev.index.var_key(obj).startswith("0:"):
            return []
        member = text(prop)
    else:
        return []
    for name in _names(im, member):
        if name in exported:
            return exported[name]
    return []


def _names(im: Imported, member: str | None) -> list[str]:
    """Export names a use of an imported binding may reach (`member`: `x.member(…)`)."""
    if member is None:
        if im.name == "*":
            return ["default"]
        if im.name == "default":
            return ["default"]
        return [im.name, f"default.{im.name}"]
    if im.name == "*":
        return [member, f"default.{member}"]
    return [f"{im.name}.{member}"]
