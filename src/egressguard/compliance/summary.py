"""Executive summary: a risk score and the five actions that close the most risk.

Risk score: 10 per critical, 5 per high, 2 per medium, 1 per low finding, capped at 100.
It ranks shops and runs against each other; it is not a probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from egressguard.compliance.charts import SEVERITIES, provider_chart, severity_chart
from egressguard.compliance.document import Block, Doc, Figure, Para, Section, table
from egressguard.compliance.vendors import VendorGap
from egressguard.model import Finding, Kind, ScanResult, Severity
from egressguard.store.history import ScanRecord, trend

_WEIGHT = {Severity.CRITICAL: 10, Severity.HIGH: 5, Severity.MEDIUM: 2, Severity.LOW: 1}
_EFFORT = {
    Kind.SECRET: "S: rotate the key, move it server-side (hours)",
    Kind.CONFIG_AT_REST: "S: switch the field to the Encrypted backend (hours)",
    Kind.LOGGING: "M: log each AI call's metadata (days)",
    Kind.PII_IN_LOGS: "S: stop logging prompts (hours)",
    Kind.DATA_FLOW: "M: route through the gateway / minimise fields (days)",
    Kind.RESIDENCY: "M: EU endpoint or gateway routing, transfer tool (days-weeks)",
    Kind.THIRD_PARTY_SCRIPT: "M: SRI, script inventory, remove from checkout (days)",
    Kind.BULK_ACCESS: "M: narrow the query, batch limits (days)",
    Kind.INVENTORY: "S: document in ROPA and vendor register (hours)",
}


@dataclass(frozen=True, slots=True)
class Action:
    rule: str
    title: str
    severity: Severity
    effort: str
    finding_ids: tuple[str, ...]


def risk_score(findings: Sequence[Finding]) -> int:
    return min(100, sum(_WEIGHT.get(f.severity, 0) for f in findings))


def top_actions(result: ScanResult, limit: int = 5) -> tuple[Action, ...]:
    titles = {r.id: r.title for r in result.rules}
    grouped: dict[str, list[Finding]] = {}
    for f in result.findings:
        grouped.setdefault(f.rule, []).append(f)

    def weight(rule: str) -> tuple[int, int, str]:
        fs = grouped[rule]
        return (-sum(_WEIGHT.get(f.severity, 0) for f in fs), -len(fs), rule)

    actions = []
    for rule in sorted(grouped, key=weight)[:limit]:
        fs = grouped[rule]
        worst = max(fs, key=lambda f: f.severity.rank)
        actions.append(
            Action(
                rule,
                titles.get(rule, rule),
                worst.severity,
                _EFFORT.get(worst.kind, "M"),
                tuple(f.id for f in fs),
            )
        )
    return tuple(actions)


def summary_doc(
    result: ScanResult,
    vendor_gaps: Sequence[VendorGap],
    scans: Sequence[ScanRecord],
    generated: str,
) -> Doc:
    """`scans`: the target's recorded scans, oldest first (empty: no history section)."""
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    sections = [
        Section(
            "Risk",
            (
                Para(
                    f"Risk score {risk_score(result.findings)}/100 (10 per critical, 5 per high, "
                    "2 per medium, 1 per low finding; capped)."
                ),
                table(("severity", "findings"), [(s.value, str(n)) for s, n in counts.items()]),
                Para(
                    f"{len(result.integrations)} AI integration(s); {len(vendor_gaps)} vendor "
                    "register gap(s)."
                ),
            ),
        ),
        Section(
            "Top actions",
            (
                table(
                    ("#", "action", "worst severity", "effort", "closes findings"),
                    [
                        (str(n), a.title, a.severity.value, a.effort, " ".join(a.finding_ids))
                        for n, a in enumerate(top_actions(result), 1)
                    ],
                ),
            ),
        ),
    ]
    if scans:
        sections.append(_history(scans))
    return Doc(
        "Executive summary: shop data and AI services",
        f"EgressGuard {result.tool.version}, {generated}.",
        tuple(sections),
    )


def _history(scans: Sequence[ScanRecord]) -> Section:
    t = trend(scans[-2] if len(scans) > 1 else None, scans[-1])
    since = t.previous.started_at if t.previous else "(first recorded scan)"
    per_scan = table(
        ("scan", "date", *SEVERITIES),
        [
            (
                f"#{s.id}",
                s.started_at[:10],
                *(str(sum(1 for f in s.findings if f.severity == sev)) for sev in SEVERITIES),
            )
            for s in scans
        ],
    )
    providers = sorted({f.provider for s in scans for f in s.findings if f.provider})
    per_provider = table(
        ("scan", *providers),
        [
            (f"#{s.id}", *(str(sum(1 for f in s.findings if f.provider == p)) for p in providers))
            for s in scans
        ],
    )
    blocks: list[Block] = [
        Para(
            f"Compared with the scan of {since}: {len(t.new)} new, "
            f"{len(t.fixed)} fixed, {len(t.still_open)} still open."
        ),
        Figure(severity_chart(scans), "Findings by severity, per recorded scan", per_scan),
        Figure(provider_chart(scans), "Findings by AI provider, per recorded scan", per_provider),
        table(
            ("change", "rule", "file"),
            [("new", f.rule, f.file) for f in t.new] + [("fixed", f.rule, f.file) for f in t.fixed],
        ),
    ]
    return Section("Trend since the last run", tuple(blocks))
