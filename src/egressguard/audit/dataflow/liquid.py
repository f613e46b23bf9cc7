"""Data flows in Shopify Liquid (and plain HTML) templates with a browser-side AI call.

1. liquid_markup finds every `{{ … }}` output and where it sits. Outputs of shop objects
   (liquid.toml: customer, cart, checkout, order …; loop variables and `assign`/`capture`
   follow them) are shop data; a hashing filter (`| sha256`) cuts them.
2. The inline scripts become one JavaScript program on the template's own lines, each output
   replaced by a placeholder identifier, and javascript.flows_in_tree follows them to the AI
   call: `{{ customer.email }}` -> `window.ctx = {…}` -> `fetch(…)` is one trace whose source
   is the Liquid output. `data-*` attributes and JSON data islands
   (`<script type="application/json" id="cart-data">`) are read back through
   `el.dataset.x`, `getAttribute('data-x')` and `getElementById('cart-data').textContent`.
3. When the AI call is not made by the template's own inline code (a widget script, a
   `data-endpoint` attribute), shop data rendered into a script or attribute is still a flow
   to the browser (issue 3, item 6): it is reported against the template's browser-side AI
   call site, with medium confidence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from egressguard.audit.analysers.lexical import code_view
from egressguard.audit.dataflow import javascript
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.js_value import NONE, Value, source
from egressguard.audit.dataflow.liquid_markup import Markup, Output, js_source, scan
from egressguard.audit.dataflow.parse import parse
from egressguard.catalog.dataflow_rules import DataflowRules, load_dataflow_rules
from egressguard.catalog.dataflow_schema import SinkKind, SourceKind
from egressguard.model import (
    Confidence,
    DataCategory,
    IntegrationSite,
    Language,
    RunsIn,
    TraceStep,
)

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

PLACEHOLDER = re.compile(r"_lq\d+_")
_PATH = re.compile(r"^\s*([A-Za-z_][\w-]*(?:\s*(?:\.[\w-]+|\[[^\]]{0,80}\]))*)")
_SUBSCRIPT = re.compile(r"""\[\s*['"]([\w-]+)['"]\s*\]|\[[^\]]*\]""")
_ASSIGN = re.compile(r"^(?:assign|capture)\s+([\w-]+)\s*(?:=\s*(.*))?$", re.DOTALL)
_FOR = re.compile(r"^for\s+([\w-]+)\s+in\s+(.+?)(?:\s+(?:limit|offset|reversed)\b.*)?$", re.DOTALL)
_END_CAPTURE = re.compile(r"^endcapture\b")
# Liquid filters that hash (sanitizers.toml has no Liquid entry; its hash rules are per
# language, so these are checked as well).
HASH_FILTERS = frozenset({"md5", "sha1", "sha256", "hmac_sha1", "hmac_sha256"})
# Categories a field name adds to an object's own (`order.email`, `product...cost_price`).
_SEVERE = frozenset(
    {DataCategory.CUSTOMER_PII, DataCategory.PAYMENT, DataCategory.PROPRIETARY_PRICING}
)
_SNIPPET = 60


def find_flows(f: SourceFile, catalog: Catalog) -> list[Flow]:
    """Shop data from Liquid outputs (and inline scripts) reaching the template's AI calls."""
    if not f.sites:
        return []
    if len(f.data) > javascript.MAX_BYTES:
        f.partial.append(javascript.TOO_LARGE)
        return []
    text = code_view(f.text, f.language).code
    markup = scan(text)
    rules = load_dataflow_rules()
    values = _output_values(f, text, markup, rules)
    placeholder = {o.start: f"_lq{i}_" for i, o in enumerate(markup.outputs) if o.place == "script"}
    by_name = {
        placeholder[o.start]: values.get(o.start, NONE)
        for o in markup.outputs
        if o.start in placeholder
    }
    program = js_source(text, markup, placeholder)
    flows: list[Flow] = []
    if program.strip(" \n;"):
        tree = parse(Language.JAVASCRIPT, program.encode("utf-8", "surrogatepass"))
        javascript.note_syntax_error(f, tree, "inline script")
        flows, truncated = javascript.flows_in_tree(
            tree, f.rel, f.sites, text, by_name, PLACEHOLDER, _attributes(f, markup, values)
        )
        if truncated:
            f.partial.append(javascript.TRUNCATED)
    return flows + _exposures(f, markup, values, flows, rules)


# --- what each output carries ---------------------------------------------------------------


def _output_values(
    f: SourceFile, text: str, markup: Markup, rules: DataflowRules
) -> dict[int, Value]:
    """Offset of each output -> the shop data it renders, following assign/capture/for."""
    env: dict[str, Value] = {}
    out: dict[int, Value] = {}
    events = sorted(
        [(o.start, o) for o in markup.outputs] + [(t.start, t) for t in markup.tags],
        key=lambda e: e[0],
    )
    capture: tuple[str, Value] | None = None
    for offset, item in events:
        if isinstance(item, Output):
            value = _expression(f, offset, item.expr, env, rules)
            out[offset] = value
            if capture is not None:
                capture = (capture[0], capture[1] | value)
            continue
        body = item.body
        if _END_CAPTURE.match(body) and capture is not None:
            env[capture[0]] = capture[1]
            capture = None
            continue
        assign = _ASSIGN.match(body)
        loop = _FOR.match(body)
        if assign is not None and assign.group(2) is None and body.startswith("capture"):
            capture = (assign.group(1), NONE)
        elif assign is not None and assign.group(2) is not None:
            env[assign.group(1)] = _expression(f, offset, assign.group(2), env, rules)
        elif loop is not None:
            env[loop.group(1)] = _expression(f, offset, loop.group(2), env, rules)
    return out


def _expression(
    f: SourceFile, offset: int, expr: str, env: dict[str, Value], rules: DataflowRules
) -> Value:
    head, *filters = _split_filters(expr)
    if any(_hashes(flt, rules) for flt in filters):
        return NONE
    m = _PATH.match(head)
    if m is None:
        return NONE
    path = _SUBSCRIPT.sub(lambda s: f".{s.group(1)}" if s.group(1) else "", m.group(1))
    path = re.sub(r"\s+", "", path)
    line = f.line_of(offset)
    root, _, rest = path.partition(".")
    if root in env:
        carried = env[root]
        step = TraceStep(f.rel, line, f"via {{{{ {_short(expr)} }}}}")
        return carried.hop(step) | _field(f, line, path, rest, carried, rules)
    return _object(f, line, path, expr, rules)


def _object(f: SourceFile, line: int, path: str, expr: str, rules: DataflowRules) -> Value:
    rule = next(
        (
            r
            for r in rules.language("liquid").sources
            if r.kind is SourceKind.LIQUID_OBJECT and r.match.matches(path)
        ),
        None,
    )
    if rule is None:
        return NONE
    out = NONE
    shown = f"{{{{ {_short(expr)} }}}}"
    for cat in sorted(rule.categories):
        out |= source(cat, TraceStep(f.rel, line, f"source: {shown} ({cat})"), rule.confidence)
    return out | _field(f, line, path, path.rpartition(".")[2], out, rules)


def _field(
    f: SourceFile, line: int, path: str, rest: str, base: Value, rules: DataflowRules
) -> Value:
    """A severe category the last field name adds (`order.email` is also customer PII)."""
    name = rest.rpartition(".")[2]
    if not base or not name:
        return NONE
    rule = rules.classify_field(name)
    if rule is None or rule.category not in _SEVERE or rule.category in base.categories:
        return NONE
    return source(
        rule.category, TraceStep(f.rel, line, f"source: {path} ({rule.category})"), Confidence.HIGH
    )


def _split_filters(expr: str) -> list[str]:
    return [part.strip() for part in re.split(r"\|(?=(?:[^'\"]|'[^']*'|\"[^\"]*\")*$)", expr)]


def _hashes(flt: str, rules: DataflowRules) -> bool:
    name = flt.split(":", 1)[0].strip()
    return name in HASH_FILTERS or rules.sanitizer(name, False, "liquid") is not None


def _short(expr: str) -> str:
    s = " ".join(expr.split())
    return s if len(s) <= _SNIPPET else s[: _SNIPPET - 1] + "…"


# --- attributes and data islands, read back by the scripts ----------------------------------


def _attributes(f: SourceFile, markup: Markup, values: dict[int, Value]) -> dict[str, Value]:
    """dataset name (`data-cart-items` -> `cartItems`) or `#id` of a JSON island -> value."""
    out: dict[str, Value] = {}
    for o in markup.outputs:
        value = values.get(o.start, NONE)
        if not value.origins:
            continue
        if o.place == "attribute" and o.attribute.startswith("data-"):
            key = _camel(o.attribute[5:])
        elif o.place == "data" and o.attribute:
            key = f"#{o.attribute}"
        else:
            continue
        note = f"rendered into {o.attribute}"
        out[key] = out.get(key, NONE) | value.hop(TraceStep(f.rel, f.line_of(o.start), note))
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# --- rendered for the browser, not (visibly) sent ------------------------------------------


def _exposures(
    f: SourceFile, markup: Markup, values: dict[int, Value], flows: list[Flow], rules: DataflowRules
) -> list[Flow]:
    site = _browser_site(f.sites)
    if site is None or _in_inline_script(f, markup, site):
        return []  # the template's own code makes the call: its trace is the whole story
    traced = {fl.steps[0] for fl in flows if fl.steps}
    covered = {  # categories a traced request already sends from a Liquid output
        (c, fl.site) for fl in flows if fl.steps and "{{" in fl.steps[0].note for c in fl.categories
    }
    labels = {s.id: s.label for s in rules.language("liquid").sinks if s.kind is SinkKind.RENDER}
    out: list[Flow] = []
    for o in markup.outputs:
        if o.place == "text":
            continue
        label = labels.get(
            "liquid-script" if o.place in ("script", "data") else "liquid-data-attribute", o.place
        )
        for origin in values.get(o.start, NONE).origins:
            if origin.steps[0] in traced or (origin.category, site) in covered:
                continue
            sink = TraceStep(
                f.rel,
                site.line,
                f"rendered into {label} for the browser-side AI call to {site.host}",
            )
            out.append(
                Flow(
                    categories=frozenset({origin.category}),
                    steps=(*origin.steps, sink),
                    site=site,
                    source_line=origin.steps[0].line,
                    confidence=Confidence.MEDIUM,
                )
            )
    return out


def _in_inline_script(f: SourceFile, markup: Markup, site: IntegrationSite) -> bool:
    return any(
        s.code and f.line_of(s.start) <= site.line <= f.line_of(s.end) for s in markup.scripts
    )


def _browser_site(sites: tuple[IntegrationSite, ...]) -> IntegrationSite | None:
    browser = [s for s in sites if s.runs_in is RunsIn.BROWSER]
    return min(browser or sites, key=lambda s: s.line) if sites else None
