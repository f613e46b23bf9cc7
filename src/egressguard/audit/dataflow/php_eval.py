"""Intra-procedural taint propagation over the tree-sitter PHP AST, one method at a time.

`run_function` walks a method body in order and evaluates every expression to a Taint:

    $x = e / $x .= e / $a[] = e      the variable takes (adds) e's taint       "into $x"
    "… {$o->getEmail()} …", heredoc  union of the parts                          "interpolated"
    a . b, a ?? b, a ?: b, (cast) a  union
    sprintf/implode/json_encode/…    union of the arguments (any unknown function too)
    ['email' => $v]                  the values; a non-constant untainted value under a key
                                     that fields.toml classifies is a source itself
    $data['telephone']               the array's taint, or the key's field category
    $this->p = e (any method)        class property taint, read by the other methods
    $this->m(args), self::m(args)    m analysed with its parameters bound to the arguments'
                                     taint; the call's value is m's return taint
    $this->dep->m(args)              dep's class resolved through DI + PSR-4 (one file level)
    foreach (e as $k => $v)          $v takes e's taint
    hash(), $this->anonymizer->…     sanitisers: no taint

Sinks are checked at every call (php_sinks.py). Everything is bounded (depth, budget, label
and step caps), so arbitrary input terminates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.php_context import Analysis, ClassState, FileCtx
from egressguard.audit.dataflow.php_symbols import ClassInfo, with_ancestors
from egressguard.audit.dataflow.php_taint import EMPTY, Taint, hop, source, union
from egressguard.model import Confidence, DataCategory, TraceStep

_CONCAT_OPS = frozenset({".", "??", "?:"})
_ARITH_OPS = frozenset({"+", "-", "*", "/", "%", "**"})
_NO_VALUE = frozenset(
    {"unary_op_expression", "instanceof_expression", "isset_expression", "empty_expression"}
)
_STATEMENT_SKIP = frozenset(
    {"comment", "namespace_use_declaration", "const_declaration", *A.CLASSES, *A.FUNCTIONS}
)
_NOTE_MAX = 90


def short(node: Node) -> str:
    t = " ".join(A.text(node).split())
    return t if len(t) <= _NOTE_MAX else t[: _NOTE_MAX - 1] + "…"


@dataclass
class Frame:
    """One function invocation: where it is, what it may follow, and its variables."""

    ctx: FileCtx
    state: ClassState
    function: Node
    depth: int
    stack: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        self.env: dict[str, Taint] = {}
        self.hints: dict[str, str] = {}
        self.types: dict[str, str] = {}  # variable -> declared class, while it holds it
        self.origins: dict[str, Node] = {}
        self.returns: Taint = EMPTY

    @property
    def klass(self) -> ClassInfo | None:
        return self.state.info

    def step(self, node: Node, note: str) -> TraceStep:
        return TraceStep(self.ctx.rel, A.line(node), note)


def run_function(
    an: Analysis, frame: Frame, bound: dict[str, Taint], body: Node | None = None
) -> Taint:
    """Analyse one function body with its parameters bound; its return taint."""
    for p in A.params(frame.function):
        frame.hints[p.name] = p.type
        frame.types[p.name] = frame.ctx.unit.declared_class(p.type)
        frame.env[p.name] = bound.get(p.name, EMPTY)
    target = body if body is not None else A.body(frame.function)
    if target is not None:
        Walker(an, frame).statements(target)
    return frame.returns


class Walker:
    def __init__(self, an: Analysis, frame: Frame) -> None:
        self.an = an
        self.f = frame
        self.nested = 0  # > 0 inside a branch or loop: assignments there add, never replace

    # --- statements -----------------------------------------------------------------------
    def statements(self, node: Node) -> None:
        for child in node.named_children:
            self.statement(child)

    def statement(self, node: Node) -> None:
        kind = node.type
        if kind in _STATEMENT_SKIP:
            return
        if kind == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is not None:
                self.f.returns = union(self.f.returns, self.eval(value))
        elif kind == "foreach_statement":
            self.foreach(node)
        elif kind == "switch_statement":
            self.switch(node)
        elif kind == "expression_statement" or kind.endswith("_expression"):
            for child in node.named_children if kind == "expression_statement" else [node]:
                self.eval(child)
        else:
            self.nested += 1
            for child in node.named_children:
                self.statement(child)
            self.nested -= 1

    def foreach(self, node: Node) -> None:
        children = node.named_children
        if len(children) < 2:
            return
        iterated, binding = children[0], children[1]
        taint = self.eval(iterated)
        value = binding.named_children[-1] if binding.type == "pair" else binding
        name = A.variable(value)
        if name is not None:
            self.bind(name, hop(taint, self.f.step(binding, f"each element into {name}")), iterated)
        self.nested += 1
        for child in children[2:]:
            self.statement(child)
        self.nested -= 1

    def switch(self, node: Node) -> None:
        """Each `case` starts from the variables as they were before the switch (what one
        case assigns is not seen by the next); afterwards a variable holds what any case
        (or no case) left in it."""
        block = next((c for c in node.named_children if c.type == "switch_block"), None)
        for child in node.named_children:
            if child is not block:
                self.eval(child)
        before = dict(self.f.env)
        after = [before]
        self.nested += 1
        for case in block.named_children if block is not None else ():
            self.f.env = dict(before)
            for child in case.named_children:
                self.statement(child)
            after.append(self.f.env)
        self.nested -= 1
        names = {name for env in after for name in env}
        self.f.env = {n: union(*(env.get(n, EMPTY) for env in after)) for n in names}

    def bind(self, name: str, taint: Taint, origin: Node, strong: bool = False) -> None:
        """`name` takes `taint`: replacing its old taint on a straight-line `=` (strong),
        adding to it otherwise (branches, loops, `.=`, `$a[] =`)."""
        old = EMPTY if strong and self.nested == 0 else self.f.env.get(name, EMPTY)
        self.f.env[name] = union(old, taint)
        self.f.hints[name] = f"{short(origin)} {self.hint(origin)}"
        self.f.types.pop(name, None)  # it may no longer hold its parameter's class
        self.f.origins[name] = origin

    # --- expressions ----------------------------------------------------------------------
    def eval(self, node: Node) -> Taint:
        if not self.an.spend():
            return EMPTY
        kind = node.type
        if kind in A.LITERALS:
            return EMPTY
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return handler(self, node)
        if kind in _NO_VALUE:
            for child in node.named_children:
                self.eval(child)
            return EMPTY
        if kind in ("anonymous_function", "arrow_function"):
            return self.closure(node)
        return union(*(self.eval(c) for c in node.named_children))

    def variable(self, node: Node) -> Taint:
        name = A.text(node)
        if name in ("$_POST", "$_GET", "$_REQUEST", "$_COOKIE", "$_SERVER", "$_FILES"):
            return self.source_rule(node, name, "", "") or EMPTY
        return self.f.env.get(name, EMPTY)

    def member_read(self, node: Node) -> Taint:
        prop = A.this_property(node)
        if prop is not None:
            return self.f.state.props.get(prop, EMPTY)
        obj = node.child_by_field_name("object")
        base = self.eval(obj) if obj is not None else EMPTY
        name = A.text(node.child_by_field_name("name"))
        return base or self.field(node, name, f"property ->{name}")

    def subscript(self, node: Node) -> Taint:
        children = node.named_children
        if not children:
            return EMPTY
        base_node = children[0]
        key_node = children[1] if len(children) > 1 else None
        key = A.string_value(key_node) if key_node is not None else None
        if base_node.type == "variable_name" and A.text(base_node).startswith("$_"):
            found = self.source_rule(node, A.text(base_node), "", A.text(key_node))
            if found is not None:
                return found
        base = self.eval(base_node)
        if key_node is not None:
            self.eval(key_node)
        if base:
            return hop(base, self.f.step(node, f"element [{A.text(key_node)}]")) if key else base
        if key and not A.is_constant(base_node):
            return self.field(node, key, f"array element ['{key}']")
        return EMPTY

    def interpolation(self, node: Node) -> Taint:
        parts = union(*(self.eval(c) for c in node.named_children))
        return hop(parts, self.f.step(node, "interpolated into a string"))

    def binary(self, node: Node) -> Taint:
        op = A.text(node.child_by_field_name("operator"))
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        taints = [self.eval(n) for n in (left, right) if n is not None]
        if op in _CONCAT_OPS:
            joined = union(*taints)
            return hop(joined, self.f.step(node, "concatenated")) if op == "." else joined
        return union(*taints) if op in _ARITH_OPS else EMPTY

    def conditional(self, node: Node) -> Taint:
        cond = node.child_by_field_name("condition")
        if cond is not None:
            self.eval(cond)
        branches = [node.child_by_field_name(k) for k in ("body", "alternative")]
        found = [self.eval(b) for b in branches if b is not None]
        return union(*found) if found else self.eval(node.named_children[0])

    def cast(self, node: Node) -> Taint:
        value = node.child_by_field_name("value")
        if value is None:
            value = next((c for c in node.named_children if c.type != "cast_type"), None)
        cast_type = A.text(node.child_by_field_name("type"))
        taint = self.eval(value) if value is not None else EMPTY
        return EMPTY if cast_type in ("bool", "boolean") else taint

    def array(self, node: Node) -> Taint:
        out: list[Taint] = []
        for element in node.named_children:
            if element.type != "array_element_initializer":
                continue
            parts = element.named_children
            key_node, value = (parts[0], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
            out.append(self.element(element, key_node, value))
        return union(*out)

    def element(self, element: Node, key_node: Node | None, value: Node) -> Taint:
        taint = self.eval(value)
        key = A.string_value(key_node) if key_node is not None else None
        if key_node is not None and key is None:
            self.eval(key_node)
        if not key:
            return taint
        if taint:
            return hop(taint, self.f.step(element, f"array key '{key}'"))
        if A.is_constant(value) or value.type == "array_creation_expression":
            return EMPTY
        return self.field(element, key, f"array key '{key}' <= {short(value)}")

    def assignment(self, node: Node) -> Taint:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        taint = self.eval(right) if right is not None else EMPTY
        if left is not None and right is not None:
            self.assign(left, taint, right, strong=node.type == "assignment_expression")
        return taint

    def assign(self, left: Node, taint: Taint, origin: Node, strong: bool = False) -> None:
        name = A.variable(left)
        if name is not None:
            self.bind(name, hop(taint, self.f.step(left, f"into {name}")), origin, strong)
            written = _docblock_var(left, name)  # `/** @var Type $name */` just above
            if written:
                self.f.types[name] = self.f.ctx.unit.declared_class(written)
            return
        prop = A.this_property(left)
        if prop is not None:
            props = self.f.state.props
            props[prop] = union(
                props.get(prop, EMPTY), hop(taint, self.f.step(left, f"into $this->{prop}"))
            )
            return
        if left.type == "subscript_expression" and left.named_children:
            key = left.named_children[1] if len(left.named_children) > 1 else None
            key_text = A.string_value(key) if key is not None else None
            if taint and key_text:
                taint = hop(taint, self.f.step(left, f"array key '{key_text}'"))
            self.assign(left.named_children[0], taint, origin)
        elif left.type in ("list_literal", "array_creation_expression"):
            for var in A.walk(left, frozenset({"variable_name"})):
                self.bind(A.text(var), taint, origin)

    def augmented(self, node: Node) -> Taint:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        taint = union(
            self.eval(right) if right is not None else EMPTY,
            self.eval(left) if left is not None else EMPTY,
        )
        if left is not None and right is not None:
            self.assign(left, taint, right)
        return taint

    def creation(self, node: Node) -> Taint:
        return union(*(self.eval(a) for a in A.arguments(node)))

    def closure(self, node: Node) -> Taint:
        body = node.child_by_field_name("body")
        if body is None:
            return EMPTY
        for p in A.params(node):
            self.f.types.pop(p.name, None)  # shares the frame: not the method's parameter
        if node.type == "arrow_function":
            return self.eval(body)
        self.statements(body)
        return EMPTY

    # --- calls ----------------------------------------------------------------------------
    def call(self, node: Node) -> Taint:
        from egressguard.audit.dataflow import php_calls

        return php_calls.evaluate(self, node)

    # --- sources --------------------------------------------------------------------------
    def hint(self, receiver: Node | None) -> str:
        """What is known about a receiver: its text, its root's declared type and origin."""
        if receiver is None:
            return ""
        root = receiver
        while root.type in (*A.METHOD_CALLS, *A.MEMBER_READS) and A.this_property(root) is None:
            obj = root.child_by_field_name("object")
            if obj is None:
                break
            root = obj
        extra = ""
        prop = A.this_property(root)
        if prop is not None and self.f.klass is not None:
            declared = self.f.state.prop_type(self.an.index, prop)
            extra = f"{prop} {declared[1] if declared else ''}"
        elif root.type == "variable_name":
            extra = self.f.hints.get(A.text(root), "")
        return f"{A.text(receiver)[:300]} {extra}"

    def receiver_type(self, receiver: Node | None) -> str:
        """The receiver's own declared class, fully qualified: a typed parameter that still
        holds its argument or a typed/injected `$this->prop` ("" when not known), followed by
        what that class extends and implements as far as the project declares it."""
        if receiver is None:
            return ""
        prop = A.this_property(receiver)
        if prop is not None:
            declared = self.f.state.prop_type(self.an.index, prop)
            if declared is None:
                return ""
            unit = declared[0]
            return with_ancestors(self.an.index, unit, unit.declared_class(declared[1]))
        if receiver.type == "variable_name":
            classes = self.f.types.get(A.text(receiver), "")
            return with_ancestors(self.an.index, self.f.ctx.unit, classes)
        return ""

    def source_rule(
        self, node: Node, name: str, hint: str, args: str, receiver_type: str = ""
    ) -> Taint | None:
        rule = self.an.php.source(name, hint, args, receiver_type)
        if rule is None:
            return None
        categories = rule.categories
        if rule.key_arg:
            key = _first_literal(node)
            field = self.an.rules.classify_field(key) if key else None
            if field is not None:
                categories = frozenset({field.category})
            elif rule.key_only:
                return None
        return self.labelled(node, categories, rule.confidence)

    def labelled(
        self, node: Node, categories: frozenset[DataCategory], confidence: Confidence
    ) -> Taint:
        names = ", ".join(sorted(str(c) for c in categories))
        step = self.f.step(node, f"source: {short(node)} ({names})")
        return source(categories, step, confidence)

    def field(self, node: Node, name: str, what: str) -> Taint:
        rule = self.an.rules.classify_field(name)
        if rule is None:
            return EMPTY
        step = self.f.step(node, f"source: {what} ({rule.category}, by field name)")
        return source(frozenset({rule.category}), step, Confidence.MEDIUM)


# `@var Type $name` or `@var Type`; a generic or array type (`Foo[]`, `Collection<Foo>`) is no class
_DOC_VAR = re.compile(r"@var\s+(\??[\\\w|&]+)(?=[\s*]|$)(?:\s+(\$\w+))?")


def _docblock_var(left: Node, name: str) -> str:
    """The type a `/** @var Type $name */` (or `/** @var Type */`) docblock right above the
    statement assigning `left` gives `name` ("" when there is none)."""
    statement = left.parent.parent if left.parent is not None else None
    if statement is None or statement.type != "expression_statement":
        return ""
    comment = statement.prev_named_sibling
    if comment is None or comment.type != "comment":
        return ""
    found = _DOC_VAR.search(A.text(comment))
    if found is None or (found.group(2) is not None and found.group(2) != name):
        return ""
    return found.group(1)


def _first_literal(call: Node) -> str | None:
    args = A.arguments(call)
    return A.string_value(args[0]) if args else None


def _make_handlers() -> dict[str, Callable[[Walker, Node], Taint]]:
    w = Walker
    return {
        "variable_name": w.variable,
        "member_access_expression": w.member_read,
        "nullsafe_member_access_expression": w.member_read,
        "subscript_expression": w.subscript,
        "encapsed_string": w.interpolation,
        "heredoc": w.interpolation,
        "heredoc_body": w.interpolation,
        "binary_expression": w.binary,
        "conditional_expression": w.conditional,
        "cast_expression": w.cast,
        "array_creation_expression": w.array,
        "assignment_expression": w.assignment,
        "reference_assignment_expression": w.assignment,
        "augmented_assignment_expression": w.augmented,
        "object_creation_expression": w.creation,
        "member_call_expression": w.call,
        "nullsafe_member_call_expression": w.call,
        "scoped_call_expression": w.call,
        "function_call_expression": w.call,
    }


_HANDLERS = _make_handlers()
