"""JavaScript sinks: requests and SDK calls that carry shop data to an AI call site.

A call is a sink when a javascript.toml sink rule matches it AND it is tied to one of the
file's IntegrationSites (the endpoint analyser's AI calls):

    1. a site on a line of the URL expression (or, for SDK calls, of the receiver), or on a
       line that defines a name used there (`const OPENAI_URL = '…'`, `new OpenAI(…)`),
       followed through assignments a few levels deep                         high
    2. the URL is a constant (a literal, or names bound only to literals) or starts with one
       (`'/cart/add.js?' + q`): not an AI call                                 no sink
    3. a site inside the function that makes the call                          medium
    4. every site of the file names the same provider and host (rule 3 of the brief:
       "the file's only site"); not for generic names such as `invoke`         medium
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.js_eval import (
    Evaluator,
    args_of,
    args_text,
    line,
    member_path,
    split_path,
)
from egressguard.audit.dataflow.js_scope import FUNCTIONS, enclosing_function, text
from egressguard.audit.dataflow.js_value import NONE, Value, min_confidence
from egressguard.catalog.dataflow_schema import SinkKind, SinkRule
from egressguard.model import Confidence, IntegrationSite, TraceStep

_DEF_DEPTH = 4  # how far names in a URL or receiver are followed back to their definitions
_URL_KEYS = frozenset({"url", "baseURL", "baseUrl", "endpoint", "uri"})
_RECEIVER_HINT = 160  # characters of a receiver's definition given to the sink rule


@dataclass(frozen=True, slots=True)
class _Tie:
    site: IntegrationSite
    confidence: Confidence


def find_sink_flows(ev: Evaluator, sites: tuple[IntegrationSite, ...]) -> list[Flow]:
    flows: list[Flow] = []
    if not sites:
        return flows
    for call in ev.index.calls:
        if call.type != "call_expression":
            continue
        flows.extend(_sink_flows(ev, call, sites))
    return flows


def _sink_flows(ev: Evaluator, call: Node, sites: tuple[IntegrationSite, ...]) -> Iterator[Flow]:
    callee = call.child_by_field_name("function")
    path = member_path(callee) if callee is not None else None
    if callee is None or path is None:
        return
    receiver, name = split_path(path)
    rule = _rule(ev, callee, name, receiver, call)
    if rule is None:
        return
    payload = _payload(ev, rule, args_of(call))
    if not payload.origins:
        return
    tie = _tie(ev, rule, call, callee, sites)
    if tie is None:
        return
    sink = TraceStep(ev.ctx.rel, line(call), f"sent by {rule.label} to {tie.site.host}")
    for origin in payload.origins:
        confidence = min_confidence(
            min_confidence(origin.confidence, tie.confidence), rule.confidence
        )
        yield Flow(
            categories=frozenset({origin.category}),
            steps=(*origin.steps, sink),
            site=tie.site,
            source_line=origin.steps[0].line,
            confidence=confidence,
        )


def _rule(ev: Evaluator, callee: Node, name: str, receiver: str, call: Node) -> SinkRule | None:
    """The first sink rule matching the call's receiver path, or its definition then path
    ("new XMLHttpRequest() xhr")."""
    obj = callee.child_by_field_name("object") if callee.type == "member_expression" else None
    defined = _definition_text(ev, obj) if obj is not None else ""
    hints = (receiver, f"{defined} {receiver}") if defined else (receiver,)
    args = args_text(call)
    return next((s for s in ev.sinks if any(s.match.matches(name, h, args) for h in hints)), None)


def _definition_text(ev: Evaluator, node: Node) -> str:
    key = ev.index.key(_root(node))
    defs = ev.defs.get(key, []) if key is not None else []
    return " ".join(text(d)[:_RECEIVER_HINT] for d in defs[:4])


def _root(node: Node) -> Node:
    cur = node
    while cur.type in ("member_expression", "subscript_expression", "call_expression"):
        inner = cur.child_by_field_name("object") or cur.child_by_field_name("function")
        if inner is None:
            break
        cur = inner
    return cur


def _payload(ev: Evaluator, rule: SinkRule, args: list[Node]) -> Value:
    positions = rule.payload_args or tuple(range(len(args)))
    out = NONE
    for i in positions:
        if i >= len(args):
            continue
        arg = args[i]
        if arg.type == "object" and rule.payload_keys:
            out |= _keyed(ev, arg, rule.payload_keys)
        elif not (arg.type in ("string", "template_string") and i == rule.url_arg):
            out |= ev.value(arg)
    return out


def _keyed(ev: Evaluator, obj: Node, keys: tuple[str, ...]) -> Value:
    out = NONE
    for child in obj.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            value = child.child_by_field_name("value")
            if key is not None and value is not None and text(key).strip("'\"") in keys:
                out |= ev.value(value)
        elif child.type == "spread_element" or (
            child.type == "shorthand_property_identifier" and text(child) in keys
        ):
            out |= ev.value(child)
    return out


# --- tying a sink to an AI call site -------------------------------------------------------


def _tie(
    ev: Evaluator,
    rule: SinkRule,
    call: Node,
    callee: Node,
    sites: tuple[IntegrationSite, ...],
) -> _Tie | None:
    by_line = {s.line: s for s in sites}
    anchor = _anchor(ev, rule, call, callee)
    lines = _lines(ev, anchor) if anchor is not None else set()
    lines.add(line(call))
    receiver = callee.child_by_field_name("object") if callee.type == "member_expression" else None
    if receiver is not None and rule.kind is not SinkKind.SDK_CALL:
        lines |= _lines(ev, receiver)  # an instance made with a base URL: axios.create({…})
    here = line(call)  # the call's own site first (each SDK call is a site of its own)
    hit = by_line.get(here) or next((by_line[n] for n in sorted(lines) if n in by_line), None)
    if hit is not None:
        return _Tie(hit, Confidence.HIGH)
    if rule.kind is not SinkKind.SDK_CALL and (anchor is None or _constant_url(ev, anchor)):
        return None
    fn = enclosing_function(call)
    if fn is not None:
        lo, hi = fn.start_point.row + 1, fn.end_point.row + 1
        inside = [s for s in sites if lo <= s.line <= hi]
        if inside:
            return _Tie(inside[0], Confidence.MEDIUM)
    if rule.confidence is not Confidence.HIGH:
        return None
    if len({(s.provider, s.host) for s in sites}) == 1:
        return _Tie(min(sites, key=lambda s: abs(s.line - line(call))), Confidence.MEDIUM)
    return None


def _anchor(ev: Evaluator, rule: SinkRule, call: Node, callee: Node) -> Node | None:
    """The expression that says where a call goes: its URL, or the SDK client."""
    if rule.kind is SinkKind.SDK_CALL:
        return (
            callee.child_by_field_name("object") if callee.type == "member_expression" else callee
        )
    if rule.url_arg is None:
        return _receiver_url(ev, callee)
    args = args_of(call)
    if rule.url_arg >= len(args):
        return None
    arg = args[rule.url_arg]
    if arg.type == "object":
        return _url_in_object(arg)
    return arg


def _url_in_object(obj: Node) -> Node | None:
    for child in obj.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            if key is not None and text(key).strip("'\"") in _URL_KEYS:
                return child.child_by_field_name("value")
        elif child.type == "shorthand_property_identifier" and text(child) in _URL_KEYS:
            return child
    return None


def _receiver_url(ev: Evaluator, callee: Node) -> Node | None:
    """`xhr.send(…)`: the URL of `xhr.open(method, url)`; `ws.send(…)`: `new WebSocket(url)`."""
    obj = callee.child_by_field_name("object") if callee.type == "member_expression" else None
    key = ev.index.key(obj) if obj is not None else None
    if key is None:
        return None
    for other in ev.index.calls:
        fn = other.child_by_field_name("function")
        if fn is None or fn.type != "member_expression":
            continue
        prop = fn.child_by_field_name("property")
        target = fn.child_by_field_name("object")
        if prop is None or text(prop) != "open" or target is None:
            continue
        if ev.index.key(target) == key:
            args = args_of(other)
            return args[1] if len(args) > 1 else None
    for value in ev.defs.get(key, []):
        if value.type == "new_expression":
            args = args_of(value)
            return args[0] if args else None
    return None


def _lines(ev: Evaluator, node: Node) -> set[int]:
    """Lines of an expression and of the definitions of the names it uses (a few levels)."""
    out: set[int] = set()
    frontier = [node]
    seen: set[int] = set()
    for _ in range(_DEF_DEPTH):
        nxt: list[Node] = []
        for cur in frontier:
            if cur.id in seen:
                continue
            seen.add(cur.id)
            out.update(range(cur.start_point.row + 1, cur.end_point.row + 2))
            nxt.extend(_definitions(ev, cur))
        frontier = nxt
    return out


def _definitions(ev: Evaluator, node: Node) -> Iterator[Node]:
    stack = [node]
    budget = 200
    while stack and budget:
        cur = stack.pop()
        budget -= 1
        key = ev.index.key(cur) if cur.type != "call_expression" else None
        if key is not None:
            yield from ev.defs.get(key, [])
            if cur.type != "identifier":
                obj = cur.child_by_field_name("object")
                if obj is not None:
                    stack.append(obj)
            continue
        if cur.type not in FUNCTIONS:
            stack.extend(cur.named_children)


def _constant_url(ev: Evaluator, node: Node) -> bool:
    """A URL that is a literal, starts with one, or names only literals: no AI site there."""
    cur = node
    for _ in range(_DEF_DEPTH):
        if cur.type == "string":
            return True
        if cur.type == "template_string":
            first = cur.named_children[0] if cur.named_children else None
            return first is None or first.type != "template_substitution"
        if cur.type == "binary_expression":
            left = cur.child_by_field_name("left")
            if left is None:
                return False
            cur = left
            continue
        key = ev.index.key(cur) if cur.type == "identifier" else None
        defs = ev.defs.get(key, []) if key is not None else []
        if len(defs) != 1:
            return False
        cur = defs[0]
    return False
