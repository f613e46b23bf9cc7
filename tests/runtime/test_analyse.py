"""Runtime findings: each finding type with a positive and a negative case."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote, quote_plus

import pytest

from egressguard.model import Finding, Kind, Region, ScanResult, Severity
from egressguard.runtime.analyse import analyse_traffic
from egressguard.runtime.canary import make_persona
from egressguard.runtime.traffic import (
    Cookie,
    Request,
    ResourceType,
    ScriptTag,
    StepOutcome,
    StorageEntry,
    Traffic,
)

P = make_persona("analyse-tests")
SHOP = "https://shop.example"
HOME, CHECKOUT = f"{SHOP}/", f"{SHOP}/checkout/"
# Random characters that were never issued as a key.
KEY = (
    "sk-proj-"
    + "Q7vZk2M9xTfR4bWp8LnYc3HdJ6sEa1GuKo5VyXiN0qPwBtCrDmFhAjUeSlIgOz"
    + "T3BlbkFJ4mRk9Vw2"
)


def _req(
    url: str, page: str = HOME, *, body: str = "", method: str = "POST", **kw: object
) -> Request:
    headers = kw.pop("headers", ())
    kind = kw.pop("kind", ResourceType.FETCH)
    return Request(
        url, method, kind, page, request_headers=headers, request_body=body.encode(), **kw
    )  # type: ignore[arg-type]


def _run(*requests: Request, persona: bool = True, **parts: object) -> ScanResult:
    traffic = Traffic(SHOP, "crawl", requests=requests, persona=P if persona else None, **parts)  # type: ignore[arg-type]
    return analyse_traffic(traffic)


def _rules(result: ScanResult) -> list[str]:
    return sorted(f.rule for f in result.findings)


def _one(result: ScanResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [f.rule for f in result.findings]
    return found[0]


def test_ai_endpoint_and_transfer_outside_the_eu() -> None:
    result = _run(_req("https://api.openai.com/v1/chat/completions", body="{}"))
    assert _rules(result) == ["ai-endpoint", "ai-transfer-third-country"]
    endpoint = _one(result, "ai-endpoint")
    assert endpoint.file == HOME and endpoint.line == 1 and endpoint.provider == "openai"
    assert endpoint.kind is Kind.INVENTORY
    assert result.integrations[0].host == "api.openai.com"
    assert str(result.integrations[0].runs_in) == "browser"


def test_eu_endpoint_is_inventory_only_and_first_party_is_nothing() -> None:
    assert _rules(_run(_req("https://api.eu.mistral.ai/v1/chat/completions"))) == ["ai-endpoint"]
    assert (
        _rules(_run(_req(f"{SHOP}/rest/V1/carts/mine", body=json.dumps({"email": P.email})))) == []
    )


def test_key_in_a_header_is_critical_and_masked() -> None:
    req = _req(
        "https://api.openai.com/v1/chat/completions", headers=(("Authorization", f"Bearer {KEY}"),)
    )
    finding = _one(_run(req), "ai-key-in-browser-traffic")
    assert finding.severity is Severity.CRITICAL and "headers" in finding.message
    assert KEY not in finding.message + finding.evidence and KEY[:30] not in finding.evidence


def test_key_in_the_query_string_and_no_key_for_a_placeholder() -> None:
    hit = _run(_req(f"https://proxy.example/ai?key={KEY}", method="GET"))
    assert "ai-key-in-browser-traffic" in _rules(hit)
    placeholder = "sk-proj-" + "x" * 60
    assert _rules(_run(_req("https://proxy.example/ai", body=placeholder))) == []


CANARY_BODIES = {
    "raw": lambda: json.dumps({"q": P.chat_sentence}),
    "url-encoded": lambda: f"q={quote(P.chat_sentence, safe='')}",
    "form-encoded": lambda: f"q={quote_plus(P.chat_sentence)}",
    "base64": lambda: "d=" + base64.b64encode(("xx" + P.email).encode()).decode(),
    "base64url": lambda: "d=" + base64.urlsafe_b64encode(P.street.encode()).decode(),
    "sha256": lambda: "em=" + hashlib.sha256(P.email.lower().encode()).hexdigest(),
    "md5": lambda: "em=" + hashlib.md5(P.email.lower().encode()).hexdigest(),
    "sha1": lambda: "ph=" + hashlib.sha1(P.phone.lower().encode()).hexdigest(),
}


@pytest.mark.parametrize("encoding", sorted(CANARY_BODIES))
def test_canary_to_a_third_party_names_field_encoding_and_host(encoding: str) -> None:
    body = CANARY_BODIES[encoding]()
    result = _run(_req("https://collect.tracker.example/e", CHECKOUT, body=body))
    finding = _one(result, "personal-data-to-third-party-observed")
    assert finding.host == "collect.tracker.example" and finding.region is Region.UNKNOWN
    # base64url of a value without '+'/'/' in its encoding is plain base64: either name is right
    names = {encoding, "base64"} if encoding == "base64url" else {encoding}
    assert any(f"encoding: {name})" in finding.message for name in names)
    assert finding.file == CHECKOUT and finding.confidence.value == "high"


def test_canary_to_ai_and_nothing_without_canary() -> None:
    url = "https://api.openai.com/v1/chat/completions"
    sent = _run(_req(url, body=json.dumps({"messages": [{"content": P.chat_sentence}]})))
    finding = _one(sent, "personal-data-to-ai-observed")
    assert "canary chat_sentence" in finding.message and finding.provider == "openai"
    assert [c.value for c in finding.data_categories] == ["shopper_text"]
    clean = _run(_req(url, body=json.dumps({"messages": [{"content": "Which jacket?"}]})))
    assert "personal-data-to-ai-observed" not in _rules(clean)


def test_canary_in_a_websocket_frame_to_an_ai_widget() -> None:
    from egressguard.runtime.traffic import WebSocketFrame

    frames = (
        WebSocketFrame(
            "wss://widget-v4.tidiochat.com/ws", HOME, True, json.dumps({"m": P.chat_sentence})
        ),
        WebSocketFrame("wss://widget-v4.tidiochat.com/ws", HOME, False, json.dumps({"m": P.email})),
    )
    result = _run(websocket_frames=frames)
    assert _one(result, "personal-data-to-ai-observed").message.count("canary chat_sentence") == 1


def test_without_persona_the_detector_finds_email_in_payloads() -> None:
    body = f"email={quote_plus('jane.roe@mail.example')}&list=3"
    result = _run(_req("https://forms.newsletter.example/s", CHECKOUT, body=body), persona=False)
    finding = _one(result, "personal-data-to-third-party-observed")
    assert "detected email" in finding.message and finding.confidence.value == "medium"
    assert "jane.roe@mail.example" not in finding.evidence
    assert result.warnings and "no canary persona" in result.warnings[0]
    quiet = _run(
        _req("https://forms.newsletter.example/s", body="list=3&t=1700000000000"), persona=False
    )
    assert _rules(quiet) == []


def _sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


def _script(src: str, page: str, integrity: str | None, body: bytes = b"x()") -> dict[str, object]:
    request = Request(src, "GET", ResourceType.SCRIPT, page, response_body=body)
    return {"req": request, "tag": ScriptTag(page, src, integrity)}


@pytest.mark.parametrize(
    ("page", "integrity", "expected"),
    [
        (CHECKOUT, None, ["payment-page-script-inventory", "payment-page-script-unverified"]),
        (CHECKOUT, _sri(b"x()"), ["payment-page-script-inventory"]),
        (
            CHECKOUT,
            _sri(b"changed"),
            ["payment-page-script-inventory", "payment-page-script-unverified"],
        ),
        (CHECKOUT, "md5-abc", ["payment-page-script-inventory", "payment-page-script-unverified"]),
        (f"{SHOP}/checkout/cart/", None, []),
        (f"{SHOP}/women/tops.html", None, []),
    ],
)
def test_payment_page_scripts_and_sri(
    page: str, integrity: str | None, expected: list[str]
) -> None:
    s = _script("https://cdn.vendor.example/tag.js", page, integrity)
    result = _run(s["req"], scripts=(s["tag"],))  # type: ignore[arg-type]
    assert _rules(result) == expected
    if expected:
        evidence = _one(result, "payment-page-script-inventory").evidence
        assert "sha256-" in evidence and "sha384-" in evidence


def test_first_party_checkout_script_is_inventory_only() -> None:
    s = _script(f"{SHOP}/static/checkout.js", CHECKOUT, None)
    assert _rules(_run(s["req"], scripts=(s["tag"],))) == ["payment-page-script-inventory"]  # type: ignore[arg-type]


def test_ai_widget_script_on_checkout_and_on_the_storefront() -> None:
    src = "https://code.tidio.co/abc.js"
    on_checkout = _run(scripts=(ScriptTag(CHECKOUT, src, None),))
    assert "ai-script-on-checkout" in _rules(on_checkout)
    elsewhere = _run(scripts=(ScriptTag(HOME, src, None),))
    assert _rules(elsewhere) == ["ai-script-on-storefront"]


def test_personal_data_in_cookies_and_storage() -> None:
    cookie = Cookie("addr", quote(P.street), ".shop.example", page_url=CHECKOUT)
    entry = StorageEntry(
        "localStorage", SHOP, "mage-cache", base64.b64encode(P.email.encode()).decode(), CHECKOUT
    )
    result = _run(cookies=(cookie,), storage=(entry,))
    assert _rules(result) == ["personal-data-in-browser-storage"] * 2
    clean = _run(cookies=(Cookie("PHPSESSID", "a1b2c3", "shop.example"),))
    assert _rules(clean) == []


def test_failed_steps_are_listed_as_skipped() -> None:
    steps = (
        StepOutcome("checkout", CHECKOUT, False, "selector not found"),
        StepOutcome("home", HOME, True),
    )
    result = _run(steps=steps)
    assert [(s.file, s.reason) for s in result.skipped] == [(CHECKOUT, "journey-step-failed")]


def test_query_strings_never_become_the_file() -> None:
    search = f"{SHOP}/catalogsearch/result/?q={quote_plus(P.email)}"
    result = _run(_req("https://api.openai.com/v1/embeddings", search, body="{}"))
    assert {f.file for f in result.findings} == {f"{SHOP}/catalogsearch/result/"}
