"""What a PHP call returns, taint-wise: source, sanitiser, same-class/DI method, or pass-through.

Order of decisions for one call (its arguments are always evaluated first, so sinks and
assignments inside them are seen):
    1. a source rule (php.toml) matches                  -> new label (+ the receiver's taint)
    2. a sanitiser (sanitizers.toml) matches             -> nothing
    3. `$this->m()`, `self::m()`, a function of the file -> m analysed with bound parameters
    4. `$this->dep->m()`, dep injected in the constructor -> dep's file (one level) likewise
    5. anything else                                      -> the union of receiver and
       arguments (a getter name that fields.toml classifies is a source of its own)
Sinks (php_sinks.py) are checked on every call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow import php_sinks
from egressguard.audit.dataflow.php_context import MAX_DEPTH, ClassState, FileCtx
from egressguard.audit.dataflow.php_symbols import FileUnit
from egressguard.audit.dataflow.php_taint import EMPTY, Taint, hop, union
from egressguard.model import DataCategory, TraceStep

if TYPE_CHECKING:
    from egressguard.audit.dataflow.php_eval import Walker

_GETTER = re.compile(r"^get[A-Z_]")
_SELF = frozenset({"$this", "self", "static", "parent"})
_NAMED_HOPS = frozenset(
    {
        "sprintf", "vsprintf", "implode", "join", "json_encode", "http_build_query",
        "array_merge", "array_merge_recursive", "serialize", "var_export", "print_r",
        "array_replace", "str_replace", "strtr", "array_map", "array_column",
    }
)  # fmt: skip


_PARTS = frozenset({DataCategory.CUSTOMER_PII, DataCategory.PAYMENT})


def _names_a_part(name: str | None, found: Taint) -> bool:
    """A getter that reads a person's or a payment's data out of a larger object
    (`$order->getShippingAddress()`, `$invoice->getOrder()->getPayment()`) yields that part,
    not the order it was reached through."""
    return bool(name and _GETTER.match(name)) and all(label.categories <= _PARTS for label in found)


def evaluate(w: Walker, node: Node) -> Taint:
    name = A.call_name(node)
    is_function = node.type == "function_call_expression"
    obj = A.call_object(node)
    args = A.arguments(node)
    arg_taints = [w.eval(a) for a in args]
    receiver = EMPTY
    if obj is not None and node.type != "scoped_call_expression":
        receiver = w.eval(obj)
    hint = "" if is_function else w.hint(obj)
    args_text = _with_origins(w, node, args)
    php_sinks.check(w, node, name, hint, args, arg_taints, not is_function)
    if is_function and name == "compact":
        return _compact(w, node, args)
    declared = "" if is_function else w.receiver_type(obj)
    found = w.source_rule(node, name, hint, args_text, declared)
    if found is not None:
        return found if _names_a_part(name, found) else union(found, receiver)
    if w.an.rules.sanitizer(name, not is_function, "php") is not None:
        return EMPTY
    followed = _follow(w, node, name, obj, args, arg_taints)
    if followed is not None:
        return followed
    joined = union(receiver, *arg_taints)
    if not joined and not is_function and _GETTER.match(name) and not args:
        return w.field(node, name[3:], short_call(node))
    if joined and is_function and name in _NAMED_HOPS:
        return hop(joined, w.f.step(node, f"through {name}()"))
    return joined


def _with_origins(w: Walker, node: Node, args: list[Node]) -> str:
    """The argument text, plus where its variables came from (`file_get_contents($path)`
    with `$path = BP . '/var/log/system.log'` reads a log file)."""
    text = A.arguments_text(node)
    known = [w.f.hints.get(A.text(a), "") for a in args if a.type == "variable_name"]
    return " ".join([text, *known]) if any(known) else text


def short_call(node: Node) -> str:
    from egressguard.audit.dataflow.php_eval import short

    return short(node)


def _compact(w: Walker, node: Node, args: list[Node]) -> Taint:
    names = [A.string_value(a) for a in args]
    found = [w.f.env.get(f"${n}", EMPTY) for n in names if n]
    return hop(union(*found), w.f.step(node, "through compact()"))


def _follow(
    w: Walker, node: Node, name: str, obj: Node | None, args: list[Node], taints: list[Taint]
) -> Taint | None:
    """Taint returned by a call the engine can follow (same class or the class it extends,
    same file, DI), or None."""
    ctx = w.f.ctx
    if obj is None:
        target = ctx.unit.functions.get(name)
        return _inline(w, node, ctx, w.f.state, target, taints, f"{name}") if target else None
    if A.text(obj) in _SELF and w.f.klass is not None:
        found = w.f.state.method(w.an.index, name, inherited_only=A.text(obj) == "parent")
        if found is None:
            return None
        unit, info, target = found
        label = f"{info.name}::{name}"
        if unit.rel == ctx.rel:
            return _inline(w, node, ctx, w.f.state, target, taints, label)
        # An inherited method in the parent's file, run for this object (one level).
        other = _file(w, unit, ctx.cross_file)
        return _inline(w, node, other, w.f.state, target, taints, label, unit.rel)
    prop = A.this_property(obj)
    if prop is None or w.f.klass is None or ctx.cross_file or w.an.index is None:
        return None
    declared = w.f.state.prop_type(w.an.index, prop)
    resolved = w.an.index.resolve(declared[0].qualify(declared[1])) if declared else None
    if resolved is None:
        return None
    state = w.an.state(_file(w, resolved[0], True), resolved[1])
    found = state.method(w.an.index, name)
    if found is None or found[0].rel == ctx.rel:
        return None
    unit, info, target = found
    label = f"{info.name}::{name}"
    return _inline(w, node, _file(w, unit, True), state, target, taints, label, unit.rel)


def _file(w: Walker, unit: FileUnit, cross_file: bool) -> FileCtx:
    return FileCtx.other(unit, w.an.index, w.an.catalog, cross_file)


def _inline(
    w: Walker,
    call: Node,
    ctx: FileCtx,
    state: ClassState,
    function: Node,
    taints: list[Taint],
    label: str,
    other_rel: str = "",
) -> Taint:
    from egressguard.audit.dataflow.php_eval import Frame, run_function

    key = (ctx.rel, function.start_byte)
    if w.f.depth >= MAX_DEPTH or key in w.f.stack:
        return union(*taints)
    where = f" in {other_rel}" if other_rel else ""
    bound: dict[str, Taint] = {}
    for i, p in enumerate(A.params(function)):
        if i < len(taints) and taints[i]:
            step = w.f.step(call, f"into {label}(){where}, parameter {p.name}")
            bound[p.name] = hop(taints[i], step)
    # The object's properties are part of the key: a method without parameters that sends
    # `$this->conversation` sends whatever an earlier call put there.
    memo_key = (
        ctx.rel,
        function.start_byte,
        frozenset(bound.items()),
        frozenset(state.props.items()),
    )
    result = w.an.memo.get(memo_key)
    if result is None:
        frame = Frame(ctx, state, function, w.f.depth + 1, (*w.f.stack, key))
        result = w.an.memo[memo_key] = run_function(w.an, frame, bound)
    back = TraceStep(w.f.ctx.rel, A.line(call), f"returned by {label}(){where}")
    return hop(result, back)
