"""JavaScript/TypeScript data flow: every source family, sink family, propagation form and
sanitiser, with negatives (no sink, constants only, sanitised, non-AI requests)."""

from __future__ import annotations

import pytest

from egressguard.model import Confidence
from tests.audit.dataflow.js_helpers import AI, categories, flows, prepared

JS = "view/frontend/web/js/widget.js"

# (id, code after the AI URL constant, expected categories)
SOURCES = [
    (
        "customer-data-section",
        "var c = customerData.get('customer')(); fetch(AI, {body: c.fullname});",
        {"customer_pii"},
    ),
    (
        "customer-data-cart-subscribe",
        "customerData.get('cart').subscribe(function (cart) {"
        " fetch(AI, {method: 'POST', body: JSON.stringify(cart.items)}); });",
        {"cart"},
    ),
    (
        "checkout-config",
        "fetch(AI, {body: JSON.stringify(window.checkoutConfig.customerData)});",
        {"customer_pii"},
    ),
    (
        "checkout-config-quote",
        "var q = window.checkoutConfig.quoteData; fetch(AI, {body: q.grand_total});",
        {"cart"},
    ),
    (
        "quote-model-address",
        "var a = quote.billingAddress(); fetch(AI, {body: a.street.join(' ')});",
        {"customer_pii"},
    ),
    ("quote-model-totals", "fetch(AI, {body: JSON.stringify(quote.totals())});", {"cart"}),
    ("jquery-field", "var e = $('#email').val(); fetch(AI, {body: e});", {"customer_pii"}),
    (
        "dom-named-field",
        "fetch(AI, {body: document.querySelector('[name=\"telephone\"]').value});",
        {"customer_pii"},
    ),
    (
        "textarea",
        "const q = document.querySelector('textarea.chat').value; fetch(AI, {body: q});",
        {"shopper_text"},
    ),
    (
        "form-elements",
        "form.addEventListener('submit', (e) => {"
        " fetch(AI, {body: e.target.elements.question.value}); });",
        {"shopper_text"},
    ),
    (
        "form-data",
        "const fd = new FormData(document.getElementById('ask')); fetch(AI, {body: fd});",
        {"shopper_text"},
    ),
    (
        "mage-cache-storage",
        "var s = JSON.parse(localStorage.getItem('mage-cache-storage'));"
        " fetch(AI, {body: JSON.stringify(s.cart)});",
        {"customer_pii", "cart"},
    ),
    (
        "checkout-ui-hooks",
        "function Ext() { const email = useEmail(); const lines = useCartLines();"
        " fetch(AI, {body: JSON.stringify({email, lines})}); }",
        {"customer_pii", "cart"},
    ),
    (
        "shipping-address-hook",
        "const addr = useShippingAddress(); fetch(AI, {body: `Ship to ${addr.city}`});",
        {"customer_pii"},
    ),
    (
        "web-pixel",
        "analytics.subscribe('checkout_completed', (event) => {"
        " fetch(AI, {body: event.data.checkout.email}); });",
        {"order", "customer_pii"},
    ),
    (
        "webhook-route",
        "app.post('/webhooks/orders/create', (req, res) => {"
        " fetch(AI, {body: JSON.stringify(req.body)}); });",
        {"order"},
    ),
    (
        "webhook-add-handlers",
        "shopify.webhooks.addHandlers({CUSTOMERS_CREATE: {deliveryMethod: 'http',"
        " callback: async (topic, shop, body) => { fetch(AI, {body}); }}});",
        {"customer_pii"},
    ),
    (
        "webhook-authenticate",
        "export const action = async ({request}) => {"
        " const {topic, payload} = await authenticate.webhook(request);"
        " if (topic === 'ORDERS_PAID') { await fetch(AI, {body: JSON.stringify(payload)}); } };",
        {"order"},
    ),
    (
        "graphql-selection",
        "const Q = `#graphql\nquery { customers(first: 5) { edges { node { email firstName"
        " defaultAddress { address1 } } } } }`;\n"
        "async function run(admin) { const res = await admin.graphql(Q);"
        " const data = await res.json(); await fetch(AI, {body: JSON.stringify(data)}); }",
        {"customer_pii"},
    ),
    (
        "shopify-ajax-cart",
        "async function go() { const cart = await (await fetch('/cart.js')).json();"
        " await fetch(AI, {body: JSON.stringify(cart.items)}); }",
        {"cart"},
    ),
]


@pytest.mark.parametrize(
    ("code", "expected"), [s[1:] for s in SOURCES], ids=[s[0] for s in SOURCES]
)
def test_source_family(code: str, expected: set[str]) -> None:
    assert categories(JS, AI + code) == expected


SINKS = [
    ("fetch", "fetch(AI, {method: 'POST', body: JSON.stringify({q: text})});"),
    ("xhr", "var x = new XMLHttpRequest(); x.open('POST', AI); x.send(JSON.stringify({text}));"),
    ("axios-post", "axios.post(AI, {prompt: text});"),
    ("axios-config", "axios({url: AI, method: 'post', data: {prompt: text}});"),
    ("jquery-ajax", "$.ajax({url: AI, type: 'POST', data: JSON.stringify({text})});"),
    ("jquery-post", "$.post(AI, {text: text});"),
    ("beacon", "navigator.sendBeacon(AI, text);"),
    ("websocket", "const ws = new WebSocket(AI); ws.send(text);"),
]


@pytest.mark.parametrize("code", [s[1] for s in SINKS], ids=[s[0] for s in SINKS])
def test_request_sink_family(code: str) -> None:
    src = AI + "const text = document.querySelector('#chat-input').value;\n" + code
    found = flows(JS, src)
    assert {c.value for fl in found for c in fl.categories} == {"shopper_text"}
    assert all(fl.site.host == "api.openai.com" for fl in found)


SDKS = [
    (
        "openai",
        "import OpenAI from 'openai';\nconst openai = new OpenAI();\n"
        "await openai.chat.completions.create({model: 'gpt-4o', messages: [{role: 'user',"
        " content: text}]});",
        "api.openai.com",
    ),
    (
        "anthropic",
        "import Anthropic from '@anthropic-ai/sdk';\nconst client = new Anthropic();\n"
        "await client.messages.create({max_tokens: 100, messages: [{role: 'user',"
        " content: text}]});",
        "api.anthropic.com",
    ),
    (
        "google",
        "import { GoogleGenerativeAI } from '@google/generative-ai';\n"
        "const genAI = new GoogleGenerativeAI(key);\n"
        "const model = genAI.getGenerativeModel({model: 'gemini-1.5-flash'});\n"
        "const r = await model.generateContent(`Answer: ${text}`);",
        "generativelanguage.googleapis.com",
    ),
]


@pytest.mark.parametrize(("code", "host"), [s[1:] for s in SDKS], ids=[s[0] for s in SDKS])
def test_sdk_sink_family(code: str, host: str) -> None:
    src = "const text = document.querySelector('#chat-input').value;\n" + code
    found = flows("app/routes/chat.ts", src)
    assert {c.value for fl in found for c in fl.categories} == {"shopper_text"}
    assert {fl.site.host for fl in found} == {host}


PROPAGATION = [
    ("template-literal", "const p = `Hello ${c.firstname}`; fetch(AI, {body: p});"),
    ("concatenation", "var p = 'Hi ' + c.email + '!'; fetch(AI, {body: p});"),
    ("object-and-array", "const m = [{role: 'user', content: c.email}]; fetch(AI, {body: m});"),
    ("spread", "const base = {e: c.email}; const all = {...base, x: 1}; fetch(AI, {body: all});"),
    ("destructuring", "const {email} = c; fetch(AI, {body: email});"),
    ("method-chain", "fetch(AI, {body: c.email.trim().toLowerCase()});"),
    ("json-stringify", "fetch(AI, {body: JSON.stringify({who: c})});"),
    (
        "closure",
        "function make() { return function () { fetch(AI, {body: c.email}); }; } make()();",
    ),
    ("return-value", "function who() { return c.fullname; } fetch(AI, {body: who()});"),
    ("parameters", "function send(x) { fetch(AI, {body: x}); } send(c.email);"),
    (
        "class-this",
        "class W { load() { this.who = c; } ask() { fetch(AI, {body: this.who.email}); } }",
    ),
    (
        "knockout-component",
        "Component.extend({ initialize: function () { this.customer = c; },"
        " send: function () { fetch(AI, {body: JSON.stringify(this.customer)}); } });",
    ),
    ("await-then", "Promise.resolve(c).then(function (x) { fetch(AI, {body: x.email}); });"),
    ("array-callback", "[c].map((x) => x.email).forEach((e) => fetch(AI, {body: e}));"),
    ("conditional", "const v = flag ? c.email : 'guest'; fetch(AI, {body: v});"),
    ("reassignment", "let v = ''; v += c.email; fetch(AI, {body: v});"),
]


@pytest.mark.parametrize("code", [p[1] for p in PROPAGATION], ids=[p[0] for p in PROPAGATION])
def test_propagation(code: str) -> None:
    src = AI + "var c = customerData.get('customer')();\n" + code
    assert categories(JS, src) == {"customer_pii"}


NEGATIVES = [
    (
        "never-sent",
        "var c = customerData.get('customer')(); console.log(c.email); fetch(AI, {body: 'x'});",
    ),
    ("constants-only", "fetch(AI, {body: JSON.stringify({model: 'gpt-4o', q: 'hello'})});"),
    (
        "non-ai-fetch",
        "var c = customerData.get('cart')(); fetch('/cart/add.js', {method: 'POST',"
        " body: JSON.stringify(c)});",
    ),
    (
        "non-ai-url-constant",
        "const SHOP = '/rest/V1/carts/mine'; var c = customerData.get('cart')();"
        " fetch(SHOP, {body: JSON.stringify(c)});",
    ),
    ("sha256", "var c = customerData.get('customer')(); fetch(AI, {body: sha256(c.email)});"),
    (
        "subtle-digest",
        "var c = customerData.get('customer')(); const h = await crypto.subtle.digest("
        "'SHA-256', new TextEncoder().encode(c.email)); fetch(AI, {body: h});",
    ),
    (
        "anonymiser",
        "var c = customerData.get('customer')(); fetch(AI, {body: anonymizeCustomer(c)});",
    ),
    ("headers-only", "var c = customerData.get('customer')(); fetch(AI, {headers: {x: c.email}});"),
    ("comparison", "var c = customerData.get('customer')(); fetch(AI, {body: c.email === ''});"),
    ("irrelevant-section", "var d = customerData.get('directory-data')(); fetch(AI, {body: d});"),
    ("pixel-page-view", "analytics.subscribe('page_viewed', (e) => fetch(AI, {body: e.name}));"),
]


@pytest.mark.parametrize("code", [n[1] for n in NEGATIVES], ids=[n[0] for n in NEGATIVES])
def test_no_flow(code: str) -> None:
    assert flows(JS, AI + code) == []


def test_no_ai_site_no_flow() -> None:
    code = "var c = customerData.get('customer')(); fetch(url, {body: c.email});"
    assert flows(JS, code) == []


def test_trace_names_source_hops_and_sink() -> None:
    src = (
        AI
        + "var c = customerData.get('customer')();\n"
        + "var p = 'Hi ' + c.email;\n"
        + "fetch(AI, {body: p});\n"
    )
    [flow] = flows(JS, src)
    notes = [(s.line, s.note) for s in flow.steps]
    assert notes[0] == (2, "source: customerData.get('customer') (customer_pii)")
    assert notes[1] == (3, "into p")
    assert notes[-1] == (4, "sent by fetch() to api.openai.com")
    # the call is an AI call site of its own (it uses AI): the flow lands there
    assert flow.site.line == 4 and flow.source_line == 2
    assert flow.confidence is Confidence.HIGH


def test_fallback_site_is_medium_confidence() -> None:
    src = AI + "function go(url) { var c = customerData.get('customer')(); fetch(url, {body: c}); }"
    [flow] = flows(JS, src)
    assert flow.confidence is Confidence.MEDIUM


def test_other_provider_in_the_same_file_is_not_mixed_up() -> None:
    src = (
        "const A = 'https://api.anthropic.com/v1/messages';\n"
        + AI
        + "var c = customerData.get('customer')();\nfetch(A, {body: c.email});\n"
    )
    [flow] = flows(JS, src)
    assert flow.site.host == "api.anthropic.com"


def test_syntax_error_is_recorded_as_partial() -> None:
    f = prepared(
        JS,
        AI + "var c = customerData.get('customer')();\nfetch(AI, {body: c.email});\nfunction (\n",
    )
    from egressguard.audit.dataflow import javascript
    from egressguard.catalog import load_catalog

    found = javascript.find_flows(f, load_catalog())
    assert {c.value for fl in found for c in fl.categories} == {"customer_pii"}
    assert f.partial and "syntax error" in f.partial[0]


def test_typescript_file() -> None:
    src = AI + (
        "interface C { email: string }\n"
        "const c = customerData.get('customer')() as C;\n"
        "async function send(x: C): Promise<void> { await fetch(AI, {body: x.email!}); }\n"
        "send(c);\n"
    )
    assert categories("extensions/chat/src/index.ts", src) == {"customer_pii"}
