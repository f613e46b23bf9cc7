"""The HTML report: one self-contained file for a data-protection officer.

All markup comes from `templates/report.html.j2`, rendered by Jinja2 with autoescaping on:
that is the one place where values from the scanned code are escaped. This module only
prepares plain values (counts, groupings, the flow-map layout). The inline stylesheet and
script are templates too; their SHA-256 hashes go into a Content-Security-Policy that
forbids every network request, so the page can never load anything from outside.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from egressguard.errors import ReportError
from egressguard.model import Finding, Frameworks, Kind, RuleInfo, RunsIn, ScanResult, Severity
from egressguard.report import flowmap
from egressguard.report.overview import (
    FRAMEWORK_COLUMNS,
    ProviderRow,
    by_severity,
    files_with_findings,
    framework_refs,
    highest_risk,
    human_size,
    merge_frameworks,
    provider_names,
    provider_rows,
    rule_index,
    severity_counts,
    summary_sentence,
)

TOP_RISKS = 5


@dataclass(frozen=True, slots=True)
class MatrixRow:
    rule: str
    title: str
    severity: Severity
    findings: int
    refs: tuple[tuple[str, tuple[str, ...]], ...]


def render(result: ScanResult) -> str:
    env = _environment()
    try:
        style = env.get_template("report.css").render()
        script = env.get_template("report.js").render()
        page = env.get_template("report.html.j2")
        return page.render(
            _context(result), style=Markup(style), script=Markup(script), csp=_csp(style, script)
        )
    except jinja2.TemplateError as exc:
        raise ReportError(f"cannot render the HTML report: {exc}") from exc


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("egressguard.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["framework_refs"] = framework_refs
    return env


def _csp(style: str, script: str) -> str:
    """No network at all; only the exact inline stylesheet and script may run."""
    return (
        "default-src 'none'; img-src data:; "
        f"style-src '{_sha256(style)}'; script-src '{_sha256(script)}'; "
        "base-uri 'none'; form-action 'none'"
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _context(result: ScanResult) -> dict[str, Any]:
    counts = severity_counts(result.findings)
    providers = provider_rows(result)
    return {
        "result": result,
        "counts": counts,
        "headline": summary_sentence(counts),
        "plain_points": _plain_points(result, providers),
        "top_risks": highest_risk(result.findings, TOP_RISKS),
        "providers": providers,
        "provider_names": provider_names(result.integrations, result.providers),
        "flow": flowmap.build(result),
        "groups": by_severity(result.findings),
        "matrix": _matrix(result),
        "framework_labels": [label for _, label in FRAMEWORK_COLUMNS],
        "size": human_size(result.stats.bytes_scanned),
    }


def _plain_points(result: ScanResult, providers: list[ProviderRow]) -> list[str]:
    """Short sentences for a non-technical reader, only about what the scan found."""
    files = files_with_findings(result.findings)
    points = [
        f"{_count(len(result.findings), 'issue')} in {_count(files, 'file')}"
        f" ({_count(result.stats.files_scanned, 'file')} scanned)."
    ]
    points += _provider_points(providers)
    browser = sum(1 for i in result.integrations if i.runs_in is RunsIn.BROWSER)
    if browser:
        points.append(
            f"{_count(browser, 'integration')} in shoppers' browsers:"
            " anyone visiting the shop can read what is sent."
        )
    secrets = sum(1 for f in result.findings if f.kind is Kind.SECRET)
    if secrets:
        points.append(f"{_count(secrets, 'secret')} (API keys, tokens) in the code: rotate them.")
    if result.skipped:
        points.append(f"{_count(len(result.skipped), 'file')} could not be checked (see below).")
    return points


def _provider_points(rows: list[ProviderRow]) -> list[str]:
    if not rows:
        return []
    foreign = [r.name for r in rows if not r.sovereign]
    where = (
        f"{len(foreign)} may process data outside the EU: {', '.join(foreign)}."
        if foreign
        else "all of them process data in the EU or on your own servers."
    )
    return [f"Shop code talks to {_count(len(rows), 'AI provider')}; {where}"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _matrix(result: ScanResult) -> list[MatrixRow]:
    """One row per rule that produced findings, in the order the findings arrive."""
    rules = rule_index(result)
    grouped: dict[str, list[Finding]] = {}
    for finding in result.findings:
        grouped.setdefault(finding.rule, []).append(finding)
    return [_matrix_row(rule_id, items, rules) for rule_id, items in grouped.items()]


def _matrix_row(rule_id: str, items: list[Finding], rules: dict[str, RuleInfo]) -> MatrixRow:
    info = rules.get(rule_id)
    mappings: list[Frameworks] = ([info.frameworks] if info else []) + [f.frameworks for f in items]
    return MatrixRow(
        rule=rule_id,
        title=info.title if info else items[0].message,
        severity=max((f.severity for f in items), key=lambda s: s.rank),
        findings=len(items),
        refs=framework_refs(merge_frameworks(mappings)),
    )
