"""The JSON report: every field of the ScanResult, in a stable, documented order.

The layout is described field by field in docs/json-schema.md and machine-readably in
docs/report.schema.json. Keys are NOT sorted: each object keeps the order written here
(the documented order); lists keep the order of the result (findings arrive sorted).
Optional values are always present, as null, so consumers never test for a missing key.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, TypeVar

from egressguard.errors import EvidenceInputError, ReportError
from egressguard.model import (
    Confidence,
    DataCategory,
    Finding,
    Frameworks,
    Integration,
    Kind,
    Location,
    Platform,
    PlatformKind,
    ProviderInfo,
    Region,
    RuleInfo,
    RunsIn,
    ScanResult,
    ScanStats,
    Severity,
    SkippedTarget,
    Suppressed,
    Tool,
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
        "checked_rules": list(result.checked_rules),
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


# -- reading a report back (egressguard merge) -------------------------------------------------
# The inverse of `to_document`: every field is checked, and a report that is not one raises
# EvidenceInputError naming the field (e.g. "findings[3].severity"), never a bare KeyError.


class _Doc:
    """Typed access to one JSON object of a report; errors name the field's path."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise EvidenceInputError(f"{where or 'report'}: expected an object")
        self.data: dict[str, Any] = value
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str) -> object:
        if key not in self.data:
            raise EvidenceInputError(f"{self._path(key)}: missing")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise EvidenceInputError(f"{self._path(key)}: expected a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.get(key)
        return None if value is None else self.text(key)

    def integer(self, key: str) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EvidenceInputError(f"{self._path(key)}: expected an integer")
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EvidenceInputError(f"{self._path(key)}: expected a number")
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise EvidenceInputError(f"{self._path(key)}: expected true or false")
        return value

    def items(self, key: str) -> list[object]:
        value = self.get(key)
        if not isinstance(value, list):
            raise EvidenceInputError(f"{self._path(key)}: expected a list")
        return value

    def objects(self, key: str) -> list[_Doc]:
        return [_Doc(v, f"{self._path(key)}[{i}]") for i, v in enumerate(self.items(key))]

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        if not all(isinstance(v, str) for v in values):
            raise EvidenceInputError(f"{self._path(key)}: expected a list of strings")
        return tuple(str(v) for v in values)

    def enum(self, key: str, kind: type[_E]) -> _E:
        value = self.text(key)
        try:
            return kind(value)
        except ValueError:
            raise EvidenceInputError(f"{self._path(key)}: unknown value {value!r}") from None

    def enums(self, key: str, kind: type[_E]) -> tuple[_E, ...]:
        out = []
        for value in self.texts(key):
            try:
                out.append(kind(value))
            except ValueError:
                raise EvidenceInputError(f"{self._path(key)}: unknown value {value!r}") from None
        return tuple(out)

    def sub(self, key: str) -> _Doc:
        return _Doc(self.get(key), self._path(key))


_E = TypeVar("_E", bound=StrEnum)


def parse(text: str) -> ScanResult:
    """A `ScanResult` from the text of a JSON report (the inverse of `render`)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvidenceInputError(
            f"not a JSON report (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise EvidenceInputError("not a JSON report (nested too deeply)") from exc
    return from_document(document)


def from_document(document: object) -> ScanResult:
    doc = _Doc(document, "")
    version = doc.text("schema_version")
    if not version.startswith("1."):
        raise EvidenceInputError(f"schema_version {version!r}: this EgressGuard reads 1.x")
    tool = doc.sub("tool")
    return ScanResult(
        tool=Tool(tool.text("name"), tool.text("version")),
        roots=doc.texts("roots"),
        platforms=tuple(_read_platform(d) for d in doc.objects("platforms")),
        integrations=tuple(_read_integration(d) for d in doc.objects("integrations")),
        findings=tuple(_read_finding(d) for d in doc.objects("findings")),
        skipped=tuple(
            SkippedTarget(d.text("file"), d.text("reason"), d.text("detail"))
            for d in doc.objects("skipped")
        ),
        stats=_read_stats(doc.sub("stats")),
        suppressed=tuple(
            Suppressed(
                d.text("rule"), d.text("file"), d.text("fingerprint"), d.text("via"),
                d.text("reason"),
            )
            for d in doc.objects("suppressed")
        ),
        warnings=doc.texts("warnings"),
        providers=tuple(
            ProviderInfo(
                d.text("id"), d.text("name"), d.text("jurisdiction"), d.enum("region", Region),
                d.flag("eu_option"),
            )
            for d in doc.objects("providers")
        ),
        schema_version=version,
        rules=tuple(_read_rule(d) for d in doc.objects("rules")),
        checked_rules=doc.texts("checked_rules") if "checked_rules" in doc.data else (),
    )  # fmt: skip


def _read_platform(d: _Doc) -> Platform:
    return Platform(d.enum("kind", PlatformKind), d.text("root"), d.text("evidence"))


def _read_location(d: _Doc) -> Location:
    return Location(d.text("file"), d.integer("line"))


def _read_integration(d: _Doc) -> Integration:
    return Integration(
        provider=d.text("provider"),
        provider_name=d.text("provider_name"),
        host=d.text("host"),
        region=d.enum("region", Region),
        jurisdiction=d.text("jurisdiction"),
        eu_option=d.flag("eu_option"),
        runs_in=d.enum("runs_in", RunsIn),
        locations=tuple(_read_location(x) for x in d.objects("locations")),
        features=d.texts("features"),
        data_categories=d.enums("data_categories", DataCategory),
    )


def _read_frameworks(d: _Doc) -> Frameworks:
    return Frameworks(**{attr: d.texts(attr) for attr, _ in FRAMEWORK_COLUMNS})


def _read_finding(d: _Doc) -> Finding:
    region = d.get("region")
    return Finding(
        id=d.text("id"),
        rule=d.text("rule"),
        kind=d.enum("kind", Kind),
        severity=d.enum("severity", Severity),
        confidence=d.enum("confidence", Confidence),
        file=d.text("file"),
        line=d.integer("line"),
        message=d.text("message"),
        evidence=d.text("evidence"),
        remediation=d.text("remediation"),
        frameworks=_read_frameworks(d.sub("frameworks")),
        fingerprint=d.text("fingerprint"),
        provider=d.opt_text("provider"),
        host=d.opt_text("host"),
        region=None if region is None else d.enum("region", Region),
        data_categories=d.enums("data_categories", DataCategory),
        trace=tuple(
            TraceStep(t.text("file"), t.integer("line"), t.text("note")) for t in d.objects("trace")
        ),
        excerpt=tuple((e.integer("line"), e.text("text")) for e in d.objects("excerpt")),
    )


def _read_rule(d: _Doc) -> RuleInfo:
    return RuleInfo(
        id=d.text("id"),
        kind=d.enum("kind", Kind),
        severity=d.enum("severity", Severity),
        title=d.text("title"),
        description=d.text("description"),
        remediation=d.text("remediation"),
        frameworks=_read_frameworks(d.sub("frameworks")),
        help_uri=d.text("help_uri"),
    )


def _read_stats(d: _Doc) -> ScanStats:
    return ScanStats(
        files_scanned=d.integer("files_scanned"),
        bytes_scanned=d.integer("bytes_scanned"),
        duration_s=d.number("duration_s"),
        candidate_files=d.integer("candidate_files"),
    )
