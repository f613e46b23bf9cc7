"""PHP sinks: a call that php.toml says sends data, tied to an AI call site of the file.

A sink counts only when it can be tied to an IntegrationSite found by the endpoint analyser:
    1. a site on the call's own lines (a literal URL, a URL constant used there, an SDK client)
    2. the URL argument resolved: `self::ENDPOINT` / `static::URL` -> the constant's line,
       `$url` -> the line it was assigned on, `$base . '/v1'` -> its left-most part; a literal
       URL with no AI host there means the call is NOT an AI call (a webhook, an ERP)
    3. a site in the enclosing method (nearest line)
    4. one endpoint in the enclosing class, else one endpoint in the whole file
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.php_taint import EMPTY, Taint, union, weakest
from egressguard.catalog.dataflow_rules import SinkRule
from egressguard.catalog.dataflow_schema import SinkKind
from egressguard.model import IntegrationSite, TraceStep

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
    if rule is None or (rule.kind in _FUNCTION_SINKS) == is_method:
        return
    payload = _payload(w, rule, args, taints)
    if not payload:
        return
    site = site_for(w, node, rule, args)
    if site is None:
        return
    call = f"->{name}()" if is_method else f"{name}()"
    sink = TraceStep(w.f.ctx.rel, A.line(node), f"sent by {rule.label} {call} to {site.host}")
    for label in payload:
        key = (sink.file, sink.line, label.source.file, label.source.line, label.source.note)
        flow = Flow(
            categories=label.categories,
            steps=(*label.steps, sink),
            site=site,
            source_line=label.source.line,
            confidence=weakest(label.confidence, rule.confidence),
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


def site_for(w: Walker, node: Node, rule: SinkRule, args: list[Node]) -> IntegrationSite | None:
    sites = w.f.ctx.sites
    if not sites:
        return None
    lo, hi = A.line(node), A.end_line(node)
    same = [s for s in sites if lo <= s.line <= hi]
    if same:
        return same[0]
    if rule.url_arg is not None and rule.url_arg < len(args):
        verdict = _url_site(w, args[rule.url_arg], sites, 0)
        if isinstance(verdict, IntegrationSite) or verdict is Verdict.NOT_AI:
            return verdict if isinstance(verdict, IntegrationSite) else None
    return _scoped_site(w, lo, sites)


def _on_line(sites: tuple[IntegrationSite, ...], node: Node) -> IntegrationSite | None:
    lo, hi = A.line(node), A.end_line(node)
    return next((s for s in sites if lo <= s.line <= hi), None)


def _url_site(
    w: Walker, url: Node, sites: tuple[IntegrationSite, ...], depth: int
) -> IntegrationSite | Verdict:
    site = _on_line(sites, url)
    if site is not None:
        return site
    if depth > _URL_DEPTH:
        return Verdict.UNKNOWN
    if A.string_value(url) is not None:
        return Verdict.NOT_AI
    kind = url.type
    if kind == "class_constant_access_expression":
        return _constant_site(w, url, sites, depth)
    if kind == "variable_name":
        origin = w.f.origins.get(A.text(url))
        return _url_site(w, origin, sites, depth + 1) if origin is not None else Verdict.UNKNOWN
    if kind in ("binary_expression", "encapsed_string", "parenthesized_expression"):
        first = url.named_children[0] if url.named_children else None
        if first is not None and first.type == "string_content":
            return Verdict.NOT_AI if "://" in A.text(first) else Verdict.UNKNOWN
        return _url_site(w, first, sites, depth + 1) if first is not None else Verdict.UNKNOWN
    return Verdict.UNKNOWN


def _constant_site(
    w: Walker, access: Node, sites: tuple[IntegrationSite, ...], depth: int
) -> IntegrationSite | Verdict:
    parts = access.named_children
    scope = A.text(parts[0]) if parts else ""
    klass = w.f.klass
    if klass is None or scope not in ("self", "static", klass.name) or len(parts) < 2:
        return Verdict.UNKNOWN
    value = klass.constants.get(A.text(parts[-1]))
    return _url_site(w, value, sites, depth + 1) if value is not None else Verdict.UNKNOWN


def _scoped_site(
    w: Walker, line: int, sites: tuple[IntegrationSite, ...]
) -> IntegrationSite | None:
    function = w.f.function
    inside = [s for s in sites if A.line(function) <= s.line <= A.end_line(function)]
    if inside:
        return min(inside, key=lambda s: abs(s.line - line))
    klass = w.f.klass
    if klass is not None:
        in_class = [s for s in sites if A.line(klass.node) <= s.line <= A.end_line(klass.node)]
        if in_class and len({(s.provider, s.host) for s in in_class}) == 1:
            return min(in_class, key=lambda s: abs(s.line - line))
    if len({(s.provider, s.host) for s in sites}) == 1:
        return sites[0]
    return None
