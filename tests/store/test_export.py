"""Exports: JSON lines (verifiable), RFC 5424 syslog over real TCP and TLS servers, CEF."""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest

from egressguard.errors import ChainError
from egressguard.store.chain import Record, link
from egressguard.store.export import (
    ExportFormat,
    SyslogTarget,
    to_cef,
    to_jsonl,
    to_syslog,
    write_records,
)
from egressguard.store.ops import export_chain, send_chain_syslog, verify_chain, verify_jsonl
from egressguard.store.sqlite import SqliteChain
from tests.tls_certs import self_signed

T0 = dt.datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
EXCHANGE = {
    "type": "gateway.exchange",
    "ev": 1,
    "tenant": "shop1",
    "client": "magento",
    "route": "/v1/chat/completions",
    "upstream": "local-llm",
    "region": "local",
    "categories": {"email": 2, "phone": 1},
    "actions": {"email": "tokenize", "phone": "mask"},
    "request_digest": "a" * 64,
    "response_digest": "b" * 64,
    "status": 200,
    "latency_ms": 1.5,
    "stream": True,
    "error": "",
    "request_id": "req-1",
}

SYSLOG = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) "
    r"(?P<msgid>\S+) (?P<sd>\[egressguard@32473 (?:[^\]\\]|\\.)*\]) (?P<msg>.*)",
    re.DOTALL,
)


def record(payload: dict[str, Any] | None = None) -> Record:
    return link(None, payload or EXCHANGE, T0)


@pytest.fixture
def chain_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.sqlite3"
    with SqliteChain(path) as chain:
        for n in range(5):
            chain.append({**EXCHANGE, "tenant": f"shop{n % 2}", "request_id": f"req-{n}"})
    return path


# -- JSON lines -----------------------------------------------------------------------------------
def test_jsonl_export_verifies_like_the_database(chain_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    with out.open("wb") as handle:
        assert export_chain(chain_path, "jsonl", handle) == 5
    assert verify_jsonl(out).ok
    assert verify_jsonl(out).head_hash == verify_chain(chain_path).head_hash
    lines = out.read_text().splitlines()
    lines[2] = lines[2].replace('"req-2"', '"req-X"')
    out.write_text("\n".join(lines) + "\n")
    report = verify_jsonl(out)
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_jsonl_line_is_canonical_and_carries_the_chain_fields() -> None:
    line = to_jsonl(record())
    assert line.endswith("}\n") and line.count("\n") == 1
    assert line.startswith('{"hash":"') and '"prev":"0000' in line and '"seq":1' in line


def test_tenant_export_filters(chain_path: Path) -> None:
    buffer = io.BytesIO()
    assert export_chain(chain_path, ExportFormat.JSONL, buffer, tenant="shop1") == 2
    assert export_chain(chain_path, "cef", io.BytesIO(), since_seq=3) == 2


# -- syslog -----------------------------------------------------------------------------------
def test_syslog_message_follows_rfc5424() -> None:
    message = to_syslog(record(), hostname="gw-1.example", procid="4242").decode()
    match = SYSLOG.fullmatch(message)
    assert match is not None, message
    assert match["pri"] == str(13 * 8 + 6)  # facility log audit, severity informational
    assert (match["ts"], match["host"], match["app"]) == (
        "2025-03-01T12:00:00.250000Z",
        "gw-1.example",
        "egressguard",
    )
    assert (match["procid"], match["msgid"]) == ("4242", "gateway.exchange")
    assert 'seq="1"' in match["sd"] and 'categories="email=2,phone=1"' in match["sd"]
    assert match["msg"] == to_jsonl(record()).rstrip("\n")


def test_syslog_names_the_key_the_digests_are_keyed_with() -> None:
    """A SIEM keeps the structured data: the digests are useless without their key's id."""
    keyed = {**EXCHANGE, "ev": 2, "digest_key": "k-3f9a1c2b"}
    match = SYSLOG.fullmatch(to_syslog(record(keyed)).decode())
    assert match is not None
    assert f'request_digest="{"a" * 64}"' in match["sd"]
    assert 'digest_key="k-3f9a1c2b"' in match["sd"]


@pytest.mark.parametrize(
    ("status", "error", "severity"), [(403, "", 4), (502, "", 3), (200, "x", 3)]
)
def test_syslog_severity_follows_the_outcome(status: int, error: str, severity: int) -> None:
    message = to_syslog(record({**EXCHANGE, "status": status, "error": error}))
    assert message.startswith(f"<{13 * 8 + severity}>1 ".encode())


def test_syslog_escapes_param_values_and_sanitises_header_fields() -> None:
    message = to_syslog(record({"tenant": 'a"b]c\\d'}), hostname="bad host\n", app_name="")
    text = message.decode()
    assert 'tenant="a\\"b\\]c\\\\d"' in text
    assert " badhost - - record [" in text  # spaces dropped, empty app-name is NILVALUE
    assert SYSLOG.fullmatch(text) is not None


def _frames(data: bytes) -> list[bytes]:
    frames, rest = [], data
    while rest:
        length, _, rest = rest.partition(b" ")
        frames.append(rest[: int(length)])
        rest = rest[int(length) :]
    return frames


class Collector:
    """A one-connection syslog collector on 127.0.0.1 (plain TCP or TLS)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = context
        self.data = b""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(10)
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            with conn:
                while chunk := conn.recv(65536):
                    self.data += chunk
        except (OSError, ssl.SSLError) as exc:
            self.error = exc
        finally:
            self.listener.close()

    def result(self) -> bytes:
        self.thread.join(10)
        return self.data


def test_syslog_over_tcp_with_octet_counting(chain_path: Path) -> None:
    collector = Collector()
    target = SyslogTarget("127.0.0.1", collector.port)
    assert send_chain_syslog(chain_path, target, hostname="gw") == 5
    frames = _frames(collector.result())
    assert len(frames) == 5
    assert all(SYSLOG.fullmatch(f.decode()) for f in frames)
    assert [re.search(rb'seq="(\d+)"', f)[1] for f in frames] == [b"1", b"2", b"3", b"4", b"5"]  # type: ignore[index]


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (and its key)."""
    return self_signed(tmp_path, "egressguard test collector")


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_syslog_over_tls_verifies_the_collector(
    chain_path: Path, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    collector = Collector(_server_context(cert, key))
    target = SyslogTarget("127.0.0.1", collector.port, tls=True, ca_file=cert)
    assert send_chain_syslog(chain_path, target) == 5
    frames = _frames(collector.result())
    assert len(frames) == 5 and all(SYSLOG.fullmatch(f.decode()) for f in frames)


def test_syslog_over_tls_refuses_an_unknown_certificate(
    chain_path: Path, tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = tls_files
    collector = Collector(_server_context(cert, key))
    target = SyslogTarget("127.0.0.1", collector.port, tls=True)  # system trust store only
    with pytest.raises(ChainError, match="CERTIFICATE_VERIFY_FAILED"):
        send_chain_syslog(chain_path, target)
    assert collector.result() == b""


def test_syslog_to_a_closed_port_is_a_chain_error(chain_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(ChainError, match=f"127.0.0.1:{port}"):
        send_chain_syslog(chain_path, SyslogTarget("127.0.0.1", port, timeout_s=2))


# -- CEF ------------------------------------------------------------------------------------------
def test_cef_line() -> None:
    line = to_cef(record())
    head, _, extension = line.partition("|3|")
    assert head == "CEF:0|EgressGuard|gateway|0.1.0|gateway.exchange|AI exchange"
    fields = dict(re.findall(r"(\w+)=((?:[^=\\]|\\.)*?)(?= \w+=|$)", extension))
    assert fields["cs1Label"] == "tenant" and fields["cs1"] == "shop1"
    assert fields["cs4"] == r"email\=2,phone\=1"
    assert fields["cn1"] == "1" and fields["suser"] == "magento"
    assert fields["rt"] == str(int(T0.timestamp() * 1000))
    # the keyed body digests and the id of their key, as in syslog
    assert fields["flexString1"] == "a" * 64 and fields["flexString1Label"] == "requestDigest"
    assert fields["flexString2"] == "b" * 64 and fields["flexString2Label"] == "responseDigest"
    assert "EgressGuardGatewayDigestKey" not in fields  # this record names no key
    keyed = to_cef(record({**EXCHANGE, "digest_key": "0123456789abcdef"}))
    assert keyed.endswith(" EgressGuardGatewayDigestKey=0123456789abcdef")


def test_cef_escapes_header_and_extension() -> None:
    line = to_cef(record({"type": "a|b\\c", "route": "x|y=z\\w\r\nv", "status": 403}))
    assert line.startswith("CEF:0|EgressGuard|gateway|0.1.0|a\\|b\\\\c|AI exchange blocked|6|")
    assert "request=x|y\\=z\\\\w\\nv" in line
    assert "\n" not in line and "\r" not in line


def test_write_records_frames_syslog_and_ends_cef_lines() -> None:
    records = [record(), record()]
    buffer = io.BytesIO()
    assert write_records(records, ExportFormat.SYSLOG, buffer) == 2
    assert len(_frames(buffer.getvalue())) == 2
    buffer = io.BytesIO()
    write_records(records, ExportFormat.CEF, buffer)
    assert buffer.getvalue().count(b"\n") == 2
