"""Liquid/HTML data flow: shop objects rendered into inline scripts, data attributes and JSON
islands, followed through the inline JavaScript to the AI call; exposures; negatives."""

from __future__ import annotations

import pytest

from egressguard.model import Confidence
from tests.audit.dataflow.js_helpers import categories, flows, prepared

SECTION = "sections/ai-widget.liquid"
FETCH = (
    "fetch('https://api.openai.com/v1/chat/completions', {method: 'POST',"
    " body: JSON.stringify({messages: [{role: 'user', content: PAYLOAD}]})});"
)


def script(setup: str, payload: str) -> str:
    return f"<script>\n{setup}\n{FETCH.replace('PAYLOAD', payload)}\n</script>\n"


CASES = [
    ("customer-email", script("var e = {{ customer.email | json }};", "e"), {"customer_pii"}),
    ("cart-json", script("var c = {{ cart | json }};", "JSON.stringify(c)"), {"cart"}),
    (
        "string-literal",
        script("var n = '{{ customer.first_name | escape }}';", "'Hi ' + n"),
        {"customer_pii"},
    ),
    (
        "order-fields",
        script("var o = {{ order.line_items | json }};", "JSON.stringify(o)"),
        {"order", "customer_pii"},
    ),
    (
        "checkout-email",
        script("var x = {{ checkout.email | json }};", "x"),
        {"cart", "customer_pii"},
    ),
    ("search-terms", script("var q = {{ search.terms | json }};", "q"), {"shopper_text"}),
    ("product-copy", script("var t = {{ product.title | json }};", "t"), {"catalog"}),
    (
        "product-cost-metafield",
        script("var k = {{ product.metafields.custom.cost_price | json }};", "'' + k"),
        {"proprietary_pricing"},
    ),
    (
        "assign-tag",
        "{% assign who = customer.email %}\n" + script("var w = '{{ who }}';", "w"),
        {"customer_pii"},
    ),
    (
        "for-loop",
        "<script>var a = [];\n{% for addr in customer.addresses %}a.push({{ addr.city | json }});"
        "{% endfor %}\n" + FETCH.replace("PAYLOAD", "a.join()") + "\n</script>\n",
        {"customer_pii"},
    ),
    (
        "liquid-tags-inside-script",
        "<script>\nwindow.ctx = {\n{%- if customer -%}\nemail: {{ customer.email | json }},\n"
        "{%- endif -%}\n};\n"
        + FETCH.replace("PAYLOAD", "JSON.stringify(window.ctx)")
        + "\n</script>",
        {"customer_pii"},
    ),
    (
        "data-attribute",
        '<div id="w" data-customer-email="{{ customer.email }}"></div>\n'
        + script("var el = document.getElementById('w');", "el.dataset.customerEmail"),
        {"customer_pii"},
    ),
    (
        "json-island",
        '<script type="application/json" id="cart-data">{{ cart | json }}</script>\n'
        + script(
            "var c = JSON.parse(document.getElementById('cart-data').textContent);",
            "JSON.stringify(c)",
        ),
        {"cart"},
    ),
    (
        "typed-question",
        '<input id="q" name="question">\n'
        + script("var q = document.getElementById('q').value;", "q"),
        {"shopper_text"},
    ),
]


@pytest.mark.parametrize(("markup", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_liquid_flow(markup: str, expected: set[str]) -> None:
    assert categories(SECTION, markup) == expected


def test_trace_starts_at_the_liquid_output() -> None:
    markup = "<div></div>\n" + script("var e = {{ customer.email | json }};", "e")
    [flow] = flows(SECTION, markup)
    assert flow.steps[0].line == 3
    assert flow.steps[0].note == "source: {{ customer.email | json }} (customer_pii)"
    assert flow.steps[-1].note == "sent by fetch() to api.openai.com"
    assert flow.steps[-1].line == 4


NEGATIVES = [
    ("hashed", script("var e = {{ customer.email | sha256 | json }};", "e")),
    ("shop-object", script("var s = {{ shop.name | json }};", "s")),
    ("not-sent", script("var e = {{ customer.email | json }}; console.log(e);", "'hello'")),
    (
        "sent-elsewhere",
        "<script>var e = {{ customer.email | json }};\n"
        "fetch('/apps/analytics', {method: 'POST', body: e});\n"
        + FETCH.replace("PAYLOAD", "'tip'")
        + "\n</script>",
    ),
    ("comment", "{% comment %}{{ customer.email }}{% endcomment %}\n" + script("", "'x'")),
    ("visible-text-only", "<p>{{ customer.email }}</p>\n" + script("", "'x'")),
]


@pytest.mark.parametrize("markup", [n[1] for n in NEGATIVES], ids=[n[0] for n in NEGATIVES])
def test_no_liquid_flow(markup: str) -> None:
    assert flows(SECTION, markup) == []


def test_rendered_for_a_widget_is_an_exposure() -> None:
    markup = (
        '<div class="ai" data-endpoint="https://api.openai.com/v1/chat/completions"\n'
        '     data-customer="{{ customer.email }}" data-cart="{{ cart | json | escape }}"></div>\n'
        "<script src=\"{{ 'ai-widget.js' | asset_url }}\" defer></script>\n"
    )
    found = flows(SECTION, markup)
    assert {c.value for fl in found for c in fl.categories} == {"customer_pii", "cart"}
    assert all(fl.confidence is Confidence.MEDIUM for fl in found)
    assert all("rendered into HTML attribute" in fl.steps[-1].note for fl in found)


def test_plain_html_page() -> None:
    page = '<input id="email">\n' + script("var m = document.getElementById('email').value;", "m")
    assert categories("public/chat.html", page) == {"customer_pii"}


def test_broken_inline_script_is_partial() -> None:
    markup = script("var e = {{ customer.email | json }};", "e") + "<script>function (</script>"
    f = prepared(SECTION, markup)
    from egressguard.audit.dataflow import liquid
    from egressguard.catalog import load_catalog

    found = liquid.find_flows(f, load_catalog())
    assert {c.value for fl in found for c in fl.categories} == {"customer_pii"}
    assert any("inline script syntax error" in p for p in f.partial)
