"""AuditEvent: metadata and digests only; raw data from a request cannot reach the trail."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from egressguard.gateway.audit_events import (
    AuditEvent,
    DigestKey,
    body_digest,
    to_payload,
    verify_body,
)
from egressguard.store.chain import canonical_json, link
from egressguard.store.export import to_cef, to_jsonl, to_syslog

EMAIL = "anna.kowalska@example.pl"
REQUEST = json.dumps(
    {"model": "llama3", "messages": [{"role": "user", "content": f"Write to {EMAIL} today"}]}
).encode()
SENT = REQUEST.replace(EMAIL.encode(), b"[EMAIL_7f3a9c]")  # what the gateway sent upstream
RESPONSE = b'{"choices":[{"message":{"content":"Done: [EMAIL_7f3a9c]"}}]}'


def exchange(**overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "ts": datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        "tenant": "shop1",
        "client": "magento",
        "route": "/v1/chat/completions",
        "upstream": "local-llm",
        "region": "local",
        "request_id": "req-0001",
        "categories": {"email": 1},
        "actions": {"email": "tokenize"},
        "request_digest": body_digest(SENT),
        "response_digest": body_digest(RESPONSE),
        "status": 200,
        "latency_ms": 0.8125,
        "stream": False,
    }
    return AuditEvent(**{**fields, **overrides})


KEY = DigestKey(b"audit-digest-key-for-tests-32by!")


def test_payload_shape() -> None:
    payload = to_payload(exchange(), KEY)
    assert payload["ts"] == "2025-03-01T12:00:00.000000Z"  # UTC
    assert payload["type"] == "gateway.exchange" and payload["ev"] == 2
    assert payload["categories"] == {"email": 1}
    assert len(payload["request_digest"]) == 64 and payload["digest_key"] == KEY.id
    canonical_json(payload)  # JSON types only


def test_digests_are_keyed_so_a_guess_cannot_be_tested_without_the_key() -> None:
    payload = to_payload(exchange(), KEY)
    # the plain SHA-256 of the body is not in the record, so guessing the body and hashing
    # it tests nothing; the auditor with the key verifies the exact body
    assert payload["request_digest"] != body_digest(SENT)
    expected = hmac.new(KEY.secret, hashlib.sha256(SENT).digest(), hashlib.sha256).hexdigest()
    assert payload["request_digest"] == expected
    assert verify_body(KEY, SENT, payload["request_digest"])
    assert verify_body(KEY, RESPONSE, payload["response_digest"])
    assert not verify_body(KEY, REQUEST, payload["request_digest"])  # the unredacted body
    other = DigestKey(b"another-deployment-key-32-bytes!")
    assert other.id != KEY.id and not verify_body(other, SENT, payload["request_digest"])
    assert KEY.secret.hex() not in repr(KEY) and KEY.secret.decode() not in repr(KEY)
    with pytest.raises(ValueError, match="16 bytes"):
        DigestKey(b"short")
    # no key: no digest at all (never a plain one)
    bare = to_payload(exchange())
    assert bare["request_digest"] == bare["response_digest"] == bare["digest_key"] == ""


def test_an_event_from_a_request_with_an_email_never_contains_it() -> None:
    event = exchange()
    record = link(None, to_payload(event), datetime.now(UTC))
    outputs = [
        repr(event),
        canonical_json(to_payload(event)),
        record.payload_json,
        to_jsonl(record),
        to_syslog(record).decode(),
        to_cef(record),
    ]
    for text in outputs:
        assert EMAIL not in text
        assert "kowalska" not in text
        assert "example.pl" not in text


@pytest.mark.parametrize(
    "overrides",
    [
        {"error": EMAIL},
        {"request_id": EMAIL},
        {"client": EMAIL},
        {"route": f"/v1/{EMAIL}"},
        {"tenant": "shop 1"},
        {"categories": {EMAIL: 1}},
        {"actions": {"email": EMAIL}},
        {"request_digest": EMAIL},
        {"response_digest": "A" * 64},
    ],
)
def test_free_text_is_refused_in_every_field(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="audit event"):
        exchange(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"ts": datetime(2025, 3, 1)},  # naive on purpose
        {"status": 600},
        {"status": True},
        {"latency_ms": -1.0},
        {"latency_ms": float("nan")},
        {"latency_ms": float("inf")},
        {"categories": {"email": -1}},
        {"categories": {"email": True}},
        {"actions": {"email": "drop"}},
    ],
)
def test_invalid_values_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="audit event"):
        exchange(**overrides)


def test_blocked_request_has_no_upstream_and_an_error_code() -> None:
    event = exchange(upstream="", region="", status=403, error="policy_block", response_digest="")
    assert to_payload(event)["upstream"] == ""


def test_events_are_frozen_and_their_maps_read_only() -> None:
    event = exchange()
    with pytest.raises(AttributeError):
        event.tenant = "shop2"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.categories["email"] = 5  # type: ignore[index]


def test_route_may_start_with_a_slash_or_not() -> None:
    assert exchange(route="v1/messages").route == "v1/messages"
