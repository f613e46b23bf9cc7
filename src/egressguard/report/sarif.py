"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run. `tool.driver.rules` holds every rule of the result plus any rule a finding names
that the result does not describe (so every `ruleIndex` resolves). Skipped files become
tool execution notifications: they are not failures of the run.

GitHub reads `properties.security-severity` from the rule as a string holding a number
("9.5"), like CodeQL writes it; the finding's own severity sets the result `level`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from egressguard.errors import ReportError
from egressguard.model import Finding, RuleInfo, ScanResult, Severity, SkippedTarget, TraceStep
from egressguard.report.json_report import frameworks
from egressguard.report.overview import framework_refs, rule_index

Json = dict[str, Any]

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "egressguard/v1"

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}

LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def render(result: ScanResult) -> str:
    try:
        return json.dumps(to_document(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ReportError(f"cannot encode the SARIF report: {exc}") from exc


def to_document(result: ScanResult) -> Json:
    rules = _rules(result)
    positions = {rule.id: i for i, rule in enumerate(rules)}
    run: Json = {
        "tool": {"driver": _driver(result, rules)},
        "invocations": [_invocation(result)],
        "results": [_result(f, positions[f.rule]) for f in result.findings],
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(result),
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rules(result: ScanResult) -> list[RuleInfo]:
    """The result's rules, then a stand-in for each rule that only a finding mentions."""
    known = rule_index(result)
    rules = list(known.values())
    for finding in result.findings:
        if finding.rule not in known:
            known[finding.rule] = _rule_from_finding(finding)
            rules.append(known[finding.rule])
    return rules


def _rule_from_finding(finding: Finding) -> RuleInfo:
    return RuleInfo(
        id=finding.rule,
        kind=finding.kind,
        severity=finding.severity,
        title=finding.rule,
        description=finding.message,
        remediation=finding.remediation,
        frameworks=finding.frameworks,
    )


def _driver(result: ScanResult, rules: list[RuleInfo]) -> Json:
    return {
        "name": result.tool.name,
        "version": result.tool.version,
        "semanticVersion": result.tool.version,
        "rules": [_rule(rule) for rule in rules],
    }


def _rule(rule: RuleInfo) -> Json:
    descriptor: Json = {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", rule.kind.value, "egressguard"],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "frameworks": frameworks(rule.frameworks),
        },
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def _pascal(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rule_id.replace("_", "-").split("-"))


def _framework_lines(rule: RuleInfo) -> list[str]:
    return [
        f"{label}: {', '.join(refs)}" for label, refs in framework_refs(rule.frameworks) if refs
    ]


def _help_text(rule: RuleInfo) -> str:
    lines = [rule.description or rule.title, "", f"Remediation: {rule.remediation}"]
    mapping = _framework_lines(rule)
    if mapping:
        lines += ["", "Framework mapping:", *(f"- {line}" for line in mapping)]
    return "\n".join(lines)


def _help_markdown(rule: RuleInfo) -> str:
    lines = [rule.description or rule.title, "", f"**Remediation:** {rule.remediation}"]
    mapping = _framework_lines(rule)
    if mapping:
        lines += ["", "**Framework mapping**", "", *(f"- {line}" for line in mapping)]
    return "\n".join(lines)


def artifact_location(path: str) -> Json:
    """A relative path becomes a %SRCROOT%-based URI; an absolute one a file:// URI."""
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    return {"uri": quote(path.removeprefix("./"), safe="/"), "uriBaseId": SRCROOT}


def _physical(path: str, line: int) -> Json:
    physical: Json = {"artifactLocation": artifact_location(path)}
    if line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _result(finding: Finding, index: int) -> Json:
    entry: Json = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical(finding.file, finding.line)}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": _result_properties(finding),
    }
    if finding.trace:
        entry["codeFlows"] = [_code_flow(finding.trace)]
    return entry


def _result_properties(finding: Finding) -> Json:
    return {
        "id": finding.id,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "provider": finding.provider,
        "host": finding.host,
        "region": finding.region.value if finding.region else None,
        "data_categories": [c.value for c in finding.data_categories],
        "frameworks": frameworks(finding.frameworks),
        "evidence": finding.evidence,
        "remediation": finding.remediation,
    }


def _code_flow(trace: tuple[TraceStep, ...]) -> Json:
    steps = [
        {"location": {"physicalLocation": _physical(s.file, s.line), "message": {"text": s.note}}}
        for s in trace
    ]
    return {"threadFlows": [{"locations": steps}]}


def _invocation(result: ScanResult) -> Json:
    notes = [_skipped_note(s) for s in result.skipped] + [_warning_note(w) for w in result.warnings]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}


def _skipped_note(skipped: SkippedTarget) -> Json:
    text = f"Skipped {skipped.file}: {skipped.reason}"
    if skipped.detail:
        text += f" ({skipped.detail})"
    return {
        "level": "warning",
        "message": {"text": text},
        "descriptor": {"id": "skipped-target"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(skipped.file)}}],
        "properties": {"reason": skipped.reason, "detail": skipped.detail},
    }


def _warning_note(warning: str) -> Json:
    return {"level": "warning", "message": {"text": warning}, "descriptor": {"id": "scan-warning"}}


def _run_properties(result: ScanResult) -> Json:
    stats = result.stats
    return {
        "schema_version": result.schema_version,
        "roots": list(result.roots),
        "platforms": [p.kind.value for p in result.platforms],
        "suppressed": len(result.suppressed),
        "files_scanned": stats.files_scanned,
        "bytes_scanned": stats.bytes_scanned,
        "duration_s": stats.duration_s,
    }
