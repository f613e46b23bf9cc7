"""The hash chain itself: canonical encoding, linking and verification (pure, no I/O).

A record is the canonical JSON of ``{"payload", "prev", "seq", "ts", "v"}``: keys sorted,
compact separators, UTF-8, no NaN/Infinity, the timestamp in UTC ISO-8601 with microseconds
and a ``Z``. Its hash is the SHA-256 hex of those bytes; the next record carries it as ``prev``;
the first record's ``prev`` is 64 zeros. Fields are never joined with a separator ("|".join is
ambiguous); JSON encoding is.

The payload is kept as its canonical JSON *text*, and the record bytes embed that text
verbatim, so verification rehashes exactly what was stored: any changed byte changes the hash,
even one that would no longer parse.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from egressguard.errors import ChainError

CHAIN_VERSION = 1
GENESIS_HASH = "0" * 64

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def canonical_json(value: Any) -> str:
    """The one canonical text of a JSON value (sorted keys, compact, NaN refused)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


class EncodedPayload(dict[str, Any]):
    """A payload with its canonical JSON worked out once: a sink checks that an event encodes
    before it appends it, and `seal` then uses that text instead of encoding again. The text
    is taken at creation: do not change the mapping afterwards."""

    __slots__ = ("json",)

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(payload)
        self.json: str = canonical_json(self)  # TypeError/ValueError: not encodable


def format_ts(ts: datetime) -> str:
    """UTC ISO-8601 with microseconds and ``Z``; a naive datetime is refused, not guessed."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    """The inverse of ``format_ts``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def record_bytes(v: int, seq: int, ts: str, prev: str, payload_json: str) -> bytes:
    """The exact bytes that are hashed: canonical JSON of the record, payload embedded verbatim.

    Equal to ``canonical_json({...})`` whenever ``payload_json`` is canonical (the keys are
    written in sorted order: payload, prev, seq, ts, v).
    """
    head = '{"payload":'
    tail = f',"prev":{json.dumps(prev)},"seq":{seq},"ts":{json.dumps(ts)},"v":{v}}}'
    return (head + payload_json + tail).encode("utf-8")


def record_hash(v: int, seq: int, ts: str, prev: str, payload_json: str) -> str:
    return hashlib.sha256(record_bytes(v, seq, ts, prev, payload_json)).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    """One link of the chain as stored. ``payload_json`` is canonical JSON text."""

    v: int
    seq: int
    ts: str
    prev: str
    payload_json: str
    hash: str

    def payload(self) -> dict[str, Any]:
        """The payload as a dict (parsed on demand)."""
        data = json.loads(self.payload_json)
        if not isinstance(data, dict):
            raise ValueError(f"record {self.seq}: payload is not a JSON object")
        return data

    def to_dict(self) -> dict[str, Any]:
        """The record with its hash, for export (payload as an object)."""
        return {
            "v": self.v,
            "seq": self.seq,
            "ts": self.ts,
            "prev": self.prev,
            "payload": self.payload(),
            "hash": self.hash,
        }


def seal(seq: int, prev: str, ts: datetime, payload: Mapping[str, Any]) -> Record:
    """Build and hash a record from its parts (the backends' primitive)."""
    if seq < 1:
        raise ValueError("seq starts at 1")
    ts_text = format_ts(ts)
    if isinstance(payload, EncodedPayload):
        payload_json = payload.json
    else:
        payload_json = canonical_json(dict(payload))
    digest = record_hash(CHAIN_VERSION, seq, ts_text, prev, payload_json)
    return Record(CHAIN_VERSION, seq, ts_text, prev, payload_json, digest)


def link(prev: Record | None, payload: Mapping[str, Any], ts: datetime) -> Record:
    """The record that follows ``prev`` (``None``: the first record of a chain)."""
    if prev is None:
        return seal(1, GENESIS_HASH, ts, payload)
    return seal(prev.seq + 1, prev.hash, ts, payload)


def record_from_dict(data: Mapping[str, Any]) -> Record:
    """The inverse of ``Record.to_dict`` (for verifying an exported JSON-lines file)."""
    try:
        return Record(
            v=int(data["v"]),
            seq=int(data["seq"]),
            ts=str(data["ts"]),
            prev=str(data["prev"]),
            payload_json=canonical_json(data["payload"]),
            hash=str(data["hash"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a chain record: {exc}") from exc


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of ``verify``: ``first_bad_seq`` and ``reason`` are set when not ok."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH


def _payload_problem(record: Record) -> str:
    try:
        data = json.loads(record.payload_json)
    except ValueError:
        return "payload is not valid JSON"
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    if canonical_json(data) != record.payload_json:
        return "payload is not in canonical form"
    return ""


def _problem(record: Record, expected_seq: int, expected_prev: str) -> tuple[int, str] | None:
    """The first thing wrong with one record given its predecessor, as (seq, reason)."""
    if record.seq != expected_seq:
        if record.seq > expected_seq:
            why = f"record {expected_seq} is missing (next stored record is {record.seq})"
        else:
            why = f"record {record.seq} is out of order or repeated (expected {expected_seq})"
        return expected_seq, why
    if record.v != CHAIN_VERSION:
        return record.seq, f"unknown record version {record.v}"
    if record.prev != expected_prev:
        return record.seq, f"prev does not match the hash of record {expected_seq - 1} (fork)"
    if not _HEX64.fullmatch(record.hash):
        return record.seq, "hash is not 64 lower-case hex digits"
    actual = record_hash(record.v, record.seq, record.ts, record.prev, record.payload_json)
    if actual != record.hash:
        return record.seq, "hash does not match the record's content (record was changed)"
    if not _TS.fullmatch(record.ts):
        return record.seq, "timestamp is not UTC ISO-8601 with microseconds"
    problem = _payload_problem(record)
    return (record.seq, problem) if problem else None


def verify(records: Iterable[Record], *, anchor: tuple[int, str] | None = None) -> VerifyReport:
    """Check a whole chain from record 1; report the first broken record by ``seq``.

    ``anchor`` is an optional ``(seq, hash)`` published elsewhere (a SIEM export, a ticket):
    without one, someone who can rewrite the file can rehash every record after an edit, which
    no hash chain on its own can detect.
    """
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    anchor_seen = anchor is None
    for record in records:
        problem = _problem(record, expected_seq, prev)
        if problem is not None:
            return VerifyReport(False, count, problem[0], problem[1], prev)
        if anchor is not None and record.seq == anchor[0]:
            if record.hash != anchor[1]:
                return VerifyReport(
                    False, count, record.seq, "hash differs from the published anchor", prev
                )
            anchor_seen = True
        count, expected_seq, prev = count + 1, expected_seq + 1, record.hash
    if not anchor_seen and anchor is not None:
        return VerifyReport(
            False, count, anchor[0], f"anchored record {anchor[0]} is missing", prev
        )
    return VerifyReport(True, count, None, "", prev)


# --- what every backend does with its stored rows ---------------------------------------------


def payload_tenant(record: Record) -> str | None:
    """The tenant named inside the record's payload (what the tenant index column must equal)."""
    try:
        tenant = record.payload().get("tenant")
    except ValueError:
        return None
    return tenant if isinstance(tenant, str) else None


def tenant_records(records: Iterable[Record], tenant: str | None) -> Iterator[Record]:
    """`records` read by the tenant index column, checked once more against each payload."""
    for record in records:
        if tenant is not None and payload_tenant(record) != tenant:
            raise ChainError(f"record {record.seq}: tenant column does not match its payload")
        yield record


def verify_stored(
    rows: Iterable[tuple[Record, object]], missing_guards: Callable[[], list[str]]
) -> VerifyReport:
    """`verify` over (record, stored tenant column) rows, plus the backend's own checks: the
    tenant column matches each payload, and no append-only guard was dropped."""
    mismatch: list[int] = []

    def checked() -> Iterator[Record]:
        for record, column in rows:
            if not mismatch and column != payload_tenant(record):
                mismatch.append(record.seq)
            yield record

    report = verify(checked())
    missing = missing_guards()
    if report.ok and missing:
        why = f"append-only triggers are missing: {', '.join(missing)}"
        return VerifyReport(False, report.count, None, why, report.head_hash)
    if mismatch and (report.first_bad_seq is None or mismatch[0] < report.first_bad_seq):
        why = "tenant column does not match the payload"
        return VerifyReport(False, report.count, mismatch[0], why, report.head_hash)
    return report
