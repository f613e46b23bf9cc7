"""HAR import: what is read from Chrome/Firefox exports, and bad files never crash."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.errors import EvidenceInputError
from egressguard.runtime.har import load_har, parse_har
from egressguard.runtime.traffic import ResourceType

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "har" / "storefront.har"


def _har(*entries: object, pages: list[object] | None = None) -> bytes:
    return json.dumps(
        {"log": {"version": "1.2", "pages": pages or [], "entries": list(entries)}}
    ).encode()


def _entry(url: str, **extra: object) -> dict[str, object]:
    request = {
        "method": extra.pop("method", "GET"),
        "url": url,
        "headers": extra.pop("headers", []),
    }
    if "postData" in extra:
        request["postData"] = extra.pop("postData")
    return {"request": request, "response": extra.pop("response", {"status": 200}), **extra}


def test_fixture_is_read_with_pages_scripts_frames_cookies_and_skips() -> None:
    traffic = load_har(FIXTURE)
    assert traffic.source == "har" and traffic.origin == "https://shop.example"
    assert traffic.pages == ("https://shop.example/", "https://shop.example/checkout/")
    assert len(traffic.requests) == 16
    assert [f.sent for f in traffic.websocket_frames] == [True, False]
    assert {s.src for s in traffic.scripts} >= {"https://cdn.paybox.example/v2/pay.js"}
    pay = next(s for s in traffic.scripts if s.src.endswith("pay.js"))
    assert pay.integrity and pay.integrity.startswith("sha384-")
    assert {c.name for c in traffic.cookies} == {"PHPSESSID", "checkout_email"}
    assert [s.file for s in traffic.skipped] == [
        "storefront.har#entry-16",
        "storefront.har#entry-17",
    ]
    assert traffic.evidence_files == ("storefront.har",)


def test_post_data_text_params_and_base64() -> None:
    text = _entry(
        "https://a.example/t", method="POST", postData={"mimeType": "text/plain", "text": "hi"}
    )
    params = _entry(
        "https://a.example/p",
        method="POST",
        postData={
            "mimeType": "application/x-www-form-urlencoded",
            "params": [{"name": "q", "value": "a b"}],
        },
    )
    b64 = _entry(
        "https://a.example/b",
        method="POST",
        postData={
            "mimeType": "application/octet-stream",
            "text": base64.b64encode(b"\x00\x01raw").decode(),
            "encoding": "base64",
        },
    )
    traffic = parse_har(_har(text, params, b64))
    assert [r.request_body for r in traffic.requests] == [b"hi", b"q=a+b", b"\x00\x01raw"]


def test_firefox_pages_without_url_titles_use_the_first_document() -> None:
    doc = _entry(
        "https://shop.example/p",
        pageref="page_1",
        response={
            "status": 200,
            "content": {
                "mimeType": "text/html",
                "text": "<script src='/x.js' integrity='sha256-abc'></script>",
            },
        },
    )
    xhr = _entry(
        "https://api.example/x",
        pageref="page_1",
        response={"status": 200, "content": {"mimeType": "application/json"}},
    )
    traffic = parse_har(_har(doc, xhr, pages=[{"id": "page_1", "title": "My Shop"}]))
    assert [r.page_url for r in traffic.requests] == ["https://shop.example/p"] * 2
    assert traffic.requests[0].resource_type is ResourceType.DOCUMENT
    assert traffic.scripts[0].src == "https://shop.example/x.js"
    assert traffic.scripts[0].integrity == "sha256-abc"


def test_referer_is_the_page_when_there_is_no_pageref() -> None:
    xhr = _entry(
        "https://api.example/x", headers=[{"name": "Referer", "value": "https://shop.example/c"}]
    )
    assert parse_har(_har(xhr)).requests[0].page_url == "https://shop.example/c"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("text", "entry is not an object"),
        ({"response": {}}, "no request object"),
        ({"request": {"url": "data:text/plain,hi"}}, "not an http(s)/ws(s) URL"),
        (
            _entry(
                "https://a.example/",
                method="POST",
                postData={"text": "!!!notbase64", "encoding": "base64"},
            ),
            "invalid base64",
        ),
    ],
)
def test_unreadable_entries_are_skipped_with_a_reason(entry: object, reason: str) -> None:
    good = _entry("https://a.example/ok")
    traffic = parse_har(_har(entry, good), label="x.har")
    assert [r.url for r in traffic.requests] == ["https://a.example/ok"]
    assert len(traffic.skipped) == 1
    assert traffic.skipped[0].file == "x.har#entry-0" and reason in traffic.skipped[0].detail


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"{not json", "invalid JSON"),
        (b'{"log": {}}', "no log.entries"),
        (b"[1, 2]", "no log.entries"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "HAR"),
    ],
)
def test_files_that_are_not_a_har_raise_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(EvidenceInputError, match=message):
        parse_har(data, label="bad.har")


def test_too_large_and_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.har"
    big.write_bytes(_har(_entry("https://a.example/")))
    with pytest.raises(EvidenceInputError, match="larger than"):
        load_har(big, max_bytes=10)
    with pytest.raises(EvidenceInputError, match="cannot read"):
        load_har(tmp_path / "missing.har")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
entry_like = st.fixed_dictionaries(
    {},
    optional={
        "request": st.fixed_dictionaries(
            {},
            optional={
                "url": st.sampled_from(["https://a.example/x", "wss://b.example/", "", "ftp://c"])
                | st.text(max_size=15),
                "method": json_values,
                "headers": json_values,
                "postData": json_values,
                "cookies": json_values,
            },
        ),
        "response": json_values,
        "pageref": json_values,
        "_resourceType": json_values,
        "_webSocketMessages": json_values,
        "startedDateTime": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(entry_like | json_values, max_size=6), pages=json_values)
def test_any_entry_shape_is_read_or_skipped_never_raised(
    entries: list[object], pages: object
) -> None:
    data = json.dumps({"log": {"pages": pages, "entries": entries}}).encode()
    traffic = parse_har(data)
    assert len(traffic.requests) + len(traffic.skipped) == len(entries)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_give_traffic_or_a_clear_error(data: bytes) -> None:
    try:
        parse_har(data)
    except EvidenceInputError as exc:
        assert str(exc).startswith("HAR: not a HAR file")
