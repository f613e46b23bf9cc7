"""Read-only views of a ScanResult that several formats share (counts, groupings, rule lookup).

Pure functions of the result: no I/O, no configuration, no globals besides constants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from egressguard.model import (
    Finding,
    Frameworks,
    Integration,
    ProviderInfo,
    RuleInfo,
    ScanResult,
    Severity,
)

#: Severities from worst to least bad: the order every format lists them in.
SEVERITY_ORDER: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))

#: Framework columns in display order: (attribute of Frameworks, human label).
FRAMEWORK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("gdpr", "GDPR"),
    ("nis2", "NIS2"),
    ("nist_ai_rmf", "NIST AI RMF"),
    ("iso27001", "ISO 27001"),
    ("pci_dss", "PCI DSS"),
)


def framework_refs(frameworks: Frameworks) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(label, references) per framework column, in display order."""
    return tuple((label, getattr(frameworks, attr)) for attr, label in FRAMEWORK_COLUMNS)


def merge_frameworks(items: Iterable[Frameworks]) -> Frameworks:
    """The union of several mappings, each column de-duplicated in first-seen order."""
    columns: dict[str, list[str]] = {attr: [] for attr, _ in FRAMEWORK_COLUMNS}
    for item in items:
        for attr, refs in columns.items():
            refs.extend(ref for ref in getattr(item, attr) if ref not in refs)
    return Frameworks(**{attr: tuple(refs) for attr, refs in columns.items()})


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Count per severity, every severity present (zero included), worst first."""
    counts = Counter(f.severity for f in findings)
    return {sev: counts.get(sev, 0) for sev in SEVERITY_ORDER}


def by_severity(findings: Iterable[Finding]) -> list[tuple[Severity, list[Finding]]]:
    """Non-empty groups, worst severity first; order inside a group is kept."""
    groups: dict[Severity, list[Finding]] = {sev: [] for sev in SEVERITY_ORDER}
    for finding in findings:
        groups[finding.severity].append(finding)
    return [(sev, group) for sev, group in groups.items() if group]


def by_provider(findings: Iterable[Finding]) -> list[tuple[str | None, list[Finding]]]:
    """Groups by provider id in first-seen order; findings without a provider come last."""
    groups: dict[str | None, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.provider, []).append(finding)
    return sorted(groups.items(), key=lambda item: item[0] is None)


def highest_risk(findings: Sequence[Finding], limit: int) -> list[Finding]:
    """The `limit` worst findings; a stable sort keeps the incoming order among equals."""
    return sorted(findings, key=lambda f: -f.severity.rank)[:limit]


def summary_sentence(counts: dict[Severity, int]) -> str:
    """'3 findings: 1 critical, 2 high' (zero counts left out), or 'No findings'."""
    total = sum(counts.values())
    if not total:
        return "No findings"
    parts = ", ".join(f"{n} {sev.value}" for sev, n in counts.items() if n)
    return f"{total} finding{'s' if total != 1 else ''}: {parts}"


def rule_index(result: ScanResult) -> dict[str, RuleInfo]:
    """Rule metadata by id (first entry wins if the result repeats an id)."""
    index: dict[str, RuleInfo] = {}
    for rule in result.rules:
        index.setdefault(rule.id, rule)
    return index


def provider_names(
    integrations: Iterable[Integration], providers: Iterable[ProviderInfo] = ()
) -> dict[str, str]:
    """Display name per provider id: the result's provider facts, then the inventory."""
    names: dict[str, str] = {p.id: p.name for p in providers}
    for integration in integrations:
        names.setdefault(integration.provider, integration.provider_name)
    return names


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """One provider as the summaries show it: where it is, and how often it occurs."""

    provider: str
    name: str
    hosts: tuple[str, ...]
    regions: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    eu_option: bool
    sovereign: bool
    findings: int


def provider_rows(result: ScanResult) -> list[ProviderRow]:
    """Providers from the inventory and from findings, sorted by id."""
    ids = sorted({i.provider for i in result.integrations} | _finding_providers(result.findings))
    return [_provider_row(result, pid) for pid in ids]


def _finding_providers(findings: Iterable[Finding]) -> set[str]:
    return {f.provider for f in findings if f.provider is not None}


def _provider_row(result: ScanResult, pid: str) -> ProviderRow:
    integrations = [i for i in result.integrations if i.provider == pid]
    findings = [f for f in result.findings if f.provider == pid]
    regions = [i.region for i in integrations] + [f.region for f in findings if f.region]
    hosts = [i.host for i in integrations] + [f.host for f in findings if f.host]
    info = next((p for p in result.providers if p.id == pid), None)
    jurisdictions = [i.jurisdiction for i in integrations] + ([info.jurisdiction] if info else [])
    return ProviderRow(
        provider=pid,
        name=integrations[0].provider_name if integrations else (info.name if info else pid),
        hosts=_unique(hosts),
        regions=_unique(r.value for r in regions),
        jurisdictions=_unique(jurisdictions),
        eu_option=any(i.eu_option for i in integrations) or bool(info and info.eu_option),
        sovereign=bool(regions) and all(r.is_sovereign for r in regions),
        findings=len(findings),
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def files_with_findings(findings: Iterable[Finding]) -> int:
    return len({f.file for f in findings})


def human_size(n: int) -> str:
    """Bytes for people: '512 B', '12.3 KB', '4.0 MB', '1.2 GB'."""
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
