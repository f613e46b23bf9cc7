"""The pure chain: canonical encoding, linking, verify (hypothesis for stability and tamper)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.store.chain import (
    GENESIS_HASH,
    EncodedPayload,
    Record,
    canonical_json,
    format_ts,
    link,
    record_bytes,
    record_from_dict,
    verify,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


def chain_of(items: list[dict[str, Any]]) -> list[Record]:
    records: list[Record] = []
    for n, payload in enumerate(items):
        records.append(link(records[-1] if records else None, payload, T0 + timedelta(seconds=n)))
    return records


def test_record_bytes_are_the_canonical_json_of_the_record() -> None:
    record = link(None, {"b": 1, "a": "é"}, T0)
    expected = {
        "v": 1,
        "seq": 1,
        "ts": "2025-03-01T12:00:00.123456Z",
        "prev": GENESIS_HASH,
        "payload": {"a": "é", "b": 1},
    }
    raw = record_bytes(record.v, record.seq, record.ts, record.prev, record.payload_json)
    assert raw == canonical_json(expected).encode("utf-8")
    assert raw.startswith(b'{"payload":{"a":"\xc3\xa9","b":1},"prev":"000')
    assert record.hash == hashlib.sha256(raw).hexdigest()


def test_timestamps_are_utc_and_naive_ones_are_refused() -> None:
    paris = timezone(timedelta(hours=1))
    assert format_ts(datetime(2025, 3, 1, 13, 0, tzinfo=paris)) == "2025-03-01T12:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        link(None, {}, datetime(2025, 3, 1))  # naive on purpose


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_verify_names_a_wrong_genesis_and_an_unknown_version() -> None:
    records = chain_of([{"a": 1}, {"a": 2}])
    assert not verify([dataclasses.replace(records[0], prev="1" * 64)]).ok
    report = verify([dataclasses.replace(records[0], v=2), records[1]])
    assert (report.first_bad_seq, report.reason) == (1, "unknown record version 2")


def test_verify_reports_a_non_canonical_payload_even_with_a_matching_hash() -> None:
    text = '{"b":1, "a":2}'
    digest = hashlib.sha256(
        record_bytes(1, 1, "2025-03-01T12:00:00.000000Z", GENESIS_HASH, text)
    ).hexdigest()
    record = Record(1, 1, "2025-03-01T12:00:00.000000Z", GENESIS_HASH, text, digest)
    assert verify([record]).reason == "payload is not in canonical form"


def test_anchor_that_is_missing_fails() -> None:
    records = chain_of([{"a": 1}])
    report = verify(records, anchor=(5, "0" * 64))
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert verify(records, anchor=(1, records[0].hash)).ok


@given(json_values)
def test_canonical_encoding_is_stable(value: Any) -> None:
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text


@given(payloads)
def test_canonical_encoding_ignores_key_insertion_order(payload: dict[str, Any]) -> None:
    reversed_payload = dict(reversed(list(payload.items())))
    assert link(None, payload, T0).hash == link(None, reversed_payload, T0).hash


@given(payloads)
def test_an_encoded_payload_seals_to_the_same_record(payload: dict[str, Any]) -> None:
    """The sink encodes once to check a payload; the record is the one the plain dict gives."""
    encoded = EncodedPayload(payload)
    assert encoded == payload and encoded.json == canonical_json(payload)
    assert link(None, encoded, T0) == link(None, payload, T0)


def test_an_unencodable_payload_cannot_be_encoded() -> None:
    with pytest.raises(ValueError):
        EncodedPayload({"latency_ms": float("nan")})
    with pytest.raises(TypeError):
        EncodedPayload({"x": object()})


@given(st.lists(payloads, min_size=1, max_size=5))
def test_a_record_survives_export_and_import(items: list[dict[str, Any]]) -> None:
    records = chain_of(items)
    assert [record_from_dict(json.loads(json.dumps(r.to_dict()))) for r in records] == records
    assert verify(records).ok


_FIELDS = ("v", "seq", "ts", "prev", "payload_json", "hash")


@settings(max_examples=100)
@given(st.lists(payloads, min_size=1, max_size=5), st.data())
def test_verify_detects_any_single_change_of_any_record(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    records = chain_of(items)
    index = data.draw(st.integers(0, len(records) - 1))
    field = data.draw(st.sampled_from(_FIELDS))
    old = getattr(records[index], field)
    if isinstance(old, int):
        new: object = data.draw(st.integers(-3, 10**6).filter(lambda n: n != old))
    else:
        position = data.draw(st.integers(0, len(old) - 1))
        char = data.draw(st.characters().filter(lambda c: c != old[position]))
        new = old[:position] + char + old[position + 1 :]
    records[index] = dataclasses.replace(records[index], **{field: new})
    report = verify(records)
    assert not report.ok
    assert report.first_bad_seq == index + 1, report.reason
