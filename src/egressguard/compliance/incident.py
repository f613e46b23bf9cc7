"""Incident helper: notification deadlines and a pre-filled notification draft for a leak.

GDPR Art. 33: the supervisory authority within 72 hours of becoming aware (33(1)); content
33(3)(a)-(d). NIS2 Art. 23(4): early warning within 24 hours, incident notification within
72 hours, final report within one month of the notification (significant incidents only).
Whether a finding is a breach at all is the controller's call; this drafts, it does not decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from egressguard.compliance.document import Doc, Gap, Para, Section, table
from egressguard.model import Finding, Kind, Severity

LEAK_KINDS = frozenset({Kind.DATA_FLOW, Kind.SECRET, Kind.PII_IN_LOGS, Kind.RESIDENCY})


def leaks(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Findings that may be a personal-data breach: high or critical data leaving or exposed."""
    return tuple(
        f for f in findings if f.kind in LEAK_KINDS and f.severity.rank >= Severity.HIGH.rank
    )


def deadlines(aware: datetime) -> tuple[tuple[str, str, datetime], ...]:
    nis2_notice = aware + timedelta(hours=72)
    return (
        (
            "NIS2 Art. 23(4)(a)",
            "early warning to the CSIRT / authority",
            aware + timedelta(hours=24),
        ),
        ("GDPR Art. 33(1)", "notify the supervisory authority", aware + timedelta(hours=72)),
        ("NIS2 Art. 23(4)(b)", "incident notification", nis2_notice),
        ("NIS2 Art. 23(4)(d)", "final report", _add_month(nis2_notice)),
    )


def _add_month(t: datetime) -> datetime:
    month = t.month % 12 + 1
    year = t.year + (t.month == 12)
    for day in (t.day, 30, 29, 28):
        try:
            return t.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return t + timedelta(days=30)


def incident_doc(findings: Sequence[Finding], aware: datetime) -> Doc | None:
    found = leaks(findings)
    if not found:
        return None
    stamp = "%Y-%m-%d %H:%M UTC"
    categories = sorted({c.value for f in found for c in f.data_categories})
    hosts = sorted(
        {f"{f.host} ({f.region.value if f.region else 'unknown'})" for f in found if f.host}
    )
    return Doc(
        "Incident helper: possible personal-data leak to AI services",
        f"Became aware (assumed: the scan time, correct it): {aware.strftime(stamp)}. "
        "NIS2 deadlines apply to significant incidents of entities in scope.",
        (
            Section(
                "Deadlines",
                (
                    table(
                        ("rule", "what", "due"),
                        [(r, w, d.strftime(stamp)) for r, w, d in deadlines(aware)],
                    ),
                ),
            ),
            Section(
                "What was detected",
                (
                    table(
                        ("finding", "rule", "severity", "where", "provider"),
                        [
                            (f.id, f.rule, f.severity.value, f"{f.file}:{f.line}", f.provider or "")
                            for f in found
                        ],
                    ),
                ),
            ),
            Section(
                "Draft notification (GDPR Art. 33(3))",
                (
                    Para(
                        "(a) Nature of the breach: shop data sent to, or exposed for, third-party "
                        f"AI services. Data categories: {', '.join(categories) or 'see findings'}. "
                        f"Recipients: {', '.join(hosts) or 'see findings'}."
                    ),
                    Gap(
                        "approximate number of data subjects and records concerned (Art. 33(3)(a)) "
                        "— take it from order volume since the feature went live, or the gateway's "
                        "audit trail."
                    ),
                    Gap("name and contact details of the DPO or contact point (Art. 33(3)(b))."),
                    Gap("likely consequences for data subjects (Art. 33(3)(c))."),
                    Para(
                        "(d) Measures taken or proposed: stop or reroute the flows above through "
                        "the EgressGuard gateway (pseudonymisation, EU/local models only); rotate "
                        "exposed keys; request deletion from the provider under the DPA."
                    ),
                    Gap(
                        "document the breach in the breach register whatever the decision "
                        "(Art. 33(5))."
                    ),
                ),
            ),
        ),
    )
