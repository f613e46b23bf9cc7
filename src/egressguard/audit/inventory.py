"""AI call sites -> inventory hits, residency hits and the integrations list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from egressguard.catalog import Catalog
from egressguard.model import (
    DataCategory,
    Hit,
    Integration,
    IntegrationSite,
    Location,
    Region,
    RunsIn,
    Severity,
)

_TRANSFER_SEVERITY = {
    Region.CN: Severity.HIGH,
    Region.US: Severity.MEDIUM,
    Region.GLOBAL: Severity.MEDIUM,
    Region.UNKNOWN: Severity.MEDIUM,
}
_WHERE = {RunsIn.SERVER: "server code", RunsIn.BROWSER: "shoppers' browsers"}


@dataclass(frozen=True, slots=True)
class LocatedSite:
    file: str
    site: IntegrationSite
    categories: frozenset[DataCategory] = frozenset()


def site_hits(
    site: IntegrationSite,
    catalog: Catalog,
    evidence: str,
    more_lines: Sequence[int] = (),
    configured: bool = False,
    categories: Iterable[DataCategory] = (),
) -> Iterator[Hit]:
    """The inventory hit of an endpoint in a file (its first site; `more_lines` are the others)
    and, outside the EU or local hosts, its residency hit."""
    provider = catalog.provider(site.provider)
    match = catalog.classify_host(site.host)
    region = match.region if match is not None else provider.region
    where = "configuration" if configured else _WHERE[site.runs_in]
    also = f"; also on line(s) {', '.join(map(str, more_lines))}" if more_lines else ""
    yield Hit(
        rule="ai-endpoint",
        line=site.line,
        message=(
            f"{provider.name} endpoint {site.host} used in {where} (feature: {site.feature}){also}"
        ),
        evidence=evidence,
        key=f"{site.provider}|{site.host}|{site.runs_in}",
        provider=site.provider,
        host=site.host,
        region=region,
        confidence=site.confidence,
        data_categories=tuple(sorted(set(categories))),
    )
    if region.is_sovereign:
        return
    yield Hit(
        rule="ai-transfer-third-country",
        line=site.line,
        message=(
            f"{provider.name} at {site.host} processes data in region '{region}' "
            f"(company jurisdiction {provider.jurisdiction}): personal data sent here is a "
            f"transfer outside the EU/EEA that needs a Chapter V tool (GDPR Art. 44-46){also}"
        ),
        evidence=evidence,
        key=f"{site.provider}|{site.host}",
        provider=site.provider,
        host=site.host,
        region=region,
        severity=_TRANSFER_SEVERITY.get(region, Severity.MEDIUM),
        confidence=site.confidence,
    )


def integrations(located: Iterable[LocatedSite], catalog: Catalog) -> tuple[Integration, ...]:
    """Call sites grouped by (provider, host, runs_in), with every location and feature."""
    groups: dict[tuple[str, str, RunsIn], list[LocatedSite]] = {}
    for ls in located:
        groups.setdefault((ls.site.provider, ls.site.host, ls.site.runs_in), []).append(ls)
    out = [_integration(key, sites, catalog) for key, sites in groups.items()]
    return tuple(sorted(out, key=lambda i: (i.provider, i.host, i.runs_in)))


def _integration(
    key: tuple[str, str, RunsIn], sites: list[LocatedSite], catalog: Catalog
) -> Integration:
    provider_id, host, runs_in = key
    provider = catalog.provider(provider_id)
    match = catalog.classify_host(host)
    places = {Location(s.file, s.site.line) for s in sites}
    locations = sorted(places, key=lambda loc: (loc.file, loc.line))
    return Integration(
        provider=provider_id,
        provider_name=provider.name,
        host=host,
        region=match.region if match is not None else provider.region,
        jurisdiction=provider.jurisdiction,
        eu_option=provider.eu_option,
        runs_in=runs_in,
        locations=tuple(locations),
        features=tuple(sorted({s.site.feature for s in sites})),
        data_categories=tuple(sorted(frozenset().union(*(s.categories for s in sites)))),
    )
