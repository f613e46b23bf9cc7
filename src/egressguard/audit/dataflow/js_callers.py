"""Which JavaScript functions have only known callers, and which names are therefore known.

A parameter nobody visibly passes data to is, by default, "maybe anything": reading
`customer.email` from it yields customer_pii by the field's name (a guess, medium
confidence). That is right for a function called from code we do not see (an exported
function, a callback, a handler the framework calls), and wrong when every caller is in view:
then the parameter holds exactly what the callers pass, and the object literals they pass
say which keys exist (js_value shapes).

    closed        functions every reference to which is a call we see: a named function
                  of the file that is neither exported nor used as a value, or an exported
                  one whose importers (one level, js_modules) only call it
    known         keys of the parameters of closed functions, and of names destructured
                  from them, unless some caller passes a name that is itself unknown (a
                  parameter of an open function): those keep the guess

References are counted textually (one regex pass over the file): a name that also occurs
in a comment or a string, or is shadowed elsewhere, simply keeps its function open.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow.js_scope import FUNCTIONS, Index, param_target, parameters, text

if TYPE_CHECKING:
    from egressguard.audit.dataflow.js_eval import Evaluator

_WORD = re.compile(rb"[A-Za-z_$][\w$]*")
_UNWRAP = frozenset(
    {"parenthesized_expression", "await_expression", "non_null_expression", "as_expression"}
)
_ROUNDS = 3


def word_counts(index: Index) -> Counter[bytes]:
    """How often each identifier-like word occurs in the file (comments and strings too)."""
    return Counter(_WORD.findall(index.root.text or b""))


def callee_counts(index: Index) -> Counter[str]:
    """How often each bare name or `a.b` path is called."""
    out: Counter[str] = Counter()
    for call in index.calls:
        callee = call.child_by_field_name("function")
        if callee is None:
            continue
        if callee.type == "identifier":
            out[text(callee)] += 1
        elif callee.type == "member_expression":
            obj, prop = callee.child_by_field_name("object"), callee.child_by_field_name("property")
            if obj is not None and prop is not None and obj.type == "identifier":
                out[f"{text(obj)}.{text(prop)}"] += 1
    return out


def closed_functions(
    ev: Evaluator, exported: dict[str, list[Node]], closed_exports: set[str]
) -> set[int]:
    """Ids of the functions every use of which is a call in view."""
    words = word_counts(ev.index)
    calls = callee_counts(ev.index)
    export_mentions = _export_mentions(exported)
    by_export = {fn.id: name for name, fns in exported.items() for fn in fns}
    out: set[int] = set()
    for key, fns in ev.function_names().items():
        name = key.partition(":")[2]
        if not name or "." in name or len(fns) != 1:
            continue
        fn = fns[0]
        export = by_export.get(fn.id)
        if export is not None and export.split(".")[-1] not in closed_exports:
            continue
        allowed = 1 + calls[name] + export_mentions[name]
        if calls[name] and words[name.encode()] == allowed:
            out.add(fn.id)
        elif export is not None and words[name.encode()] == allowed:
            out.add(fn.id)  # only called from other files
    return out


def _export_mentions(exported: dict[str, list[Node]]) -> Counter[str]:
    """Names written again in an export list (`export { a }`, `export default { a }`)."""
    out: Counter[str] = Counter()
    for name, fns in exported.items():
        for fn in fns:
            own = fn.child_by_field_name("name")
            if own is None and fn.parent is not None:
                own = fn.parent.child_by_field_name("name")
            if own is not None and text(own) != name:
                out[text(own)] += name.count(".") or 1
    return out


def only_called(index: Index, local: str, words: Counter[bytes], calls: Counter[str]) -> bool:
    """Whether an imported name is only ever called (`f(…)`, or `ns.f(…)` on a namespace)."""
    made = calls[local] + sum(n for path, n in calls.items() if path.startswith(local + "."))
    return made > 0 and words[local.encode()] == 1 + made


def known_keys(ev: Evaluator, closed: set[int], unknown: dict[int, set[int]]) -> set[str]:
    """Keys whose value is exactly what the analysis binds (see the module docstring)."""
    fns = [fn for fn in ev.index.functions if fn.id in closed]
    if not fns:
        return set()
    params = {fn.id: [param_target(p) for p in parameters(fn)] for fn in fns}
    callers_of: dict[int, list[Node]] = {}
    for call in ev.index.calls:
        for f in ev.functions_called_by(call):
            if f.id in closed:
                callers_of.setdefault(f.id, []).append(call)
    known: set[str] = set()
    for _ in range(_ROUNDS):
        now: set[str] = set()
        for fn in fns:
            callers = callers_of.get(fn.id, [])
            bad = unknown.get(fn.id, set())
            for i, target in enumerate(params[fn.id]):
                if i not in bad and not any(_unknown_arg(ev, c, i, known) for c in callers):
                    now.update(_leaf_keys(ev.index, target))
        now |= _destructured_from(ev, now)
        if now == known:
            break
        known = now
    return known


def external_unknown(ev: Evaluator, args: list[Node], known: set[str]) -> list[bool]:
    """For a call into another file: which arguments are names the caller does not know."""
    return [_unknown(ev, a, known) for a in args]


def _unknown_arg(ev: Evaluator, call: Node, i: int, known: set[str]) -> bool:
    from egressguard.audit.dataflow.js_eval import args_of

    args = args_of(call)
    return i < len(args) and _unknown(ev, args[i], known)


def _unknown(ev: Evaluator, arg: Node, known: set[str]) -> bool:
    """An argument rooted at a name whose value is a guess: a parameter (or a name
    destructured from one) that is not known."""
    root = _root(arg)
    if root is None or root.type != "identifier":
        return False
    key = ev.index.var_key(root)
    if key in known or key.startswith("0:"):
        return False
    return key in ev.param_keys or key not in ev.assigned


def _root(node: Node) -> Node | None:
    cur = node
    for _ in range(16):
        if cur.type in _UNWRAP and cur.named_children:
            cur = cur.named_children[0]
        elif cur.type in ("member_expression", "subscript_expression"):
            inner = cur.child_by_field_name("object")
            if inner is None:
                return None
            cur = inner
        else:
            return cur
    return None


def _destructured_from(ev: Evaluator, known: set[str]) -> set[str]:
    """Names destructured (or copied) from known names are known."""
    out: set[str] = set()
    for _ in range(_ROUNDS):
        added = False
        for target, value in ev.index.assigns:
            root = _root(value)
            if root is None or root.type != "identifier":
                continue
            key = ev.index.var_key(root)
            if key not in known and key not in out:
                continue
            for leaf in _leaf_keys(ev.index, target):
                if leaf not in out:
                    out.add(leaf)
                    added = True
        if not added:
            break
    return out


def _leaf_keys(index: Index, pattern: Node) -> Iterator[str]:
    for leaf in _leaves(pattern):
        yield index.var_key(leaf)


def _leaves(pattern: Node) -> Iterable[Node]:
    stack = [pattern]
    while stack:
        cur = stack.pop()
        if cur.type in ("identifier", "shorthand_property_identifier_pattern"):
            yield cur
        elif cur.type in FUNCTIONS:
            continue
        elif cur.type in (
            "object_pattern",
            "array_pattern",
            "pair_pattern",
            "rest_pattern",
            "assignment_pattern",
            "object_assignment_pattern",
            "required_parameter",
            "optional_parameter",
        ):
            if cur.type in ("pair_pattern",):
                value = cur.child_by_field_name("value")
                if value is not None:
                    stack.append(value)
            elif cur.type in ("assignment_pattern", "object_assignment_pattern"):
                left = cur.child_by_field_name("left")
                if left is not None:
                    stack.append(left)
            elif cur.type in ("required_parameter", "optional_parameter"):
                inner = param_target(cur)
                if inner is not cur and inner.id != cur.id:
                    stack.append(inner)
            else:
                stack.extend(cur.named_children)
