"""The JSON report: every field of the ScanResult, in a stable, documented order.

The layout is described field by field in docs/json-schema.md and machine-readably in
docs/report.schema.json. Keys are NOT sorted: each object keeps the order written here
(the documented order); lists keep the order of the result (findings arrive sorted).
Optional values are always present, as null, so consumers never test for a missing key.
"""

from __future__ import annotations

import json
from typing import Any

from egressguard.errors import ReportError
from egressguard.model import (
    Finding,
    Frameworks,
    Integration,
    Location,
    Platform,
    ProviderInfo,
    RuleInfo,
    ScanResult,
    ScanStats,
    SkippedTarget,
    Suppressed,
    TraceStep,
)
from egressguard.report.overview import FRAMEWORK_COLUMNS

Json = dict[str, Any]


def render(result: ScanResult) -> str:
    """The report as UTF-8-ready text: two-space indent, non-ASCII kept, trailing newline."""
    try:
        return json.dumps(to_document(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:  # a value json cannot encode (e.g. NaN duration)
        raise ReportError(f"cannot encode the JSON report: {exc}") from exc


def to_document(result: ScanResult) -> Json:
    """The report as plain JSON values (dicts keep the documented key order)."""
    return {
        "schema_version": result.schema_version,
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "roots": list(result.roots),
        "platforms": [_platform(p) for p in result.platforms],
        "integrations": [_integration(i) for i in result.integrations],
        "findings": [_finding(f) for f in result.findings],
        "skipped": [_skipped(s) for s in result.skipped],
        "suppressed": [_suppressed(s) for s in result.suppressed],
        "warnings": list(result.warnings),
        "providers": [_provider(p) for p in result.providers],
        "rules": [_rule(r) for r in result.rules],
        "stats": _stats(result.stats),
    }


def _provider(info: ProviderInfo) -> Json:
    return {
        "id": info.id,
        "name": info.name,
        "jurisdiction": info.jurisdiction,
        "region": info.region.value,
        "eu_option": info.eu_option,
    }


def _platform(platform: Platform) -> Json:
    return {"kind": platform.kind.value, "root": platform.root, "evidence": platform.evidence}


def _integration(integration: Integration) -> Json:
    return {
        "provider": integration.provider,
        "provider_name": integration.provider_name,
        "host": integration.host,
        "region": integration.region.value,
        "jurisdiction": integration.jurisdiction,
        "eu_option": integration.eu_option,
        "runs_in": integration.runs_in.value,
        "features": list(integration.features),
        "data_categories": [c.value for c in integration.data_categories],
        "locations": [_location(loc) for loc in integration.locations],
    }


def _location(location: Location) -> Json:
    return {"file": location.file, "line": location.line}


def _finding(finding: Finding) -> Json:
    return {
        "id": finding.id,
        "rule": finding.rule,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "file": finding.file,
        "line": finding.line,
        "provider": finding.provider,
        "host": finding.host,
        "region": finding.region.value if finding.region else None,
        "data_categories": [c.value for c in finding.data_categories],
        "frameworks": frameworks(finding.frameworks),
        "message": finding.message,
        "evidence": finding.evidence,
        "remediation": finding.remediation,
        "trace": [_trace_step(step) for step in finding.trace],
        "excerpt": [{"line": line, "text": text} for line, text in finding.excerpt],
        "fingerprint": finding.fingerprint,
    }


def frameworks(mapping: Frameworks) -> Json:
    """Framework references keyed by the model's field names (gdpr, nis2, ...)."""
    return {attr: list(getattr(mapping, attr)) for attr, _ in FRAMEWORK_COLUMNS}


def _trace_step(step: TraceStep) -> Json:
    return {"file": step.file, "line": step.line, "note": step.note}


def _skipped(skipped: SkippedTarget) -> Json:
    return {"file": skipped.file, "reason": skipped.reason, "detail": skipped.detail}


def _suppressed(suppressed: Suppressed) -> Json:
    return {
        "rule": suppressed.rule,
        "file": suppressed.file,
        "fingerprint": suppressed.fingerprint,
        "via": suppressed.via,
        "reason": suppressed.reason,
    }


def _rule(rule: RuleInfo) -> Json:
    return {
        "id": rule.id,
        "kind": rule.kind.value,
        "severity": rule.severity.value,
        "title": rule.title,
        "description": rule.description,
        "remediation": rule.remediation,
        "frameworks": frameworks(rule.frameworks),
        "help_uri": rule.help_uri,
    }


def _stats(stats: ScanStats) -> Json:
    return {
        "files_scanned": stats.files_scanned,
        "bytes_scanned": stats.bytes_scanned,
        "duration_s": stats.duration_s,
        "candidate_files": stats.candidate_files,
    }
