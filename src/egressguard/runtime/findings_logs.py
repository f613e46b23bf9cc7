"""A log summary -> `ScanResult`: one inventory finding per AI destination with its volumes,
and a residency finding for each destination outside the EU/EEA.

`file` is the log's name and `line` the first line that called the destination. Client
addresses are shown only when private or loopback (servers behind an egress proxy); public
addresses are shoppers' and appear as a count.
"""

from __future__ import annotations

import time
from collections import defaultdict

from egressguard import __version__
from egressguard.catalog import Catalog, load_catalog
from egressguard.model import (
    Confidence,
    Finding,
    Hit,
    Region,
    ScanResult,
    ScanStats,
    Severity,
    SkippedTarget,
    Tool,
)
from egressguard.runtime.logs import Destination, LogSummary, Volume, is_private_client, iso

_TRANSFER_SEVERITY = {Region.CN: Severity.HIGH}
_SHOWN_CLIENTS = 5


def analyse_log(summary: LogSummary, catalog: Catalog | None = None) -> ScanResult:
    started = time.perf_counter()
    catalog = catalog if catalog is not None else load_catalog()
    by_dest: dict[Destination, dict[str, Volume]] = defaultdict(dict)
    for (dest, client), volume in summary.volumes.items():
        by_dest[dest][client] = volume
    hits = []
    for dest, clients in sorted(by_dest.items(), key=lambda kv: (kv[0].provider, kv[0].host)):
        hits.extend(_hits(summary, dest, clients, catalog))
    findings = [_finding(summary.name, hit, catalog) for hit in hits]
    findings.sort(key=lambda f: (-f.severity.rank, f.file, f.line, f.rule, f.fingerprint))
    skipped = tuple(
        SkippedTarget(f"{summary.name}:{line}", "malformed-line", reason)
        for line, reason in summary.malformed_samples
    )
    warnings: tuple[str, ...] = ()
    if summary.malformed:
        warnings = (
            f"{summary.name}: {summary.malformed} of {summary.lines} line(s) could not be read "
            f"as {summary.format} log lines (the first {len(skipped)} are listed as skipped)",
        )
    return ScanResult(
        tool=Tool("egressguard", __version__),
        roots=(summary.name,),
        platforms=(),
        integrations=(),
        findings=tuple(findings),
        skipped=skipped,
        stats=ScanStats(
            summary.lines, summary.bytes_read, round(time.perf_counter() - started, 3), 1
        ),
        warnings=warnings,
        providers=catalog.provider_infos({f.provider for f in findings if f.provider}),
        rules=tuple(catalog.rule_info(r) for r in sorted({f.rule for f in findings})),
        checked_rules=("ai-endpoint", "ai-transfer-third-country"),
    )


def _hits(
    summary: LogSummary, dest: Destination, clients: dict[str, Volume], catalog: Catalog
) -> list[Hit]:
    requests = sum(v.requests for v in clients.values())
    blocked = sum(v.blocked for v in clients.values())
    size = sum(v.bytes for v in clients.values())
    firsts = [v.first for v in clients.values() if v.first is not None]
    lasts = [v.last for v in clients.values() if v.last is not None]
    span = f"{iso(min(firsts) if firsts else None)} to {iso(max(lasts) if lasts else None)}"
    line = min(v.first_line for v in clients.values())
    name = _name(dest, catalog)
    refused = f" ({blocked} refused by the proxy)" if blocked else ""
    volume = (
        f"{requests} request(s){refused}, {size} bytes, {len(clients)} client(s) "
        f"({_clients(clients)}), {span}"
    )
    bytes_note = {
        "squid": "bytes: Squid's reply size",
        "nginx": "bytes: $body_bytes_sent",
        "gateway": "bytes: not in audit records",
    }[str(summary.format)]
    evidence = f"{summary.format} log: {volume}; {bytes_note}"
    hits = [
        Hit(
            rule="ai-endpoint",
            line=line,
            message=f"{name} at {dest.host} called ({summary.format} log): {volume}",
            evidence=evidence,
            key=f"{dest.provider}|{dest.host}|log",
            provider=dest.provider or None,
            host=dest.host,
            region=dest.region,
            confidence=Confidence.HIGH,
        )
    ]
    if not dest.region.is_sovereign and requests > blocked:
        hits.append(
            Hit(
                rule="ai-transfer-third-country",
                line=line,
                message=(
                    f"{name} at {dest.host} processes data in region '{dest.region}': "
                    f"{requests - blocked} request(s) left for it ({span}); a transfer outside "
                    "the EU/EEA needs a Chapter V tool (GDPR Art. 44-46)"
                ),
                evidence=evidence,
                key=f"{dest.provider}|{dest.host}",
                provider=dest.provider or None,
                host=dest.host,
                region=dest.region,
                severity=_TRANSFER_SEVERITY.get(dest.region, Severity.MEDIUM),
                confidence=Confidence.HIGH,
            )
        )
    return hits


def _name(dest: Destination, catalog: Catalog) -> str:
    for p in catalog.providers:
        if p.id == dest.provider:
            return p.name
    for w in catalog.widgets:
        if w.id == dest.provider:
            return w.name
    return f"gateway upstream {dest.host}" if not dest.provider else dest.provider


def _clients(clients: dict[str, Volume]) -> str:
    ranked = sorted(clients.items(), key=lambda kv: (-kv[1].requests, kv[0]))
    shown = [f"{c}: {v.requests}" for c, v in ranked if is_private_client(c)][:_SHOWN_CLIENTS]
    public = sum(1 for c in clients if not is_private_client(c))
    parts = shown + ([f"{public} public address(es), not shown"] if public else [])
    return "; ".join(parts) if parts else "none"


def _finding(file: str, hit: Hit, catalog: Catalog) -> Finding:
    return catalog.finding(hit, file, 1)
