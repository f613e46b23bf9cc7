"""Small, typed views of tree-sitter PHP nodes: names, arguments, literals, declarations.

Everything here reads the tree only; nothing knows about taint or rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

CALLS = frozenset(
    {
        "member_call_expression",
        "nullsafe_member_call_expression",
        "scoped_call_expression",
        "function_call_expression",
    }
)
METHOD_CALLS = frozenset({"member_call_expression", "nullsafe_member_call_expression"})
MEMBER_READS = frozenset({"member_access_expression", "nullsafe_member_access_expression"})
LITERALS = frozenset(
    {
        "string",
        "nowdoc",
        "integer",
        "float",
        "boolean",
        "null",
        "class_constant_access_expression",
        "name",
        "qualified_name",
        "relative_scope",
        "comment",
    }
)
FUNCTIONS = frozenset({"method_declaration", "function_definition"})
CLASSES = frozenset(
    {"class_declaration", "trait_declaration", "interface_declaration", "enum_declaration"}
)


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def line(node: Node) -> int:
    return node.start_point[0] + 1


def end_line(node: Node) -> int:
    return node.end_point[0] + 1


def call_name(node: Node) -> str:
    """`getEmail` of `$o->getEmail()`, `curl_setopt` of `\\curl_setopt(…)`."""
    if node.type == "function_call_expression":
        return text(node.child_by_field_name("function")).lstrip("\\").rpartition("\\")[2]
    return text(node.child_by_field_name("name"))


def call_object(node: Node) -> Node | None:
    """The receiver of a method call (`$o` of `$o->m()`), or the scope of `self::m()`."""
    if node.type == "scoped_call_expression":
        return node.child_by_field_name("scope")
    return node.child_by_field_name("object")


def arguments(node: Node) -> list[Node]:
    """The argument expressions of a call or `new` (unwrapped from `argument` nodes)."""
    args = node.child_by_field_name("arguments")
    if args is None:
        args = next((c for c in node.named_children if c.type == "arguments"), None)
    if args is None:
        return []
    out: list[Node] = []
    for arg in args.named_children:
        if arg.type == "argument":
            value = arg.named_children[-1] if arg.named_children else None
            if value is not None:
                out.append(value)
        elif arg.type != "comment":
            out.append(arg)
    return out


def arguments_text(node: Node) -> str:
    args = node.child_by_field_name("arguments")
    if args is None:
        args = next((c for c in node.named_children if c.type == "arguments"), None)
    return text(args)[1:-1] if args is not None else ""


def string_value(node: Node) -> str | None:
    """The value of a literal string without interpolation, else None."""
    if node.type not in ("string", "encapsed_string", "nowdoc"):
        return None
    if any(c.type not in ("string_content", "escape_sequence") for c in node.named_children):
        return None
    return "".join(text(c) for c in node.named_children)


def is_constant(node: Node) -> bool:
    """A literal, a constant or an array/concatenation of only those."""
    if node.type in LITERALS or string_value(node) is not None:
        return True
    if node.type in ("array_creation_expression", "array_element_initializer", "binary_expression"):
        return all(is_constant(c) for c in node.named_children)
    if node.type in ("parenthesized_expression", "unary_op_expression", "cast_expression"):
        return all(is_constant(c) for c in node.named_children if c.type != "cast_type")
    return False


def variable(node: Node) -> str | None:
    """`$name` of a variable node, else None."""
    return text(node) if node.type == "variable_name" else None


def this_property(node: Node) -> str | None:
    """`ctx` of `$this->ctx` (not of `$this->ctx->x`), else None."""
    if node.type not in MEMBER_READS:
        return None
    obj = node.child_by_field_name("object")
    if obj is None or text(obj) != "$this":
        return None
    name = node.child_by_field_name("name")
    return text(name) if name is not None and name.type == "name" else None


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # "$order"
    type: str  # "OrderInterface" ("" when none)
    promoted: bool


def params(function: Node) -> list[Param]:
    plist = function.child_by_field_name("parameters")
    out: list[Param] = []
    for p in plist.named_children if plist is not None else ():
        if p.type not in ("simple_parameter", "property_promotion_parameter", "variadic_parameter"):
            continue
        name = text(p.child_by_field_name("name"))
        kind = text(p.child_by_field_name("type")).lstrip("?")
        out.append(Param(name, kind, p.type == "property_promotion_parameter"))
    return out


def body(function: Node) -> Node | None:
    return function.child_by_field_name("body")


def function_name(function: Node) -> str:
    return text(function.child_by_field_name("name"))


def walk(node: Node, types: frozenset[str]) -> Iterator[Node]:
    """Every descendant of one of `types` (pre-order), not descending into nested functions."""
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        if n.type in types:
            yield n
        if n.type in ("anonymous_function", "arrow_function", *FUNCTIONS, *CLASSES):
            continue
        stack.extend(reversed(n.children))


def declarations(root: Node, types: frozenset[str]) -> Iterator[Node]:
    """Declarations of `types` anywhere (classes in namespaces, methods in classes)."""
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type in types:
            yield n
        if n.type in FUNCTIONS:
            continue
        stack.extend(reversed(n.children))
