"""Which shop data each JavaScript expression may carry: a flow-insensitive fixpoint.

Every assignment, declaration, for-of loop, argument-to-parameter binding and callback
parameter joins a Value into a storage key (js_scope.Index keys); expressions are evaluated
against that environment. Rounds repeat until nothing changes (at most MAX_ROUNDS), each
round evaluates every node at most once (memo), and no evaluation descends into a function
body (a function expression's value is what it returns), so a round is linear in the file.

Propagation: assignments, destructuring, template literals, `+`, `||`/`??`, ternaries,
object/array literals and spread, `await`, calls on tainted receivers or with tainted
arguments (method chains, JSON.stringify, encodeURIComponent, …), return values of functions
and methods of the same file, closures (lexical scopes), `this.prop` inside a class or
object-literal component. A sanitiser call (sanitizers.toml) yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from egressguard.audit.dataflow import js_dom
from egressguard.audit.dataflow.js_graphql import looks_like_graphql, selection_paths
from egressguard.audit.dataflow.js_scope import FUNCTIONS, Index, param_target, parameters, text
from egressguard.audit.dataflow.js_value import NONE, Origin, Value, select, shaped, source
from egressguard.catalog.dataflow_rules import DataflowRules, SourceRule
from egressguard.catalog.dataflow_schema import SinkRule, SourceKind, normalise_field
from egressguard.model import Confidence, DataCategory, TraceStep

MAX_ROUNDS = 6
MAX_DEPTH = 150  # deeper expressions (minified chains) are evaluated as carrying nothing
_GLOBAL_PREFIX = re.compile(r"^(?:window|globalThis|self)\.")
_SPACE = re.compile(r"\s+")
_COMPARISON = frozenset(
    {"==", "===", "!=", "!==", "<", ">", "<=", ">=", "instanceof", "in", "-", "*", "/", "%"}
)
_NO_DATA_UNARY = frozenset({"typeof", "!", "void", "delete"})
_PASS_THROUGH = frozenset(
    {
        "parenthesized_expression",
        "await_expression",
        "non_null_expression",
        "as_expression",
        "satisfies_expression",
        "type_assertion",
        "spread_element",
        "template_substitution",
        "yield_expression",
    }
)
_CONSTANTS = frozenset(
    {"number", "true", "false", "null", "undefined", "regex", "this", "super", "comment"}
)
# Only these categories are inferred from a name alone (a key, a property, a parameter) ...
NAME_CATEGORIES = frozenset(
    {DataCategory.CUSTOMER_PII, DataCategory.PAYMENT, DataCategory.CREDENTIALS}
)
# ... and these are added to data read from a tainted object by its field name.
_FIELD_ADDS = frozenset(
    {DataCategory.CUSTOMER_PII, DataCategory.PAYMENT, DataCategory.PROPRIETARY_PRICING}
)
# The AI provider's own key is never the shop's credentials (it is how the call is made).
_PROVIDER_KEY = re.compile(
    r"(?i)openai|anthropic|gemini|google|mistral|groq|cohere|claude|gpt|llm|(?:^|_)ai(?:_|$)"
    r"|^(?:api_?key|apikey|key|token|authorization|bearer)$"
)
# GraphQL roots whose fields are shop data even without a graphql-field rule.
_SHOP_ROOT = re.compile(
    r"^(?:products?|productVariants?|productByHandle|inventoryItems?|orders?|draftOrders?"
    r"|customers?|abandonedCheckouts|collections?)\b"
)
# Calls that hand a verified webhook payload over, whatever route they serve.
WEBHOOK_RECEIVERS = frozenset({"authenticate.webhook", "shopify.webhooks.process"})
# A webhook topic written in code: "orders/create", "ORDERS_CREATE".
_TOPIC = re.compile(r"""['"`]([a-z_]+/[a-z_]+|[A-Z]+(?:_[A-Z]+)+)['"`]""")
_SNIPPET = 80
# Methods that put their arguments into their receiver.
_MUTATORS = frozenset({"push", "unshift", "splice", "append", "set", "add", "fill", "concat"})
# Parameters of a webhook handler that hold the payload (not `topic`, `shop`, `webhookId`).
_WEBHOOK_PARAM = re.compile(
    r"^(?:body|rawBody|payload|data|order|customer|checkout|cart|webhook|req|request|ctx"
    r"|event|json|message|\{.*)$",
    re.DOTALL,
)
# Keys of a database query's argument that filter rows: what they hold is not in the result
# (`prisma.chatSession.findUnique({ where: { token } })`).
_QUERY_FILTERS = frozenset({"where"})
# Source rules for what a server's request handler receives (javascript.toml node-request-*).
_REQUEST_BODY_RULES = "node-request"
# Calls whose result is the response to a request (GraphQL clients included).
REQUEST_NAMES = frozenset({"graphql", "query", "request", "rawRequest", "fetch", "ajax"})


def member_path(node: Node, depth: int = 0) -> str | None:
    """`a.b.c` for identifiers, `this` and member chains (string subscripts as members),
    without a leading window./globalThis./self.; None for anything else."""
    kind = node.type
    if kind in ("identifier", "property_identifier", "this", "shorthand_property_identifier"):
        return text(node)
    if depth > 12:
        return None
    if kind in ("member_expression", "subscript_expression"):
        obj = node.child_by_field_name("object")
        prop = _prop(node)
        base = member_path(obj, depth + 1) if obj is not None else None
        if base is None or prop is None:
            return None
        return _GLOBAL_PREFIX.sub("", f"{base}.{prop}")
    if kind in ("parenthesized_expression", "non_null_expression") and node.named_children:
        return member_path(node.named_children[0], depth + 1)
    return None


def callee_path(callee: Node) -> str | None:
    """The member path of a callee; `(…).name` when only its last member is known."""
    path = member_path(callee)
    if path is None and callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        return f"(…).{text(prop)}" if prop is not None else None
    return path


def _prop(node: Node) -> str | None:
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return text(prop) if prop is not None else None
    index = node.child_by_field_name("index")
    return text(index)[1:-1] if index is not None and index.type == "string" else None


def split_path(path: str) -> tuple[str, str]:
    """(receiver, name) of a callee path."""
    receiver, _, name = path.rpartition(".")
    return receiver, name


def args_of(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    if args.type == "template_string":  # gql`…` tagged template
        return [args]
    return [a for a in args.named_children if a.type != "comment"]


def args_text(call: Node) -> str:
    args = call.child_by_field_name("arguments")
    return text(args)[1:-1] if args is not None and args.type == "arguments" else ""


def snippet(node: Node) -> str:
    s = _SPACE.sub(" ", text(node)).strip()
    return s if len(s) <= _SNIPPET else s[: _SNIPPET - 1] + "…"


def line(node: Node) -> int:
    return node.start_point.row + 1


@dataclass(frozen=True, slots=True)
class Incoming:
    """Arguments another file passes to exported functions of this one (already carrying
    the caller's trace up to the call)."""

    functions: tuple[Node, ...]
    values: list[Value]
    label: str


@dataclass
class Context:
    """What the evaluator needs besides the tree: where it is, the vocabulary, and the
    Liquid values of an inline script (placeholder identifier -> Value)."""

    rel: str
    index: Index
    rules: DataflowRules
    placeholders: dict[str, Value] = field(default_factory=dict)
    placeholder_pattern: re.Pattern[str] | None = None
    data_attrs: dict[str, Value] = field(default_factory=dict)
    file_text: str = ""


class Evaluator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.index = ctx.index
        js = ctx.rules.language("javascript")
        self._by_kind: dict[SourceKind, list[SourceRule]] = {}
        for rule in js.sources:
            self._by_kind.setdefault(rule.kind, []).append(rule)
        self.sinks: tuple[SinkRule, ...] = js.sinks
        self.env: dict[str, Value] = {}
        self.assigned: set[str] = set()
        self.defs: dict[str, list[Node]] = {}
        self.truncated = False
        self._memo: dict[int, Value] = {}
        self._returns: dict[int, Value] = {}
        self._active: set[int] = set()
        self._changed = False
        self._fns: dict[str, list[Node]] = {}
        self._topics: Value | None = None
        self._rule_cache: dict[tuple[SourceKind, str, str, str], SourceRule | None] = {}
        self._sanitized: dict[tuple[str, bool], bool] = {}
        self._sink_names: dict[tuple[str, str], bool] = {}
        self.param_keys: set[str] = set()
        # Set by js_callers before `run`: functions whose every caller is in view, and the
        # names whose value is therefore exactly what is bound (no guessing by name).
        self.closed: set[int] = set()
        self.known: set[str] = set()
        # Calls into this file's exported functions from the files that import it.
        self.incoming: list[Incoming] = []
        self._round = MAX_ROUNDS
        self._deferred = False  # a request-body rule waited for handler parameters
        self._called: dict[int, list[Node]] = {}
        self._paths: dict[int, str | None] = {}
        self._args: dict[int, list[Node]] = {}
        self._index_definitions()

    # --- the fixpoint --------------------------------------------------------------------

    def run(self) -> None:
        for round_no in range(MAX_ROUNDS):
            self._round = round_no
            self._memo.clear()
            self._returns.clear()
            self._changed = False
            for target, value in self.index.assigns:
                got = self.value(value)
                if got:
                    self.bind(target, got, f"into {snippet(target)}")
            for call in self.index.calls:
                self._bind_call(call)
            for inc in self.incoming:
                for fn in inc.functions:
                    self._bind_params(fn, inc.values, inc.label, shapes=fn.id in self.closed)
            self._seed_handlers()
            if not self._changed and not (round_no == 0 and self._deferred):
                break
        self._round = MAX_ROUNDS  # evaluations after the fixpoint see every rule
        self._memo.clear()
        self._returns.clear()

    def _index_definitions(self) -> None:
        for target, value in self.index.assigns:
            key = self.index.key(target)
            if key is None:
                continue
            self.defs.setdefault(key, []).append(value)
            self.assigned.add(key)
            if value.type in FUNCTIONS:
                self._fns.setdefault(key, []).append(value)
        for fn in self.index.functions:
            name = fn.child_by_field_name("name")
            if name is not None and fn.type != "method_definition":
                self._fns.setdefault(self.index.var_key(name), []).append(fn)
            for param in parameters(fn):
                for key in self._pattern_keys(param_target(param)):
                    self.assigned.add(key)
                    self.param_keys.add(key)

    def functions_named(self, node: Node) -> list[Node]:
        """The functions an identifier names."""
        return self._fns.get(self.index.var_key(node), [])

    def function_names(self) -> dict[str, list[Node]]:
        """Variable key -> the functions bound to it."""
        return self._fns

    def functions_called_by(self, call: Node) -> list[Node]:
        callee = call.child_by_field_name("function")
        return self.functions_called(callee) if callee is not None else []

    def _known_root(self, node: Node) -> bool:
        cur = node
        while cur.type in ("member_expression", "subscript_expression"):
            inner = cur.child_by_field_name("object")
            if inner is None:
                return False
            cur = inner
        return cur.type == "identifier" and self.index.var_key(cur) in self.known

    def _pattern_keys(self, pattern: Node) -> Iterator[str]:
        key = self.index.key(pattern)
        if key is not None:
            yield key

    def store(self, key: str, value: Value) -> None:
        old = self.env.get(key, NONE)
        new = old | value
        if new != old:
            self.env[key] = new
            # Another round only for new data; a shorter trace of the same data is kept
            # but does not make every expression be evaluated again.
            self._changed = self._changed or _grows(old, new)

    def bind(self, target: Node, value: Value, note: str) -> None:
        """Join `value` into every name a binding pattern (or member target) declares."""
        if not value:
            return
        kind = target.type
        if kind in ("required_parameter", "optional_parameter"):
            self.bind(param_target(target), value, note)
        elif kind in ("identifier", "shorthand_property_identifier_pattern", "this"):
            self.store(self.index.var_key(target), value.hop(self._step(target, note)))
        elif kind in ("member_expression", "subscript_expression"):
            self._bind_member(target, value, note)
        elif kind == "object_pattern":
            for child in target.named_children:
                self._bind_property(child, value, note)
        elif kind in ("array_pattern", "rest_pattern"):
            for child in target.named_children:
                self.bind(child, value, note)
        elif kind in ("assignment_pattern", "object_assignment_pattern"):
            left = target.child_by_field_name("left")
            if left is not None:
                self.bind(left, value, note)
        elif kind in ("lexical_declaration", "variable_declaration"):
            for decl in target.named_children:
                name = decl.child_by_field_name("name")
                if name is not None:
                    self.bind(name, value, note)

    def _bind_member(self, target: Node, value: Value, note: str) -> None:
        key = self.index.key(target)
        if key is None:
            return
        hopped = value.hop(self._step(target, note))
        self.store(key, hopped)
        obj = target.child_by_field_name("object")
        base = self.index.key(obj) if obj is not None else None
        if base is not None:
            self.store(base, hopped.data())

    def _bind_property(self, child: Node, value: Value, note: str) -> None:
        if child.type == "pair_pattern":
            key = child.child_by_field_name("key")
            inner = child.child_by_field_name("value")
            if inner is not None:
                self.bind(inner, self._destructured(value, text(key) if key else "", child), note)
        elif child.type == "object_assignment_pattern":
            left = child.child_by_field_name("left")
            if left is not None:
                self.bind(left, self._destructured(value, text(left), child), note)
        elif child.type == "rest_pattern":
            self.bind(child, value.data(), note)
        else:
            self.bind(child, self._destructured(value, text(child), child), note)

    def _destructured(self, value: Value, key: str, node: Node) -> Value:
        """`const {key} = value`: the key's data when the shape is known, else all of it."""
        known = value.field(key)
        if known is not None:  # the shape says what the key holds: no guess by its name
            return (
                known.data()
                if known.fields is not None
                else known.data() | self._named(key, node, known)
            )
        return value.data() | self._named(key, node, value)

    def _named(self, name: str, node: Node, base: Value) -> Value:
        """A severe category a field name adds to data read from a tainted object."""
        if not base.origins:
            return NONE
        rule = self.ctx.rules.classify_field(name)
        if rule is None or rule.category not in _FIELD_ADDS:
            return NONE
        step = self._step(node, f"source: {snippet(node)} ({rule.category})")
        conf = min(base.origins, key=lambda o: len(o.steps)).confidence
        return source(rule.category, step, conf)

    # --- calls: parameters and callbacks -------------------------------------------------

    def _bind_call(self, call: Node) -> None:
        callee = call.child_by_field_name("function") or call.child_by_field_name("constructor")
        if callee is None:
            return
        args = self.args(call)
        called = self.functions_called(callee)
        values = [self.value(a) for a in args] if called else []
        if any(values):
            label = f"passed to {snippet(callee)}()"
            for fn in called:
                self._bind_params(fn, values, label, shapes=fn.id in self.closed)
        self._bind_mutation(callee, args)
        callbacks = [a for a in args if a.type in FUNCTIONS]
        if not callbacks and not any(a.type == "object" for a in args):
            return
        path = self.path_of(callee)
        given = self._event_value(path, args) if path is not None else NONE
        if not given and callee.type == "member_expression":
            obj = callee.child_by_field_name("object")
            given = self.value(obj).data() if obj is not None else NONE
        if not given:
            return
        for fn in callbacks:
            self._bind_params(fn, [given], f"passed to {snippet(callee)}()", every=True)

    def _bind_mutation(self, callee: Node, args: list[Node]) -> None:
        """`list.push(x)`, `params.append(k, x)`, `Object.assign(target, x)` store x."""
        if callee.type != "member_expression" or not args:
            return
        prop = callee.child_by_field_name("property")
        obj = callee.child_by_field_name("object")
        if prop is None or obj is None:
            return
        name = text(prop)
        if name == "assign" and text(obj) == "Object":
            target, values = args[0], args[1:]
        elif name in _MUTATORS:
            target, values = obj, args
        else:
            return
        for arg in values:
            self.bind(target, self.value(arg).data(), f"added to {snippet(target)}")

    def _bind_params(
        self, fn: Node, values: list[Value], note: str, every: bool = False, shapes: bool = False
    ) -> None:
        """Arguments into parameters; object shapes only when every caller is known (else a
        caller we do not see may pass other keys)."""
        params = parameters(fn)
        if not shapes:
            values = [v.flat() for v in values]
        for i, param in enumerate(params):
            if every:
                self.bind(param, values[0], note)
            elif param.type == "rest_pattern":
                for v in values[i:]:
                    self.bind(param, v, note)
            elif i < len(values):
                self.bind(param, values[i], note)

    def _event_value(self, path: str, args: list[Node]) -> Value:
        """Web Pixels events and webhook topics: the data the handler receives."""
        found = NONE
        for arg in args:
            if arg.type in ("string", "template_string"):
                found |= self._topic_source(text(arg).strip("'\"`"), arg)
            elif arg.type == "object":
                self._bind_topic_handlers(arg)
        return found

    def _topic_source(self, topic: str, node: Node) -> Value:
        for rule in self._by_kind.get(SourceKind.EVENT, ()):
            if rule.match.matches(topic):
                return self._rule_value(rule, node, f"{topic} payload")
        return NONE

    def _bind_topic_handlers(self, obj: Node) -> None:
        """`addHandlers({ORDERS_CREATE: {callback: (topic, shop, body) => …}})`."""
        for pair in obj.named_children:
            key = pair.child_by_field_name("key") if pair.type == "pair" else None
            value = pair.child_by_field_name("value") if pair.type == "pair" else None
            if key is None or value is None:
                continue
            given = self._topic_source(text(key).strip("'\"`"), key)
            if not given:
                continue
            for fn in _functions_in(value):
                self._bind_params(fn, [given], f"passed to {snippet(key)}()", every=True)

    def functions_called(self, callee: Node, depth: int = 0) -> list[Node]:
        """Functions of this file a callee may be: `f`, `this.m`, `obj.m`, `(function(){})`,
        or what a factory returns (`const ask = makeAsker(key); ask(q)`)."""
        if depth == 0:
            found = self._called.get(callee.id)
            if found is None:
                found = self._called[callee.id] = self._functions_called(callee, 0)
            return found
        return self._functions_called(callee, depth)

    def _functions_called(self, callee: Node, depth: int) -> list[Node]:
        if callee.type in FUNCTIONS:
            return [callee]
        if callee.type == "identifier":
            key = self.index.var_key(callee)
            found = self._fns.get(key, [])
            if found or depth > 2:
                return found
            return [
                ret
                for made in self.defs.get(key, [])
                if made.type == "call_expression"
                for fn in self._made_by(made, depth)
                for ret in self.index.returns.get(fn.id, [])
                if ret.type in FUNCTIONS
            ]
        if callee.type == "member_expression":
            obj = callee.child_by_field_name("object")
            prop = callee.child_by_field_name("property")
            base = self.index.key(obj) if obj is not None else None
            if base is not None and prop is not None:
                fns = self.index.methods_of(base, text(prop))
                return fns or self._fns.get(f"{base}.{text(prop)}", [])
        return []

    def _made_by(self, call: Node, depth: int) -> list[Node]:
        callee = call.child_by_field_name("function")
        return self.functions_called(callee, depth + 1) if callee is not None else []

    def _seed_handlers(self) -> None:
        """Webhook handlers known by name or file (`export function ordersPaid(topic, shop,
        body)` in webhooks/orders-paid.js): their payload parameters get the topic's data."""
        in_webhooks = "webhook" in self.ctx.rel.lower()
        for key, fns in self._fns.items():
            name = key.partition(":")[2]
            given = self._topic_source(normalise_field(name), fns[0])
            if not given and in_webhooks:
                given = self._topic_source(self.ctx.rel.rpartition("/")[2].split(".")[0], fns[0])
            if not given:
                continue
            for fn in fns:
                for param in parameters(fn):
                    if _WEBHOOK_PARAM.match(text(param_target(param))):
                        self.bind(param, given, f"passed to {name}()")

    def returns(self, fn: Node) -> Value:
        cached = self._returns.get(fn.id)
        if cached is not None:
            return cached
        if fn.id in self._active:
            return NONE
        self._active.add(fn.id)
        out = NONE
        for expr in self.index.returns.get(fn.id, ()):
            out |= self.value(expr)
        self._active.discard(fn.id)
        self._returns[fn.id] = out
        return out

    # --- expressions ---------------------------------------------------------------------

    def value(self, node: Node, depth: int = 0) -> Value:
        cached = self._memo.get(node.id)
        if cached is not None:
            return cached
        if depth > MAX_DEPTH:
            self.truncated = True
            return NONE
        handler = _HANDLERS.get(node.type)
        out = handler(self, node, depth + 1) if handler is not None else NONE
        self._memo[node.id] = out
        return out

    def _step(self, node: Node, note: str) -> TraceStep:
        return TraceStep(self.ctx.rel, line(node), note)

    def _rule_value(self, rule: SourceRule, node: Node, what: str | None = None) -> Value:
        shown = what if what is not None else snippet(node)
        out = NONE
        for cat in sorted(rule.categories):
            step = self._step(node, f"source: {shown} ({cat})")
            out |= source(cat, step, rule.confidence)
        return out

    def _source(
        self, kind: SourceKind, name: str, receiver: str = "", args: str = ""
    ) -> SourceRule | None:
        key = (kind, name, receiver, args)
        if key in self._rule_cache:
            return self._rule_cache[key]
        found = next(
            (r for r in self._by_kind.get(kind, ()) if r.match.matches(name, receiver, args)),
            None,
        )
        if len(args) < 200:  # long argument texts are rarely seen twice
            self._rule_cache[key] = found
        return found

    def path_of(self, node: Node) -> str | None:
        """member_path(node), computed once per node."""
        if node.id in self._paths:
            return self._paths[node.id]
        found = self._paths[node.id] = member_path(node)
        return found

    def args(self, call: Node) -> list[Node]:
        """args_of(call), computed once per call."""
        found = self._args.get(call.id)
        if found is None:
            found = self._args[call.id] = args_of(call)
        return found

    def identifier(self, node: Node, depth: int) -> Value:
        name = text(node)
        if name == "undefined":
            return NONE
        pattern = self.ctx.placeholder_pattern
        if pattern is not None and pattern.fullmatch(name):
            return self.ctx.placeholders.get(name, NONE)
        key = self.index.var_key(node)
        stored = self.env.get(key)
        if stored is not None:
            return stored
        if key in self.assigned or key.startswith("0:") or key in self.known:
            return NONE
        return self._name_only(name, node)  # a parameter nobody passes data to

    def _name_only(self, name: str, node: Node) -> Value:
        rule = self.ctx.rules.classify_field(name)
        if rule is None or rule.category not in NAME_CATEGORIES:
            return NONE
        if rule.category is DataCategory.CREDENTIALS and _PROVIDER_KEY.search(name):
            return NONE
        step = self._step(node, f"source: {snippet(node)} ({rule.category}, by name)")
        return source(rule.category, step, Confidence.MEDIUM)

    def string(self, node: Node, depth: int) -> Value:
        out = NONE
        pattern = self.ctx.placeholder_pattern
        if pattern is not None:
            for m in pattern.finditer(text(node)):
                out |= self.ctx.placeholders.get(m.group(), NONE)
        for child in node.named_children:
            if child.type == "template_substitution":
                out |= self.value(child, depth)
        if len(node.text or b"") > 8:
            out |= self._graphql(node)
        return out

    def _graphql(self, node: Node) -> Value:
        body = text(node)
        if not looks_like_graphql(body.strip("'\"`")):
            return NONE
        pending: list[Origin] = []
        for path in selection_paths(body):
            found = self._selection(path)
            if found is not None:
                cat, conf = found
                note = f"source: GraphQL selection {path} ({cat})"
                pending.append(Origin(cat, (self._step(node, note),), conf, path))
        return Value(pending=tuple(pending)) if pending else NONE

    def _selection(self, path: str) -> tuple[DataCategory, Confidence] | None:
        """The category of one selection: a graphql-field rule, else its field name when it
        sits under a shop object (`product.metafield.cost_price`)."""
        rule = self._source(SourceKind.GRAPHQL_FIELD, path)
        if rule is not None:
            return rule.category, rule.confidence
        if "." not in path or not _SHOP_ROOT.match(path):
            return None
        field_rule = self.ctx.rules.classify_field(path.rpartition(".")[2])
        if field_rule is None or field_rule.category not in _FIELD_ADDS:
            return None
        return field_rule.category, Confidence.MEDIUM

    def member(self, node: Node, depth: int) -> Value:
        path = self.path_of(node)
        if path is not None:
            rule = self._source(SourceKind.JS_MEMBER, path)
            if rule is not None and not self._bound_request(rule, node):
                return self._rule_value(rule, node)
        key = self.index.key(node)
        stored = self.env.get(key, NONE) if key is not None else NONE
        obj = node.child_by_field_name("object")
        prop = _prop(node)
        if obj is None or prop is None:
            return stored | (self.value(obj, depth).data() if obj is not None else NONE)
        return stored | self._read(obj, prop, node, depth)

    def _read(self, obj: Node, prop: str, node: Node, depth: int) -> Value:
        """`obj.prop` from what `obj` carries."""
        if prop == "dataset" or (obj.type == "member_expression" and _prop(obj) == "dataset"):
            return self._dataset(prop, node)
        base = select(self.value(obj, depth), prop)
        known = base.field(prop)
        if known is not None:  # an object literal's shape: only that key's data
            if known.fields is not None:
                return known.data()
            return known.data() | self._named(prop, node, known)
        if base.element is not None:
            return self._element_read(base, prop, node)
        if prop in js_dom.ELEMENT_MEMBERS:
            return base.data() | Value(element="")
        if prop in js_dom.VALUE_MEMBERS and js_dom.INPUT_NAME.match(text(obj).rpartition(".")[2]):
            return self._typed(text(obj).rpartition(".")[2], node, Confidence.MEDIUM)
        if base.origins:
            return base.data().flat() | self._named(prop, node, base)
        if obj.type == "this" or self._known_root(obj):
            return NONE
        return self._name_only(prop, node)

    def _element_read(self, base: Value, prop: str, node: Node) -> Value:
        hint = base.element or ""
        island = self.ctx.data_attrs.get(f"#{hint}") if hint else None
        if island is not None and prop in js_dom.CONTENT_MEMBERS:
            return island.hop(self._step(node, f"read by {snippet(node)}"))
        if prop in js_dom.VALUE_MEMBERS:
            return base.data() | self._typed(hint, node, Confidence.HIGH)
        if prop in js_dom.NOT_VALUE or prop == "length":
            return base.data()
        return base.data() | Value(element=prop if prop not in js_dom.ELEMENT_MEMBERS else hint)

    def _typed(self, hint: str, node: Node, confidence: Confidence) -> Value:
        """What a shopper typed into a form control named `hint`."""
        rule = self.ctx.rules.classify_field(hint) if hint else None
        cat = rule.category if rule is not None and rule.category in NAME_CATEGORIES else None
        category = cat or js_dom.DEFAULT
        step = self._step(node, f"source: {snippet(node)} ({category})")
        return source(category, step, confidence)

    def _dataset(self, prop: str, node: Node) -> Value:
        found = self.ctx.data_attrs.get(prop)
        if found is not None:
            return found.hop(self._step(node, f"read by {snippet(node)}"))
        return NONE if prop == "dataset" else self._name_only(prop, node)

    def call(self, node: Node, depth: int) -> Value:
        callee = node.child_by_field_name("function")
        if callee is None:
            return NONE
        args = self.args(node)
        path = self.path_of(callee)
        if path is None and callee.type == "member_expression":
            path = callee_path(callee)
        if path is not None:
            special = self._known_call(path, node, callee, args, depth)
            if special is not None:
                return special
        local = self.functions_called(callee)
        if local:
            out = NONE
            for fn in local:
                out |= self.returns(fn)
            return out.hop(self._step(node, f"returned by {snippet(callee)}()"))
        return self._generic(callee, args, depth)

    def _known_call(
        self, path: str, node: Node, callee: Node, args: list[Node], depth: int
    ) -> Value | None:
        receiver, name = split_path(path)
        if self._is_sanitizer(name, bool(receiver)):
            return NONE
        if not receiver:
            hook = self._source(SourceKind.HOOK, name)
            if hook is not None:
                return self._rule_value(hook, node)
        rule = self._source(SourceKind.JS_CALL, name, receiver, args_text(node))
        if rule is not None and not self._bound_request(rule, callee):
            return self._rule_value(rule, node)
        if path in WEBHOOK_RECEIVERS:
            return self._file_topics(node)
        if name in js_dom.ELEMENT_CALLS:
            return self._element_call(name, args, depth)
        if name in js_dom.VALUE_CALLS and not args and callee.type == "member_expression":
            obj = callee.child_by_field_name("object")
            base = self.value(obj, depth) if obj is not None else NONE
            if base.element is not None:
                return base.data() | self._typed(base.element, node, Confidence.HIGH)
        if name == "getAttribute" and args and args[0].type == "string":
            return self._dataset(_camel(text(args[0]).strip("'\"").removeprefix("data-")), node)
        if name in REQUEST_NAMES or self._is_sink_name(name, receiver):
            # A response is not the data that was sent, but it holds what a GraphQL query
            # asked for.
            got = Value(self.value(args[0], depth).origins) if args else NONE
            for arg in args:
                got |= Value(self.value(arg, depth).pending)
            return got.hop(self._step(node, f"response of {snippet(callee)}()"))
        return None

    def _bound_request(self, rule: SourceRule, node: Node) -> bool:
        """A request whose handler parameter already carries data (a webhook route: the body
        is the topic's payload, not what a shopper typed)."""
        if not rule.id.startswith(_REQUEST_BODY_RULES):
            return False
        if self._round == 0:  # handler parameters are bound at the end of the first round
            self._deferred = True
            return True
        root = node
        while root.type in ("member_expression", "subscript_expression"):
            inner = root.child_by_field_name("object")
            if inner is None:
                return False
            root = inner
        key = self.index.key(root) if root.type == "identifier" else None
        stored = self.env.get(key) if key is not None else None
        return stored is not None and bool(stored.origins)

    def _is_sanitizer(self, name: str, is_method: bool) -> bool:
        key = (name, is_method)
        if key not in self._sanitized:
            found = self.ctx.rules.sanitizer(name, is_method, "javascript")
            self._sanitized[key] = found is not None
        return self._sanitized[key]

    def _is_sink_name(self, name: str, receiver: str) -> bool:
        key = (name, receiver)
        if key not in self._sink_names:
            self._sink_names[key] = any(s.match.matches(name, receiver, "") for s in self.sinks)
        return self._sink_names[key]

    def _element_call(self, name: str, args: list[Node], depth: int) -> Value:
        if args and args[0].type == "string":
            raw = text(args[0]).strip("'\"`")
            by_name = name in js_dom.BY_NAME_CALLS
            return Value(element=raw if by_name else js_dom.hint_of_selector(raw))
        if args:
            inner = self.value(args[0], depth)
            return inner.data() | Value(element=inner.element or "")
        return Value(element="")

    def _file_topics(self, node: Node) -> Value:
        """`authenticate.webhook(request)`: the payload of every topic the file handles."""
        if self._topics is None:
            found = NONE
            for m in _TOPIC.finditer(self.ctx.file_text):
                found |= self._topic_source(m.group(1), node)
            self._topics = found
        return self._topics

    def _generic(self, callee: Node, args: list[Node], depth: int) -> Value:
        if callee.type == "member_expression":
            obj = callee.child_by_field_name("object")
            out = self.value(obj, depth).data() if obj is not None else NONE
        else:
            out = self.value(callee, depth).data()
        for arg in args:
            v = self.value(arg, depth)
            if v.fields is not None and any(k in _QUERY_FILTERS for k, _ in v.fields):
                v = shaped({k: x for k, x in v.fields if k not in _QUERY_FILTERS}, v.pending)
            out |= Value(v.origins, None, v.pending)
        return out

    def new(self, node: Node, depth: int) -> Value:
        ctor = node.child_by_field_name("constructor")
        args = args_of(node)
        name = text(ctor).rpartition(".")[2] if ctor is not None else ""
        if name in js_dom.FORM_DATA and args:
            inner = self.value(args[0], depth)
            if inner.element is not None:
                return inner.data() | self._typed(inner.element, node, Confidence.HIGH)
        out = NONE
        for arg in args:
            out |= self.value(arg, depth).data()
        return out

    def binary(self, node: Node, depth: int) -> Value:
        op = node.child_by_field_name("operator")
        if op is not None and op.type in _COMPARISON:
            return NONE
        return self._children(node, depth)

    def unary(self, node: Node, depth: int) -> Value:
        op = node.child_by_field_name("operator")
        if op is not None and op.type in _NO_DATA_UNARY:
            return NONE
        return self._children(node, depth)

    def _children(self, node: Node, depth: int) -> Value:
        out = NONE
        for child in node.named_children:
            out |= self.value(child, depth)
        return out

    def passthrough(self, node: Node, depth: int) -> Value:
        first = next((c for c in node.named_children if c.type != "comment"), None)
        return self.value(first, depth) if first is not None else NONE

    def last(self, node: Node, depth: int) -> Value:
        children = node.named_children
        return self.value(children[-1], depth) if children else NONE

    def ternary(self, node: Node, depth: int) -> Value:
        out = NONE
        for name in ("consequence", "alternative"):
            child = node.child_by_field_name(name)
            if child is not None:
                out |= self.value(child, depth)
        return out

    def assignment(self, node: Node, depth: int) -> Value:
        right = node.child_by_field_name("right")
        return self.value(right, depth) if right is not None else NONE

    def obj(self, node: Node, depth: int) -> Value:
        """An object literal: its keys' data, field by field while every key is known."""
        out = NONE
        fields: dict[str, Value] = {}
        exact = True
        for child in node.named_children:
            if child.type == "pair":
                got = self._pair(child, depth)
                key = child.child_by_field_name("key")
                if key is None or key.type == "computed_property_name":
                    exact, out = False, out | got
                elif got:
                    name = text(key).strip("'\"`")
                    fields[name] = fields.get(name, NONE) | got
            elif child.type == "shorthand_property_identifier":
                got = self.value(child, depth)
                if got:
                    fields[text(child)] = fields.get(text(child), NONE) | got
            elif child.type == "spread_element":
                got = self.value(child, depth)
                for name, v in got.fields or ():
                    fields[name] = fields.get(name, NONE) | v
                if got.fields is None and got.origins:
                    exact = False
                out |= got
        whole = shaped(fields, out.pending)
        if exact:
            return whole
        return Value((whole | out).origins, None, (whole | out).pending)

    def _pair(self, pair: Node, depth: int) -> Value:
        key = pair.child_by_field_name("key")
        value = pair.child_by_field_name("value")
        if value is None:
            return NONE
        got = self.value(value, depth)
        if got.origins or key is None or value.type in _LITERALS or value.type in FUNCTIONS:
            return got
        return self._name_only(text(key).strip("'\"`"), pair)

    def function(self, node: Node, depth: int) -> Value:
        return self.returns(node)


def _grows(old: Value, new: Value) -> bool:
    """Whether `new` carries something `old` did not (not merely a better trace)."""
    if len(new.origins) != len(old.origins) or len(new.pending) != len(old.pending):
        return True
    if new.element != old.element or (new.fields is None) != (old.fields is None):
        return True
    if new.fields is not None and old.fields is not None:
        return new.fields != old.fields
    had = {(o.category, o.path) for o in old.origins}
    return any((o.category, o.path) not in had for o in new.origins)


_LITERALS = frozenset(
    {"string", "template_string", "number", "true", "false", "null", "object", "array"}
)


def _functions_in(node: Node) -> list[Node]:
    if node.type in FUNCTIONS:
        return [node]
    if node.type == "object":
        out: list[Node] = []
        for pair in node.named_children:
            value = pair.child_by_field_name("value") if pair.type == "pair" else None
            if value is not None and value.type in FUNCTIONS:
                out.append(value)
            elif pair.type == "method_definition":
                out.append(pair)
        return out
    return []


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


Handler = Callable[[Evaluator, Node, int], Value]
_HANDLERS: dict[str, Handler] = {
    "identifier": Evaluator.identifier,
    "shorthand_property_identifier": Evaluator.identifier,
    "string": Evaluator.string,
    "template_string": Evaluator.string,
    "member_expression": Evaluator.member,
    "subscript_expression": Evaluator.member,
    "call_expression": Evaluator.call,
    "new_expression": Evaluator.new,
    "binary_expression": Evaluator.binary,
    "unary_expression": Evaluator.unary,
    "ternary_expression": Evaluator.ternary,
    "sequence_expression": Evaluator.last,
    "assignment_expression": Evaluator.assignment,
    "augmented_assignment_expression": Evaluator.assignment,
    "object": Evaluator.obj,
    "array": Evaluator._children,
    **dict.fromkeys(_PASS_THROUGH, Evaluator.passthrough),
    **dict.fromkeys(FUNCTIONS, Evaluator.function),
}
