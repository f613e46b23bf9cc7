"""Audit records for a SIEM: JSON lines, syslog (RFC 5424 over TCP/TLS, RFC 6587 octet
counting) and CEF.

Every format carries the record's ``seq``, ``hash`` and ``prev``, so a copy kept elsewhere is
itself a verifiable chain and an anchor for the local file (``chain.verify(anchor=...)``).
JSON lines embed the stored payload text byte for byte: ``read_jsonl`` + ``verify`` on an
export gives the same answer as on the database.

The structured-data id ``egressguard@32473`` uses 32473, the private enterprise number that
RFC 5612 reserves for documentation; a registered PEN should replace it before release.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, assert_never

from egressguard import __version__
from egressguard.errors import ChainError
from egressguard.store.chain import Record, parse_ts, record_from_dict

SD_ID = "egressguard@32473"
FACILITY_LOG_AUDIT = 13
_PRINTUSASCII = re.compile(r"[!-~]+")

_SD_FIELDS = (
    "tenant",
    "client",
    "route",
    "upstream",
    "region",
    "status",
    "latency_ms",
    "stream",
    "error",
    "request_id",
    "request_digest",
    "response_digest",
    "digest_key",  # which audit key the digests are keyed with (its id, never the key)
)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    SYSLOG = "syslog"
    CEF = "cef"


# -- JSON lines ------------------------------------------------------------------------------
def to_jsonl(record: Record) -> str:
    """One line of canonical JSON (keys sorted) with the payload text embedded verbatim."""
    return (
        f'{{"hash":{json.dumps(record.hash)},"payload":{record.payload_json},'
        f'"prev":{json.dumps(record.prev)},"seq":{record.seq},"ts":{json.dumps(record.ts)},'
        f'"v":{record.v}}}\n'
    )


def read_jsonl(lines: Iterable[str]) -> Iterator[Record]:
    """Records from a JSON-lines export; a bad line is a ``ChainError`` naming it."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield record_from_dict(json.loads(line))
        except ValueError as exc:
            raise ChainError(f"line {number}: {exc}") from exc


# -- shared helpers ----------------------------------------------------------------------------
def _payload(record: Record) -> dict[str, Any]:
    try:
        return record.payload()
    except ValueError as exc:
        raise ChainError(f"record {record.seq}: unreadable payload") from exc


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ",".join(f"{key}={value[key]}" for key in sorted(value))
    return str(value)


def _level(payload: Mapping[str, Any]) -> str:
    """'ok', 'blocked' (4xx) or 'failed' (5xx or an error code)."""
    status = payload.get("status")
    status = status if isinstance(status, int) else 0
    if payload.get("error") or status >= 500:
        return "failed"
    return "blocked" if 400 <= status < 500 else "ok"


# -- syslog (RFC 5424) -------------------------------------------------------------------------
def _header_field(value: str, max_len: int) -> str:
    """An RFC 5424 header field: printable US-ASCII, bounded, ``-`` when empty (NILVALUE)."""
    kept = "".join(_PRINTUSASCII.findall(value))[:max_len]
    return kept or "-"


def _sd_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _structured_data(record: Record, payload: Mapping[str, Any]) -> str:
    params = [("seq", str(record.seq)), ("hash", record.hash), ("prev", record.prev)]
    params += [(name, _text(payload[name])) for name in _SD_FIELDS if name in payload]
    params += [
        (name, _text(payload[name])) for name in ("categories", "actions") if payload.get(name)
    ]
    body = " ".join(f'{name}="{_sd_escape(value)}"' for name, value in params)
    return f"[{SD_ID} {body}]"


def to_syslog(
    record: Record,
    *,
    app_name: str = "egressguard",
    hostname: str = "-",
    procid: str = "-",
    facility: int = FACILITY_LOG_AUDIT,
) -> bytes:
    """One RFC 5424 message (no framing); MSG is the record's JSON line."""
    payload = _payload(record)
    severity = {"ok": 6, "blocked": 4, "failed": 3}[_level(payload)]
    msgid = _header_field(str(payload.get("type", "record")), 32)
    header = (
        f"<{facility * 8 + severity}>1 {record.ts} {_header_field(hostname, 255)} "
        f"{_header_field(app_name, 48)} {_header_field(procid, 128)} {msgid}"
    )
    message = to_jsonl(record).rstrip("\n")
    return f"{header} {_structured_data(record, payload)} {message}".encode()


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet counting: ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(message)).encode("ascii") + b" " + message


@dataclass(frozen=True, slots=True)
class SyslogTarget:
    host: str
    port: int
    tls: bool = False
    ca_file: Path | None = None  # None: the system trust store
    server_name: str | None = None  # for certificate checks; default: host
    timeout_s: float = 10.0


def _tls_context(target: SyslogTarget) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 5425 requires TLS 1.2 support
    return context


class SyslogTcpSink:
    """Sends records to a syslog collector over TCP or TLS, octet-counted (RFC 6587)."""

    def __init__(
        self, target: SyslogTarget, *, app_name: str = "egressguard", hostname: str = "-"
    ) -> None:
        self._target = target
        self._app_name = app_name
        self._hostname = hostname
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        target = self._target
        try:
            sock = socket.create_connection((target.host, target.port), target.timeout_s)
            if target.tls:
                name = target.server_name or target.host
                sock = _tls_context(target).wrap_socket(sock, server_hostname=name)
        except (OSError, ssl.SSLError) as exc:
            raise ChainError(f"syslog {target.host}:{target.port}: {exc}") from exc
        return sock

    def send(self, record: Record) -> None:
        frame = octet_frame(to_syslog(record, app_name=self._app_name, hostname=self._hostname))
        if self._sock is None:
            self._sock = self._connect()
        try:
            self._sock.sendall(frame)
        except OSError as exc:
            self.close()
            raise ChainError(f"syslog {self._target.host}:{self._target.port}: {exc}") from exc

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            if isinstance(sock, ssl.SSLSocket):
                with contextlib.suppress(OSError):  # ssl.SSLError is an OSError
                    sock = sock.unwrap()  # close_notify, so the collector sees a clean end
            sock.close()

    def __enter__(self) -> SyslogTcpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- CEF -------------------------------------------------------------------------------------
def _cef_header(value: str) -> str:
    value = value.replace("\\", "\\\\").replace("|", "\\|")
    return value.replace("\r", " ").replace("\n", " ")


def _cef_value(value: str) -> str:
    value = value.replace("\\", "\\\\").replace("=", "\\=")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


_CEF_NAMES = {
    "ok": ("AI exchange", 3),
    "blocked": ("AI exchange blocked", 6),
    "failed": ("AI exchange failed", 8),
}
_CEF_KEYS = (
    ("tenant", "cs1", "tenant"),
    ("upstream", "cs2", "upstream"),
    ("region", "cs3", "region"),
    ("categories", "cs4", "categories"),
    ("actions", "cs5", "actions"),
)
_CEF_DIGESTS = (  # the keyed body digests, in the dictionary's two flex strings
    ("request_digest", "flexString1", "requestDigest"),
    ("response_digest", "flexString2", "responseDigest"),
)
_CEF_STANDARD = (
    ("client", "suser"),
    ("route", "request"),
    ("status", "outcome"),
    ("request_id", "externalId"),
    ("error", "reason"),
)


def _cef_extension(record: Record, payload: Mapping[str, Any]) -> str:
    rt = int(parse_ts(record.ts).astimezone(UTC).timestamp() * 1000)
    pairs = [
        ("rt", str(rt)),
        ("cn1", str(record.seq)),
        ("cn1Label", "seq"),
        ("cs6", record.hash),
        ("cs6Label", "recordHash"),
    ]
    for field, key, label in _CEF_KEYS:
        if payload.get(field):
            pairs += [(key, _text(payload[field])), (f"{key}Label", label)]
    pairs += [
        (key, _text(payload[f])) for f, key in _CEF_STANDARD if payload.get(f) not in (None, "")
    ]
    if "latency_ms" in payload:
        pairs += [("cn2", _text(payload["latency_ms"])), ("cn2Label", "latencyMs")]
    for field, key, label in _CEF_DIGESTS:
        if payload.get(field):
            pairs += [(key, _text(payload[field])), (f"{key}Label", label)]
    if payload.get("digest_key"):  # a vendor key (CEF: VendorProductName) for the key's id
        pairs.append(("EgressGuardGatewayDigestKey", _text(payload["digest_key"])))
    return " ".join(f"{key}={_cef_value(value)}" for key, value in pairs)


def to_cef(record: Record) -> str:
    """One CEF:0 line (no newline)."""
    payload = _payload(record)
    name, severity = _CEF_NAMES[_level(payload)]
    signature = str(payload.get("type", "record"))
    header = "|".join(
        _cef_header(part) for part in ("EgressGuard", "gateway", __version__, signature, name)
    )
    return f"CEF:0|{header}|{severity}|{_cef_extension(record, payload)}"


# -- one writer for files ------------------------------------------------------------------------
def write_records(
    records: Iterable[Record],
    fmt: ExportFormat,
    out: IO[bytes],
    *,
    app_name: str = "egressguard",
    hostname: str = "-",
) -> int:
    """Write records in ``fmt``; syslog as octet-counted frames (what a TCP collector reads)."""
    count = 0
    for record in records:
        if fmt is ExportFormat.JSONL:
            out.write(to_jsonl(record).encode("utf-8"))
        elif fmt is ExportFormat.SYSLOG:
            out.write(octet_frame(to_syslog(record, app_name=app_name, hostname=hostname)))
        elif fmt is ExportFormat.CEF:
            out.write(to_cef(record).encode("utf-8") + b"\n")
        else:
            assert_never(fmt)
        count += 1
    return count
