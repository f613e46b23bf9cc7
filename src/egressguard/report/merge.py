"""Several results (an audit, crawls, HAR and log analyses) -> one result, side by side.

Each finding keeps where it came from (a file path and line for code, a page URL or a log
name for runtime evidence); findings with the same fingerprint are one finding. Integrations of
the same (provider, host, runs_in) are one integration with every location. Counters add up.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from egressguard.model import Integration, ScanResult, ScanStats, Severity, Suppressed

_T = TypeVar("_T")


def merge_results(results: Sequence[ScanResult]) -> ScanResult:
    """One result with every finding of `results` (the first result's tool and schema)."""
    if not results:
        raise ValueError("merge_results needs at least one result")
    first = results[0]
    findings = _unique_by((f for r in results for f in r.findings), lambda f: f.fingerprint)
    findings.sort(key=lambda f: (-f.severity.rank, f.file, f.line, f.rule, f.fingerprint))
    return ScanResult(
        tool=first.tool,
        roots=tuple(_unique(x for r in results for x in r.roots)),
        platforms=tuple(_unique(x for r in results for x in r.platforms)),
        integrations=_integrations(i for r in results for i in r.integrations),
        findings=tuple(findings),
        skipped=tuple(_unique(x for r in results for x in r.skipped)),
        stats=ScanStats(
            files_scanned=sum(r.stats.files_scanned for r in results),
            bytes_scanned=sum(r.stats.bytes_scanned for r in results),
            duration_s=round(sum(r.stats.duration_s for r in results), 3),
            candidate_files=sum(r.stats.candidate_files for r in results),
        ),
        suppressed=tuple(
            _unique_by((s for r in results for s in r.suppressed), lambda s: s.fingerprint)
        ),
        warnings=tuple(_unique(w for r in results for w in r.warnings)),
        providers=tuple(
            sorted(
                _unique_by((p for r in results for p in r.providers), lambda p: p.id),
                key=lambda p: p.id,
            )
        ),
        schema_version=first.schema_version,
        rules=tuple(
            sorted(
                _unique_by((x for r in results for x in r.rules), lambda x: x.id),
                key=lambda x: x.id,
            )
        ),
        checked_rules=tuple(sorted({c for r in results for c in r.checked_rules})),
    )


def _unique(items: Iterable[_T]) -> list[_T]:
    return list(dict.fromkeys(items))


def _unique_by(items: Iterable[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    seen: dict[Hashable, _T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _integrations(items: Iterable[Integration]) -> tuple[Integration, ...]:
    groups: dict[tuple[str, str, str], Integration] = {}
    for item in items:
        key = (item.provider, item.host, str(item.runs_in))
        known = groups.get(key)
        if known is None:
            groups[key] = item
            continue
        groups[key] = Integration(
            provider=known.provider,
            provider_name=known.provider_name,
            host=known.host,
            region=known.region,
            jurisdiction=known.jurisdiction,
            eu_option=known.eu_option,
            runs_in=known.runs_in,
            locations=tuple(_unique([*known.locations, *item.locations])),
            features=tuple(sorted({*known.features, *item.features})),
            data_categories=tuple(sorted({*known.data_categories, *item.data_categories})),
        )
    return tuple(sorted(groups.values(), key=lambda i: (i.provider, i.host, str(i.runs_in))))


def apply_baseline(result: ScanResult, accepted: frozenset[str]) -> ScanResult:
    """Findings whose fingerprint a baseline accepts move to `suppressed` (via "baseline")."""
    if not accepted:
        return result
    kept = tuple(f for f in result.findings if f.fingerprint not in accepted)
    moved = tuple(
        Suppressed(f.rule, f.file, f.fingerprint, "baseline", "")
        for f in result.findings
        if f.fingerprint in accepted
    )
    return replace(result, findings=kept, suppressed=result.suppressed + moved)


def apply_rule_settings(
    result: ScanResult,
    disable_rules: frozenset[str],
    severity_overrides: Mapping[str, Severity],
) -> ScanResult:
    """A config file's rule choices on findings made without it (runtime evidence, merged
    reports), as the audit applies them: a disabled rule's findings leave and it is no longer
    counted as checked; an overridden rule's findings take the configured severity."""
    if not disable_rules and not severity_overrides:
        return result
    findings = [
        replace(f, severity=severity_overrides[f.rule]) if f.rule in severity_overrides else f
        for f in result.findings
        if f.rule not in disable_rules
    ]
    findings.sort(key=lambda f: (-f.severity.rank, f.file, f.line, f.rule, f.fingerprint))
    return replace(
        result,
        findings=tuple(findings),
        checked_rules=tuple(r for r in result.checked_rules if r not in disable_rules),
    )
