"""Egress proxy and web server logs -> calls to AI providers with their volumes.

Formats (detected from the first lines, or chosen):

    squid     native access.log: `time elapsed client code/status bytes method URL ident
              hierarchy/peer type`; CONNECT lines name `host:port` (HTTPS through the proxy)
    nginx     combined (`$remote_addr - $remote_user [$time_local] "$request" $status
              $body_bytes_sent "$http_referer" "$http_user_agent"`) with any extra fields
              after it (`$host`, `$upstream_addr`, `$proxy_host`, `key=value`): the
              destination is an absolute-URI or CONNECT request target, or an extra field
              that names a catalogue host
    gateway   the JSON lines of `egressguard audit-log export --format jsonl`

The file is read line by line (gzip too) and only per-destination counters are kept, so memory
does not grow with the log. A line that cannot be parsed is counted; the first few are listed
with their line number and reason. A file that is not a log at all (binary, no line of a
known format among the first ones) raises `EvidenceInputError`.
"""

from __future__ import annotations

import calendar
import functools
import gzip
import ipaddress
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, cast
from urllib.parse import urlsplit

from egressguard.catalog import Catalog
from egressguard.errors import EvidenceInputError
from egressguard.model import Region

MAX_LINE = 64 * 1024
_SNIFF_LINES = 50
_KEEP_MALFORMED = 20


class LogFormat(StrEnum):
    SQUID = "squid"
    NGINX = "nginx"
    GATEWAY = "gateway"


_SQUID = re.compile(
    r"(\d{9,11}(?:\.\d+)?)\s+(-?\d+)\s+(\S+)\s+([A-Z_]+)/(\d{3})\s+(\d+)\s+([A-Z]+)\s+(\S+)"
    r"(?:\s+(\S+)\s+(\S+)(?:\s+(\S+))?)?\s*"
)
_Q = r'"((?:[^"\\]|\\.)*)"'
_NGINX = re.compile(
    r"(\S+) \S+ \S+ \[([^\]]+)\] " + _Q + r" (\d{3}) (\d+|-)(?: " + _Q + " " + _Q + r")?(.*)"
)
_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass
class Volume:
    """Calls to one destination from one client."""

    requests: int = 0
    bytes: int = 0
    first: float | None = None  # epoch seconds
    last: float | None = None
    first_line: int = 0
    blocked: int = 0  # refused by the proxy (Squid TCP_DENIED)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, size: int, when: float | None, line: int, status: str, blocked: bool) -> None:
        self.requests += 1
        self.blocked += blocked
        self.bytes += size
        if not self.first_line:
            self.first_line = line
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        self.statuses[status] += 1


@dataclass(frozen=True, slots=True)
class Destination:
    provider: str  # provider or widget id; "" for a gateway upstream not in the catalogue
    host: str  # catalogue host, or the gateway's upstream id
    region: Region


@dataclass
class LogSummary:
    name: str
    format: LogFormat
    lines: int = 0
    bytes_read: int = 0
    malformed: int = 0
    malformed_samples: list[tuple[int, str]] = field(default_factory=list)
    other_requests: int = 0  # parsed lines to hosts that are not AI providers
    volumes: dict[tuple[Destination, str], Volume] = field(default_factory=dict)  # (dest, client)

    def bad(self, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.malformed_samples) < _KEEP_MALFORMED:
            self.malformed_samples.append((line, reason))


@dataclass(frozen=True, slots=True)
class _Call:
    target: str  # URL, host:port, or a gateway upstream id
    client: str
    size: int
    when: float | str | None  # epoch seconds, or nginx's $time_local text (parsed on use)
    status: str
    extra: tuple[str, ...] = ()  # nginx fields after the combined format
    region: Region | None = None  # gateway records say it
    blocked: bool = False  # refused by the proxy: nothing reached the destination


def read_log(path: Path, catalog: Catalog, fmt: LogFormat | None = None) -> LogSummary:
    """Count AI-provider calls in a log file (streamed; see the module docstring)."""
    try:
        with _open(path) as stream:
            lines = _lines(stream)
            head = [next(lines, None) for _ in range(_SNIFF_LINES)]
            sniffed = [h for h in head if h is not None]
            chosen = fmt if fmt is not None else _sniff(path, [t for _, t in sniffed])
            summary = LogSummary(path.name, chosen)
            hosts = _Hosts(catalog)
            for number, text in itertools.chain(sniffed, lines):
                _one(summary, number, text, hosts)
            summary.bytes_read = path.stat().st_size
            return summary
    except OSError as exc:
        raise EvidenceInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except EOFError as exc:  # a truncated gzip file
        raise EvidenceInputError(f"{path}: truncated compressed file") from exc


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        start = probe.read(8192)
    if start[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    if b"\0" in start:
        raise EvidenceInputError(f"{path}: not a log file (binary content)")
    return path.open("rb")


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text); an over-long line is cut and marked (never read whole)."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE + 1)) and not rest.endswith(b"\n"):
                pass
            yield number, "\0line too long"
            continue
        yield number, raw.decode("utf-8", "replace").rstrip("\r\n")


def _sniff(path: Path, head: list[str]) -> LogFormat:
    for text in head:
        if not text.strip():
            continue
        if text.lstrip().startswith("{"):
            return LogFormat.GATEWAY
        if _SQUID.fullmatch(text):
            return LogFormat.SQUID
        if _NGINX.fullmatch(text):
            return LogFormat.NGINX
    raise EvidenceInputError(
        f"{path}: not a Squid, nginx or gateway audit log (no known line among the first "
        f"{_SNIFF_LINES}); choose the format with --log-format if it is one"
    )


def _one(summary: LogSummary, number: int, text: str, hosts: _Hosts) -> None:
    summary.lines += 1
    if not text.strip():
        return
    if text.startswith("\0"):
        summary.bad(number, text[1:])
        return
    call = _PARSERS[summary.format](text)
    if isinstance(call, str):
        summary.bad(number, call)
        return
    dest = _destination(call, hosts) if call is not None else None
    if call is None or dest is None:
        summary.other_requests += 1
        return
    volume = summary.volumes.setdefault((dest, call.client), Volume())
    when = _nginx_time(call.when) if isinstance(call.when, str) else call.when
    volume.add(call.size, when, number, call.status, call.blocked)


_Known = tuple[Destination | None, "re.Pattern[str] | None"]
_CACHE_LIMIT = 65536


class _Hosts:
    """Host -> catalogue answer, cached for one log (a log names few distinct hosts)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.known: dict[str, _Known] = {}

    def classify(self, host: str) -> _Known:
        found = self.known.get(host)
        if found is None:
            if len(self.known) >= _CACHE_LIMIT:
                self.known.clear()
            found = self.known[host] = self._classify(host)
        return found

    def _classify(self, host: str) -> _Known:
        match = self.catalog.classify_host(host)
        if match is not None:
            dest = Destination(match.provider.id, match.host, match.region)
            return dest, match.provider.requires_path
        widget = self.catalog.classify_widget(host)
        if widget is not None and widget.ai:
            region = self.catalog.widget_region(host) or widget.region
            return Destination(widget.id, host.split(":")[0], region), None
        return None, None


def _destination(call: _Call, hosts: _Hosts) -> Destination | None:
    if call.region is not None:  # a gateway record: the upstream id and its region are facts
        return Destination("", call.target, call.region)
    for candidate in (call.target, *call.extra):
        host = _host_of(candidate)
        if not host:
            continue
        dest, needs = hosts.classify(host)
        if dest is None:
            continue
        if needs is not None and needs.match(_path_of(call.target)) is None:
            continue  # a catch-all runtime (private IP, *.local) counts only on an AI API path
        return dest
    return None


def _path_of(target: str) -> str:
    if "://" in target:
        try:
            return urlsplit(target).path or "/"
        except ValueError:
            return "/"
    return target if target.startswith("/") else "/"


def _host_of(value: str) -> str:
    """`host` or `host:port` of a URL, an authority, or a `key=value` field."""
    value = value.strip().strip('"')
    if "=" in value and "://" not in value.split("=", 1)[0]:
        value = value.split("=", 1)[1]
    if "://" in value:
        try:
            parts = urlsplit(value)
            return parts.netloc.rsplit("@", 1)[-1].lower()
        except ValueError:
            return ""
    if "/" in value or not value or value == "-":
        return ""
    return value.lower()


def _parse_squid(text: str) -> _Call | str | None:
    m = _SQUID.fullmatch(text)
    if m is None:
        return "not a Squid native access.log line"
    when, _, client, code, status, size, _, url = m.groups()[:8]
    return _Call(url, client, int(size), float(when), status, blocked="DENIED" in code)


def _parse_nginx(text: str) -> _Call | str | None:
    m = _NGINX.fullmatch(text)
    if m is None:
        return "not an nginx combined line"
    client, stamp, request, status, size, _, _, rest = m.groups()
    parts = request.split(" ")
    target = parts[1] if len(parts) >= 2 else ""
    if parts and parts[0] == "CONNECT":
        target = target.split("/")[0]
    extra = tuple(quoted or bare for quoted, bare in _FIELD.findall(rest or ""))
    size_n = int(size) if size.isdigit() else 0
    return _Call(target, client, size_n, stamp, status, extra)


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_TIME_LOCAL = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


@functools.lru_cache(maxsize=4096)  # consecutive lines share their second
def _nginx_time(stamp: str) -> float | None:
    """`25/Nov/2026:10:00:00 +0100` -> epoch seconds (strptime is ten times slower)."""
    m = _TIME_LOCAL.fullmatch(stamp)
    if m is None or m.group(2) not in _MONTHS:
        return None
    day, month, year, hh, mm, ss, sign, oh, om = m.groups()
    try:
        base = calendar.timegm(
            (int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss), 0, 0, 0)
        )
    except (OverflowError, ValueError):
        return None
    offset = (int(oh) * 3600 + int(om) * 60) * (1 if sign == "+" else -1)
    return float(base - offset)


def _parse_gateway(text: str) -> _Call | str | None:
    """A call, a reason the line is malformed, or None: a record of nothing sent."""
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return "not JSON"
    payload = record.get("payload") if isinstance(record, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("upstream"), str):
        return "not a gateway audit record (no payload.upstream)"
    upstream = payload["upstream"]
    if not upstream:
        return None  # blocked before routing: nothing left the gateway
    try:
        region = Region(str(payload.get("region", "unknown")))
    except ValueError:
        region = Region.UNKNOWN
    when = _iso_time(payload.get("ts"))
    status = str(payload.get("status", ""))
    return _Call(upstream, str(payload.get("client", "")), 0, when, status, region=region)


def _iso_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


_PARSERS = {
    LogFormat.SQUID: _parse_squid,
    LogFormat.NGINX: _parse_nginx,
    LogFormat.GATEWAY: _parse_gateway,
}


_INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "fc00::/7", "::1/128")
)


def is_private_client(client: str) -> bool:
    """Servers and proxies (RFC 1918, ULA, loopback) are shown; other addresses may be
    shoppers' and are only counted. A gateway client is a configured name, not an address."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return True
    return any(address in network for network in _INTERNAL)


def iso(when: float | None) -> str:
    if when is None:
        return "?"
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
