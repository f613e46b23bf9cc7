"""The crawler in real headless Chromium against the demo storefront: what it captures.

One crawl per module (fixture), checked from many sides. The storefront's third-party hosts
(api.openai.com, an analytics vendor, two CDNs, a chat vendor's WebSocket) are one loopback
TLS server reached through Chromium's --host-resolver-rules; every other host is
unresolvable, so nothing leaves the machine. Needs /usr/bin/chromium: a missing browser is
a failure, not a skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from egressguard.runtime.canary import make_persona, persona_to_mapping
from egressguard.runtime.crawl.journey import load_journey
from egressguard.runtime.crawl.session import run_crawl
from egressguard.runtime.crawl.settings import BrowserOptions, Budgets, CrawlPlan
from egressguard.runtime.traffic import Persona, Request, ResourceType, StepOutcome, Traffic
from tests.runtime.storefront.server import Storefront, storefront

pytestmark = pytest.mark.browser

JOURNEY = Path(__file__).parent / "storefront" / "journey.toml"
PERSONA = make_persona("test-crawl-capture")


class Crawled:
    def __init__(self, store: Storefront, traffic: Traffic, evidence: Path, progress: list[str]):
        self.store = store
        self.traffic = traffic
        self.evidence = evidence
        self.progress = progress

    def step(self, name: str) -> StepOutcome:
        return next(s for s in self.traffic.steps if s.name == name)

    def requests_to(self, host: str) -> list[Request]:
        return [r for r in self.traffic.requests if r.url.split("/")[2] == host]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    tmp = tmp_path_factory.mktemp("crawl")
    with storefront(tmp) as store:
        plan = CrawlPlan(
            url=store.shop_url + "/",
            journey=load_journey(JOURNEY),
            persona=PERSONA,
            evidence_dir=tmp / "evidence",
            browser=BrowserOptions(
                host_resolver_rules=store.resolver_rules, ignore_certificate_errors=True
            ),
            budgets=Budgets(step_timeout=8.0, total_timeout=90.0),
        )
        progress: list[str] = []
        traffic = run_crawl(plan, lambda i, n, o, _t: progress.append(f"{i}/{n} {o.name} {o.ok}"))
        yield Crawled(store, traffic, tmp / "evidence", progress)


def test_every_step_is_recorded_and_a_failing_step_does_not_stop_the_crawl(
    crawled: Crawled,
) -> None:
    names = [s.name for s in crawled.traffic.steps]
    assert names == [s.name for s in load_journey(JOURNEY).steps]
    failed = {s.name for s in crawled.traffic.steps if not s.ok}
    assert failed == {"missing-element", "place-order"}
    assert "#this-element-does-not-exist" in crawled.step("missing-element").error
    assert crawled.step("product").ok  # its first selector matches nothing: the fallback did
    assert crawled.step("to-payment").ok  # steps after the failure still ran
    assert len(crawled.progress) == len(names)
    assert crawled.progress[0].startswith(f"1/{len(names)} home")


def test_the_crawl_never_goes_past_payment(crawled: Crawled) -> None:
    refused = crawled.step("place-order")
    assert refused.error.startswith("refused to click 'Place Order'")
    assert not [r for r in crawled.store.received if "payment-information" in r.path]
    assert not [r for r in crawled.traffic.requests if "payment-information" in r.url]


def test_the_ai_request_carries_the_canary_email_question_and_key(crawled: Crawled) -> None:
    (ai,) = crawled.requests_to("api.openai.com")
    assert ai.url == "https://api.openai.com/v1/chat/completions"
    assert (ai.method, ai.resource_type, ai.status, ai.step) == (
        "POST",
        ResourceType.FETCH,
        200,
        "chat-send",
    )
    assert ai.page_url.endswith("/hiking-jacket.html")
    body = json.loads(ai.request_body)
    assert body["user"] == PERSONA.email
    assert body["messages"][0]["content"] == PERSONA.chat_sentence
    headers = {k.lower(): v for k, v in ai.request_headers}
    assert headers["authorization"] == f"Bearer {crawled.store.openai_key}"
    # what the browser reported is what the server got
    posts = crawled.store.seen("api.openai.com", "/v1/chat/completions")
    (got,) = [r for r in posts if r.method == "POST"]
    assert got.body == ai.request_body


def test_websocket_handshake_and_frames_both_ways(crawled: Crawled) -> None:
    (ws,) = [
        r
        for r in crawled.requests_to("chat.widgetvendor.example")
        if r.resource_type is ResourceType.WEBSOCKET
    ]
    assert (ws.resource_type, ws.url, ws.step) == (
        ResourceType.WEBSOCKET,
        "wss://chat.widgetvendor.example/socket",
        "chat-open",
    )
    sent = [f for f in crawled.traffic.websocket_frames if f.sent]
    received = [f for f in crawled.traffic.websocket_frames if not f.sent]
    assert len(sent) == 1
    assert json.loads(sent[0].payload) == {
        "type": "message",
        "visitor": PERSONA.email,
        "text": PERSONA.chat_sentence,
    }
    assert sent[0].step == "chat-send"
    assert {json.loads(f.payload)["type"] for f in received} == {"hello", "ack"}


def test_beacons_including_the_hashed_email(crawled: Crawled) -> None:
    beacons = [r for r in crawled.traffic.requests if r.resource_type is ResourceType.BEACON]
    assert beacons
    assert {r.url for r in beacons} == {"https://analytics.tracker.example/collect"}
    digest = hashlib.sha256(PERSONA.email.lower().encode()).hexdigest()
    hashed = [r for r in beacons if digest.encode() in r.request_body]
    assert len(hashed) == 1
    assert hashed[0].page_url.endswith("/checkout/")


def test_cookies_and_storage_holding_the_email(crawled: Crawled) -> None:
    cookies = {c.name: c for c in crawled.traffic.cookies}
    assert cookies["chat_visitor"].value == quote(PERSONA.email)
    assert cookies["chat_visitor"].step == "chat-send"
    assert cookies["private_content_version"].step == "add-to-cart"  # set by the server
    local = {(e.key, e.value) for e in crawled.traffic.storage if e.area == "localStorage"}
    assert ("chat.visitor", json.dumps({"email": PERSONA.email}, separators=(",", ":"))) in local
    checkout = [v for k, v in local if k == "checkout-data"]
    assert checkout
    assert all(json.loads(v)["inputFieldEmailValue"] == PERSONA.email for v in checkout)
    assert {e.origin for e in crawled.traffic.storage} == {crawled.store.shop_url}


def test_a_step_inside_a_cross_origin_iframe_and_what_that_frame_sent(crawled: Crawled) -> None:
    assert crawled.step("help-question").ok, crawled.step("help-question").error
    (draft,) = [r for r in crawled.traffic.requests if r.url.endswith("/draft")]
    assert draft.url == "https://chat.widgetvendor.example/draft"
    assert draft.request_body == PERSONA.chat_sentence.encode()
    assert draft.page_url == f"{crawled.store.shop_url}/checkout/"  # the top-level page
    assert draft.step == "to-payment"  # sent on blur, when the next step clicked elsewhere


def test_checkout_scripts_with_and_without_sri_and_their_bodies(crawled: Crawled) -> None:
    checkout = f"{crawled.store.shop_url}/checkout/"
    scripts = {s.src: s for s in crawled.traffic.scripts if s.page_url == checkout}
    assert scripts["https://cdn.thirdparty.example/widget.js"].integrity is None
    lib = scripts["https://cdn.libs.example/lib.js"]
    assert lib.integrity is not None
    assert lib.integrity.startswith("sha384-")
    assert lib.crossorigin == "anonymous"
    (lib_request,) = crawled.requests_to("cdn.libs.example")
    assert lib_request.response_body is not None
    computed = base64.b64encode(hashlib.sha384(lib_request.response_body).digest()).decode()
    assert lib.integrity == f"sha384-{computed}"
    home = {s.src for s in crawled.traffic.scripts if s.page_url == crawled.store.shop_url + "/"}
    assert "https://cdn.thirdparty.example/widget.js" not in home


def test_pages_and_origin(crawled: Crawled) -> None:
    shop = crawled.store.shop_url
    assert crawled.traffic.source == "crawl"
    assert crawled.traffic.origin == shop
    assert crawled.traffic.persona == PERSONA
    assert crawled.traffic.pages == (
        f"{shop}/",
        f"{shop}/catalogsearch/result/?q=jacket",
        f"{shop}/hiking-jacket.html",
        f"{shop}/checkout/",
    )
    add = [r for r in crawled.traffic.requests if r.url.endswith("/checkout/cart/add")]
    assert [(r.method, r.status, r.step) for r in add] == [("POST", 200, "add-to-cart")]


def test_evidence_manifest_hashes_match_the_files(crawled: Crawled) -> None:
    manifest = json.loads((crawled.evidence / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {
        p.relative_to(crawled.evidence).as_posix()
        for p in crawled.evidence.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(listed) == on_disk
    for path, entry in listed.items():
        data = (crawled.evidence / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert entry["bytes"] == len(data)
    assert crawled.traffic.evidence_files == (*sorted(on_disk), "manifest.json")
    assert [s["name"] for s in manifest["steps"]] == [s.name for s in crawled.traffic.steps]
    assert manifest["url"] == crawled.store.shop_url + "/"


def test_evidence_files_hold_har_screenshots_and_persona(crawled: Crawled) -> None:
    har = json.loads((crawled.evidence / "crawl.har").read_text())
    urls = {e["request"]["url"] for e in har["log"]["entries"]}
    assert "https://api.openai.com/v1/chat/completions" in urls
    for step in crawled.traffic.steps:  # failed steps too: the screenshot shows why
        assert step.screenshot, step.name
        assert (crawled.evidence / step.screenshot).read_bytes().startswith(b"\x89PNG")
    persona = json.loads((crawled.evidence / "persona.json").read_text())
    assert persona == persona_to_mapping(PERSONA)


def test_the_manifest_and_step_errors_hold_no_canary_value(crawled: Crawled) -> None:
    text = (crawled.evidence / "manifest.json").read_text()
    errors = " ".join(s.error for s in crawled.traffic.steps)
    for value in _canaries(PERSONA):
        assert value not in text
        assert value not in errors


def _canaries(persona: Persona) -> list[str]:
    return [persona.email, persona.phone, persona.street, persona.first_name, persona.last_name]
