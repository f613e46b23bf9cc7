"""One pass over a JavaScript/TypeScript syntax tree: scopes, bindings, functions, calls.

`Index(tree)` walks the tree once (iteratively, no recursion) and records

    declared    scope id -> names declared there (var/let/const, parameters, functions,
                classes, imports, catch parameters; block scoping is folded into the function)
    assigns     (target pattern, value node) for declarations, assignments and for-of loops
    functions   every function node; returns[fn] its returned expressions
    methods     "this@<container>.<name>" -> method nodes of classes and object literals
    calls       every call and `new` expression

Keys name storage locations as strings: "<scope id>:<name>" for a variable ("0:name" for a
global; `window.x` is the global x), "<base key>.<prop>" for a property, and
"this@<container id>" for `this` inside a class or object literal (Knockout components).
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node, Tree

FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
_GLOBAL_OBJECTS = frozenset({"window", "globalThis", "self"})
_PATTERN_LEAVES = frozenset(
    {"identifier", "shorthand_property_identifier_pattern", "shorthand_property_identifier"}
)
_CONTAINERS = frozenset({"class_body", "object"})
GLOBAL = 0
MAX_PATH = 8  # member chains longer than this are not tracked by name


def text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


class Index:
    """Scopes, bindings, functions and calls of one tree."""

    def __init__(self, tree: Tree) -> None:
        self.root = tree.root_node
        self.declared: dict[int, set[str]] = {GLOBAL: set()}
        self.assigns: list[tuple[Node, Node]] = []
        self.functions: list[Node] = []
        self.returns: dict[int, list[Node]] = {}
        self.methods: dict[str, list[Node]] = {}
        self.aliases: dict[str, int] = {}  # variable key -> object literal id (its methods)
        self.calls: list[Node] = []
        self._scope_cache: dict[int, int] = {}
        self._key_cache: dict[int, str] = {}
        self._scope_nodes: dict[int, Node] = {}
        self._pending_alias: list[tuple[Node, int]] = []
        self._walk()
        for target, container in self._pending_alias:
            key = self.key(target)
            if key is not None:
                self.aliases[key] = container

    # --- resolution --------------------------------------------------------------------

    def scope_of(self, node: Node) -> int:
        """The id of the function (or the program) whose body holds `node`."""
        chain: list[int] = []
        cur: Node | None = node.parent
        found = GLOBAL
        while cur is not None:
            cached = self._scope_cache.get(cur.id)
            if cached is not None:
                found = cached
                break
            chain.append(cur.id)
            if cur.type in FUNCTIONS:
                found = cur.id
                break
            cur = cur.parent
        for nid in chain:
            self._scope_cache[nid] = found
        return found

    def parent_scope(self, scope: int) -> int:
        node = self._scope_nodes.get(scope)
        return GLOBAL if node is None else self.scope_of(node)

    def var_key(self, node: Node) -> str:
        """The key of the variable an identifier refers to."""
        cached = self._key_cache.get(node.id)
        if cached is None:
            cached = self._key_cache[node.id] = self._resolve(node)
        return cached

    def _resolve(self, node: Node) -> str:
        name = text(node)
        scope = self.scope_of(node) if node.type not in FUNCTIONS else node.id
        for _ in range(64):
            if name in self.declared.get(scope, ()):
                return f"{scope}:{name}"
            if scope == GLOBAL:
                break
            scope = self.parent_scope(scope)
        return f"{GLOBAL}:{name}"

    def this_key(self, node: Node) -> str:
        """The key of `this` at `node`: its class or object literal, else its function."""
        cached = self._key_cache.get(node.id)
        if cached is None:
            cached = self._key_cache[node.id] = self._this_key(node)
        return cached

    def _this_key(self, node: Node) -> str:
        cur: Node | None = node.parent
        while cur is not None:
            if cur.type in FUNCTIONS and cur.type != "arrow_function":
                container = _container_of(cur)
                return f"this@{container.id if container is not None else cur.id}"
            if cur.type == "class_body":
                return f"this@{cur.id}"
            cur = cur.parent
        return f"{GLOBAL}:this"

    def key(self, node: Node, depth: int = 0) -> str | None:
        """The storage key of an identifier, `this` or a member chain on them (else None)."""
        kind = node.type
        if kind in _PATTERN_LEAVES:
            return self.var_key(node)
        if kind == "this":
            return self.this_key(node)
        if kind in ("member_expression", "subscript_expression") and depth < MAX_PATH:
            obj = node.child_by_field_name("object")
            prop = prop_name(node)
            if obj is None or prop is None:
                return None
            if obj.type == "identifier" and text(obj) in _GLOBAL_OBJECTS:
                return f"{GLOBAL}:{prop}"
            base = self.key(obj, depth + 1)
            return None if base is None else f"{base}.{prop}"
        if kind in ("parenthesized_expression", "non_null_expression"):
            inner = node.named_children[0] if node.named_children else None
            return None if inner is None else self.key(inner, depth + 1)
        return None

    def methods_of(self, base_key: str, name: str) -> list[Node]:
        """Methods called as `<base>.name()`: on `this`, or on a variable holding an object."""
        container = self.aliases.get(base_key)
        if container is not None:
            return self.methods.get(f"this@{container}.{name}", [])
        return self.methods.get(f"{base_key}.{name}", [])

    # --- the walk ------------------------------------------------------------------------

    def _walk(self) -> None:
        stack = [self.root]
        while stack:
            node = stack.pop()
            self._visit(node)
            stack.extend(reversed(node.named_children))

    def _visit(self, node: Node) -> None:
        kind = node.type
        if kind in FUNCTIONS:
            self._function(node)
        elif kind == "variable_declarator":
            self._declarator(node)
        elif kind in ("assignment_expression", "augmented_assignment_expression"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                self.assigns.append((left, right))
                self._alias(left, right)
        elif kind == "for_in_statement":
            self._for_in(node)
        elif kind in ("call_expression", "new_expression"):
            self.calls.append(node)
        elif kind == "return_statement":
            self._return(node)
        elif kind in ("class_declaration", "class"):
            name = node.child_by_field_name("name")
            if name is not None and kind == "class_declaration":
                self._declare(self.scope_of(node), name)
        elif kind in ("import_clause", "namespace_import", "named_imports"):
            for leaf in _pattern_leaves(node):
                self._declare(GLOBAL, leaf)
        elif kind == "catch_clause":
            param = node.child_by_field_name("parameter")
            if param is not None:
                for leaf in _pattern_leaves(param):
                    self._declare(self.scope_of(node), leaf)

    def _declare(self, scope: int, leaf: Node) -> None:
        self.declared.setdefault(scope, set()).add(text(leaf))

    def _function(self, node: Node) -> None:
        self.functions.append(node)
        self._scope_nodes[node.id] = node
        self.declared.setdefault(node.id, set())
        name = node.child_by_field_name("name")
        if node.type in ("function_declaration", "generator_function_declaration"):
            if name is not None:
                self._declare(self.scope_of(node), name)
        elif node.type == "method_definition" and name is not None:
            container = node.parent
            if container is not None and container.type in _CONTAINERS:
                self.methods.setdefault(f"this@{container.id}.{text(name)}", []).append(node)
        for param in parameters(node):
            for leaf in _pattern_leaves(param):
                self._declare(node.id, leaf)
        body = node.child_by_field_name("body")
        if node.type == "arrow_function" and body is not None and body.type != "statement_block":
            self.returns.setdefault(node.id, []).append(body)
        self._object_method(node)

    def _object_method(self, node: Node) -> None:
        """`{ send: function () {…} }` and class fields `send = () => {…}` are methods too."""
        parent = node.parent
        if parent is None or parent.type not in ("pair", "field_definition"):
            return
        key = parent.child_by_field_name("key") or parent.child_by_field_name("property")
        container = parent.parent
        if key is not None and container is not None and container.type in _CONTAINERS:
            name = text(key).strip("'\"")
            self.methods.setdefault(f"this@{container.id}.{name}", []).append(node)

    def _declarator(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is None:
            return
        scope = self.scope_of(node)
        for leaf in _pattern_leaves(name):
            self._declare(scope, leaf)
        if value is not None:
            self.assigns.append((name, value))
            self._alias(name, value)

    def _alias(self, target: Node, value: Node) -> None:
        """Remember `var o = { m() {…} }` so that `o.m()` finds its method."""
        if value.type == "object" and target.type in ("identifier", "member_expression"):
            self._pending_alias.append((target, value.id))

    def _for_in(self, node: Node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        if node.child_by_field_name("kind") is not None:
            scope = self.scope_of(node)
            for leaf in _pattern_leaves(left):
                self._declare(scope, leaf)
        self.assigns.append((left, right))

    def _return(self, node: Node) -> None:
        value = node.named_children[0] if node.named_children else None
        if value is None:
            return
        fn = enclosing_function(node)
        if fn is not None:
            self.returns.setdefault(fn.id, []).append(value)


def parameters(fn: Node) -> list[Node]:
    params = fn.child_by_field_name("parameters")
    if params is not None:
        return list(params.named_children)
    single = fn.child_by_field_name("parameter")
    return [single] if single is not None else []


def param_target(param: Node) -> Node:
    """The binding pattern of a parameter (TypeScript wraps it in required_parameter)."""
    if param.type in ("required_parameter", "optional_parameter"):
        inner = param.child_by_field_name("pattern")
        return inner if inner is not None else param
    return param


def enclosing_function(node: Node) -> Node | None:
    cur = node.parent
    while cur is not None:
        if cur.type in FUNCTIONS:
            return cur
        cur = cur.parent
    return None


def prop_name(node: Node) -> str | None:
    """`b` of `a.b`, `a['b']` (None for a computed index)."""
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return text(prop) if prop is not None else None
    index = node.child_by_field_name("index")
    if index is not None and index.type == "string":
        return text(index)[1:-1]
    return None


def _container_of(fn: Node) -> Node | None:
    """The class body or object literal a method belongs to."""
    parent = fn.parent
    if parent is None:
        return None
    if parent.type in _CONTAINERS:
        return parent
    if parent.type in ("pair", "field_definition") and parent.parent is not None:
        return parent.parent if parent.parent.type in _CONTAINERS else None
    return None


def _pattern_leaves(node: Node) -> Iterator[Node]:
    """The identifiers a binding pattern declares."""
    stack = [param_target(node)]
    while stack:
        cur = stack.pop()
        kind = cur.type
        if kind in _PATTERN_LEAVES:
            yield cur
        elif kind == "pair_pattern":
            value = cur.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        elif kind in ("assignment_pattern", "object_assignment_pattern"):
            left = cur.child_by_field_name("left")
            if left is not None:
                stack.append(left)
        elif kind in (
            "object_pattern",
            "array_pattern",
            "rest_pattern",
            "import_clause",
            "named_imports",
            "namespace_import",
            "import_specifier",
            "required_parameter",
            "optional_parameter",
        ):
            if kind == "import_specifier":
                alias = cur.child_by_field_name("alias") or cur.child_by_field_name("name")
                if alias is not None:
                    yield alias
                continue
            stack.extend(cur.named_children)
