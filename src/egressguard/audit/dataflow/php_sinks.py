"""PHP sinks: a call that php.toml says sends data, tied to an AI call site of the file.

A sink counts only when it can be tied to an IntegrationSite found by the endpoint analyser:
    1. a site on the call's own lines (a literal URL, a URL constant used there, an SDK client)
    2. the URL argument resolved: `self::ENDPOINT` / `static::URL` -> the constant's line,
       `$url` -> the line it was assigned on, `$base . '/v1'` -> its left-most part; a literal
       URL with no AI host there means the call is NOT an AI call (a webhook, an ERP)
    3. a site in the enclosing method (nearest line)
    4. one endpoint in the enclosing class, else one endpoint in the whole file
    5. in a method inherited from the parent class: the object's own class's one endpoint
The URL is followed through `$this->getEndpointUrl()` (the method's returns) and
`$this->endpointUrl` (the property's declared default) for the object's class or the class it
extends, so a subclass's endpoint property reaches the parent's curl call; curl's URL is the
one given to curl_init()/CURLOPT_URL in the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.php_sdk import receiver_sdk
from egressguard.audit.dataflow.php_symbols import FileUnit
from egressguard.audit.dataflow.php_taint import EMPTY, Taint, in_order, union, weakest
from egressguard.catalog.dataflow_rules import SinkRule
from egressguard.catalog.dataflow_schema import SinkKind
from egressguard.model import Confidence, IntegrationSite, TraceStep

if TYPE_CHECKING:
    from egressguard.audit.dataflow.php_eval import Walker

_FUNCTION_SINKS = frozenset({SinkKind.CURL_OPTION, SinkKind.STREAM_CONTEXT})
_URL_DEPTH = 4


class Verdict(Enum):
    NOT_AI = "not-ai"
    UNKNOWN = "unknown"


def check(
    w: Walker,
    node: Node,
    name: str,
    hint: str,
    args: list[Node],
    taints: list[Taint],
    is_method: bool,
) -> None:
    """Record a flow for every label that reaches this call's payload, if it is an AI sink."""
    rule = w.an.php.sink(name, hint, A.arguments_text(node))
    if rule is None and is_method:
        _sdk_client_call(w, node, name, taints)
        return
    if rule is None or (rule.kind in _FUNCTION_SINKS) == is_method:
        return
    payload = _payload(w, rule, args, taints)
    if not payload:
        return
    located = site_for(w, node, rule, args)
    if located is not None:
        call = f"->{name}()" if is_method else f"{name}()"
        _record(w, node, payload, located, f"{rule.label} {call}", rule.confidence)


def _sdk_client_call(w: Walker, node: Node, name: str, taints: list[Taint]) -> None:
    """`$this->client->detectFraud($data)` on an SDK client known by its declared type
    (php_sdk.py): every argument is payload; the site is the call's own."""
    payload = union(*taints)
    if not payload:
        return
    match = receiver_sdk(w.an.index, w.an.catalog, w.f.state, node)
    located = _on_line(_Where(w.f.ctx.rel, w.f.ctx.sites), node) if match is not None else None
    if match is not None and located is not None:
        _record(w, node, payload, located, f"{match.sdk.package} ->{name}()", Confidence.HIGH)


def _record(
    w: Walker, node: Node, payload: Taint, located: Located, what: str, confidence: Confidence
) -> None:
    site = located.site
    sink = TraceStep(w.f.ctx.rel, A.line(node), f"sent by {what} to {site.host}")
    for label in in_order(payload):  # the first path recorded for a source is its trace
        key = (
            sink.file,
            sink.line,
            label.source.file,
            label.source.line,
            label.source.note,
            located.rel,
            site.line,
        )
        flow = Flow(
            categories=label.categories,
            steps=(*label.steps, sink),
            site=site,
            source_line=label.source.line,
            confidence=weakest(weakest(label.confidence, confidence), site.confidence),
            site_file=located.rel,
        )
        w.an.flows.setdefault(key, flow)


def _payload(w: Walker, rule: SinkRule, args: list[Node], taints: list[Taint]) -> Taint:
    positions = rule.payload_args or tuple(range(len(args)))
    found: list[Taint] = []
    for i in positions:
        if i >= len(args):
            continue
        if rule.payload_keys and args[i].type == "array_creation_expression":
            found.append(_keyed(w, args[i], frozenset(rule.payload_keys)))
        else:
            found.append(taints[i])
    return union(*found)


def _keyed(w: Walker, array: Node, keys: frozenset[str]) -> Taint:
    """Taint under the payload keys of an options array (nested arrays searched)."""
    found: list[Taint] = []
    for element in array.named_children:
        parts = element.named_children
        if element.type != "array_element_initializer" or len(parts) < 2:
            continue
        key_node, value = parts[0], parts[-1]
        key = A.string_value(key_node) or A.text(key_node).lstrip("\\")
        if key in keys:
            found.append(w.element(element, key_node, value))
        elif value.type == "array_creation_expression":
            found.append(_keyed(w, value, keys))
    return union(*found) if found else EMPTY


@dataclass(frozen=True, slots=True)
class Located:
    """An AI call site and the file it is in (the URL may live in another file: a subclass's
    endpoint property read by an inherited request helper)."""

    rel: str
    site: IntegrationSite


@dataclass(frozen=True, slots=True)
class _Where:
    """The file a URL expression is read in, with its AI call sites."""

    rel: str
    sites: tuple[IntegrationSite, ...]


def site_for(w: Walker, node: Node, rule: SinkRule, args: list[Node]) -> Located | None:
    here = _Where(w.f.ctx.rel, w.f.ctx.sites)
    lo, hi = A.line(node), A.end_line(node)
    same = [s for s in here.sites if lo <= s.line <= hi]
    if same:
        return Located(here.rel, same[0])
    url = _url_node(w, node, rule, args)
    if url is not None:
        verdict = _url_site(w, url, here, 0)
        if isinstance(verdict, Located):
            return verdict
        if verdict is Verdict.NOT_AI:
            return None
    return _scoped_site(w, lo, here) or _runtime_class_site(w, lo)


def _url_node(w: Walker, node: Node, rule: SinkRule, args: list[Node]) -> Node | None:
    """The URL expression of a request: the rule's URL argument, or for curl the URL given to
    curl_init()/CURLOPT_URL in the same function."""
    if rule.url_arg is not None:
        return args[rule.url_arg] if rule.url_arg < len(args) else None
    if rule.kind is not SinkKind.CURL_OPTION:
        return None
    for call in A.walk(w.f.function, frozenset({"function_call_expression"})):
        name, found = A.call_name(call), A.arguments(call)
        if name == "curl_init" and found:
            return found[0]
        if name == "curl_setopt" and len(found) == 3 and A.text(found[1]) == "CURLOPT_URL":
            return found[2]
    return None


def _on_line(where: _Where, node: Node) -> Located | None:
    lo, hi = A.line(node), A.end_line(node)
    site = next((s for s in where.sites if lo <= s.line <= hi), None)
    return Located(where.rel, site) if site is not None else None


def _url_site(w: Walker, url: Node, where: _Where, depth: int) -> Located | Verdict:
    site = _on_line(where, url)
    if site is not None:
        return site
    if depth > _URL_DEPTH:
        return Verdict.UNKNOWN
    if A.string_value(url) is not None:
        return Verdict.NOT_AI
    kind = url.type
    if kind == "class_constant_access_expression":
        return _constant_site(w, url, where, depth)
    if kind == "variable_name":
        origin = w.f.origins.get(A.text(url)) if where.rel == w.f.ctx.rel else None
        return _url_site(w, origin, where, depth + 1) if origin is not None else Verdict.UNKNOWN
    if kind in A.MEMBER_READS and A.this_property(url) is not None:
        return _property_site(w, A.this_property(url) or "", depth)
    if kind in A.METHOD_CALLS and A.text(A.call_object(url)) == "$this" and not A.arguments(url):
        return _returned_site(w, A.call_name(url), depth)
    if kind in ("binary_expression", "encapsed_string", "parenthesized_expression"):
        first = url.named_children[0] if url.named_children else None
        if first is not None and first.type == "string_content":
            return Verdict.NOT_AI if "://" in A.text(first) else Verdict.UNKNOWN
        return _url_site(w, first, where, depth + 1) if first is not None else Verdict.UNKNOWN
    return Verdict.UNKNOWN


def _where(w: Walker, unit: FileUnit) -> _Where:
    if unit.rel == w.f.ctx.rel:
        return _Where(unit.rel, w.f.ctx.sites)
    index = w.an.index
    return _Where(unit.rel, index.sites(unit, w.an.catalog) if index is not None else ())


def _property_site(w: Walker, prop: str, depth: int) -> Located | Verdict:
    """`$this->endpointUrl`: the default the object's class (or the class it extends)
    declares for the property."""
    for unit, info in w.f.state.lineage(w.an.index):
        value = info.defaults.get(prop)
        if value is not None:
            return _url_site(w, value, _where(w, unit), depth + 1)
    return Verdict.UNKNOWN


def _returned_site(w: Walker, name: str, depth: int) -> Located | Verdict:
    """`$this->getEndpointUrl()`: what the method returns (for the object's class)."""
    found = w.f.state.method(w.an.index, name)
    body = A.body(found[2]) if found is not None else None
    if found is None or body is None:
        return Verdict.UNKNOWN
    where = _where(w, found[0])
    verdicts = [
        _url_site(w, r.named_children[0], where, depth + 1)
        for r in A.walk(body, frozenset({"return_statement"}))
        if r.named_children
    ]
    located = next((v for v in verdicts if isinstance(v, Located)), None)
    if located is not None:
        return located
    return (
        Verdict.NOT_AI
        if verdicts and all(v is Verdict.NOT_AI for v in verdicts)
        else (Verdict.UNKNOWN)
    )


def _constant_site(w: Walker, access: Node, where: _Where, depth: int) -> Located | Verdict:
    parts = access.named_children
    scope = A.text(parts[0]) if parts else ""
    if len(parts) < 2:
        return Verdict.UNKNOWN
    for unit, info in w.f.state.lineage(w.an.index):
        if scope not in ("self", "static", "parent", info.name):
            continue
        value = info.constants.get(A.text(parts[-1]))
        if value is not None:
            return _url_site(w, value, _where(w, unit), depth + 1)
    return Verdict.UNKNOWN


def _scoped_site(w: Walker, line: int, here: _Where) -> Located | None:
    sites = here.sites
    if not sites:
        return None
    function = w.f.function
    inside = [s for s in sites if A.line(function) <= s.line <= A.end_line(function)]
    if inside:
        return Located(here.rel, min(inside, key=lambda s: abs(s.line - line)))
    klass = w.f.klass
    if klass is not None and w.f.state.unit is not None and w.f.state.unit.rel == here.rel:
        in_class = [s for s in sites if A.line(klass.node) <= s.line <= A.end_line(klass.node)]
        if in_class and len({(s.provider, s.host) for s in in_class}) == 1:
            return Located(here.rel, min(in_class, key=lambda s: abs(s.line - line)))
    if len({(s.provider, s.host) for s in sites}) == 1:
        return Located(here.rel, sites[0])
    return None


def _runtime_class_site(w: Walker, line: int) -> Located | None:
    """Inherited code whose URL is not knowable here: the object's own class's endpoint, when
    that class has exactly one."""
    unit, klass = w.f.state.unit, w.f.klass
    if unit is None or klass is None or unit.rel == w.f.ctx.rel:
        return None
    sites = _where(w, unit).sites
    in_class = [s for s in sites if A.line(klass.node) <= s.line <= A.end_line(klass.node)]
    if in_class and len({(s.provider, s.host) for s in in_class}) == 1:
        return Located(unit.rel, in_class[0])
    return None
