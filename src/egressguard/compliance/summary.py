"""Executive summary: a risk score and the five actions that close the most risk.

Risk score: 10 per critical, 5 per high, 2 per medium, 1 per low finding, capped at 100.
It ranks shops and runs against each other; it is not a probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from egressguard.compliance.document import Doc, Para, Section, table
from egressguard.compliance.vendors import VendorGap
from egressguard.model import Finding, Kind, ScanResult, Severity
from egressguard.store.history import Trend

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
    result: ScanResult, vendor_gaps: Sequence[VendorGap], trend: Trend | None, generated: str
) -> Doc:
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
    if trend is not None:
        since = trend.previous.started_at if trend.previous else "(first recorded scan)"
        sections.append(
            Section(
                "Trend since the last run",
                (
                    Para(
                        f"Compared with the scan of {since}: {len(trend.new)} new, "
                        f"{len(trend.fixed)} fixed, {len(trend.still_open)} still open."
                    ),
                    table(
                        ("change", "rule", "file"),
                        [("new", f.rule, f.file) for f in trend.new]
                        + [("fixed", f.rule, f.file) for f in trend.fixed],
                    ),
                ),
            )
        )
    return Doc(
        "Executive summary: shop data and AI services",
        f"EgressGuard {result.tool.version}, {generated}.",
        tuple(sections),
    )
