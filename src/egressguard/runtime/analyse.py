"""Runtime traffic -> the same `ScanResult` that `egressguard audit` produces.

    analyse_traffic(traffic, *, evidence_dir=None) -> ScanResult

Findings (rules in catalog/rules.toml; `file` is the page URL without its query string, line 1):
AI endpoints called from the browser and their region (`ai-endpoint`,
`ai-transfer-third-country`), AI keys in browser requests (`ai-key-in-browser-traffic`),
personal data sent to AI or to other third parties (`personal-data-to-ai-observed`,
`personal-data-to-third-party-observed`: canary values with their encoding when the capture
has a persona, else what the gateway's detector finds), scripts on payment pages with their
SRI status (`payment-page-script-inventory`, `payment-page-script-unverified`), chat/AI widget
scripts (`ai-script-on-storefront`, `ai-script-on-checkout`) and personal data in cookies and
browser storage (`personal-data-in-browser-storage`).

Every message, evidence and location passes a last scrub that masks any canary value and any
key a secret rule matches, so no report can carry one in full.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from egressguard import __version__
from egressguard.catalog import Catalog, load_catalog
from egressguard.gateway.detect import Detector, build_detector
from egressguard.gateway.detect.engine import lower_same_length
from egressguard.gateway.detect.secrets import SecretFinder
from egressguard.model import (
    Finding,
    Integration,
    Location,
    RunsIn,
    ScanResult,
    ScanStats,
    SkippedTarget,
    Tool,
)
from egressguard.runtime import sri
from egressguard.runtime.canary import CanaryMatcher
from egressguard.runtime.destinations import Destination, Destinations
from egressguard.runtime.evidence import PageHit, masked
from egressguard.runtime.findings_requests import RequestFindings
from egressguard.runtime.findings_storage import storage_hits
from egressguard.runtime.traffic import Persona, Traffic


class _Scrub:
    """Masks canary values and matched keys in any text that leaves the analysis."""

    def __init__(self, matcher: CanaryMatcher | None, secrets: SecretFinder) -> None:
        self._matcher = matcher
        self._secrets = secrets

    def __call__(self, text: str) -> str:
        spans = [(s.start, s.end) for s in self._secrets.find(text, lower_same_length(text))]
        if self._matcher is not None:
            spans += [(h.start, h.end) for h in self._matcher.find(text)]
        return masked(text, spans) if spans else text


# Every rule `analyse_traffic` evaluates (the control matrix's "checked and found nothing").
TRAFFIC_RULES = (
    "ai-endpoint",
    "ai-key-in-browser-traffic",
    "ai-script-on-checkout",
    "ai-script-on-storefront",
    "ai-transfer-third-country",
    "payment-page-script-inventory",
    "payment-page-script-unverified",
    "personal-data-in-browser-storage",
    "personal-data-to-ai-observed",
    "personal-data-to-third-party-observed",
)


def analyse_traffic(
    traffic: Traffic,
    *,
    evidence_dir: Path | None = None,
    persona: Persona | None = None,
    catalog: Catalog | None = None,
) -> ScanResult:
    """The findings of one capture; `persona` overrides the capture's own (HAR + persona file)."""
    started = time.perf_counter()
    catalog = catalog if catalog is not None else load_catalog()
    persona = persona if persona is not None else traffic.persona
    matcher = CanaryMatcher(persona) if persona is not None else None
    detector: Detector | None = None
    if persona is None:  # no canary: fall back to detecting personal data in payloads
        detector = build_detector([], secret_rules=catalog.secrets)
    secrets = SecretFinder(catalog.secrets)
    destinations = Destinations(catalog, traffic.origin)
    requests = RequestFindings(traffic, destinations, secrets, matcher, detector)
    hits = requests.run()
    hits += sri.script_hits(sri.inventory(traffic, destinations), destinations)
    hits += storage_hits(traffic, matcher, detector)
    findings = _findings(hits, catalog, _Scrub(matcher, secrets))
    return ScanResult(
        tool=Tool("egressguard", __version__),
        roots=_roots(traffic, evidence_dir),
        platforms=(),
        integrations=_integrations(requests, catalog),
        findings=tuple(findings),
        skipped=_skipped(traffic),
        stats=_stats(traffic, time.perf_counter() - started),
        warnings=_warnings(traffic, persona),
        providers=catalog.provider_infos({f.provider for f in findings if f.provider}),
        rules=tuple(catalog.rule_info(r) for r in sorted({f.rule for f in findings})),
        checked_rules=TRAFFIC_RULES,
    )


def _findings(hits: Iterable[PageHit], catalog: Catalog, scrub: _Scrub) -> list[Finding]:
    occurrences: dict[tuple[str, str, str], int] = {}
    out: list[Finding] = []
    for page_hit in sorted(hits, key=lambda h: (h.page, h.hit.rule, h.hit.key)):
        hit = page_hit.hit
        file = scrub(page_hit.page)
        n = occurrences[(hit.rule, file, hit.key)] = (
            occurrences.get((hit.rule, file, hit.key), 0) + 1
        )
        out.append(
            catalog.finding(hit, file, n, message=scrub(hit.message), evidence=scrub(hit.evidence))
        )
    return sorted(out, key=lambda f: (-f.severity.rank, f.file, f.line, f.rule, f.fingerprint))


def _integrations(requests: RequestFindings, catalog: Catalog) -> tuple[Integration, ...]:
    out = []
    for key, pages in requests.ai_sites.items():
        dest: Destination = requests.ai_dests[key]
        categories = requests.ai_categories.get(key, set())
        out.append(
            Integration(
                provider=dest.party,
                provider_name=dest.name,
                host=dest.host,
                region=dest.region,
                jurisdiction=_jurisdiction(dest),
                eu_option=dest.provider.eu_option if dest.provider is not None else False,
                runs_in=RunsIn.BROWSER,
                locations=tuple(Location(page, 1) for page in sorted(pages)),
                features=("observed",),
                data_categories=tuple(sorted(categories)),
            )
        )
    return tuple(sorted(out, key=lambda i: (i.provider, i.host)))


def _jurisdiction(dest: Destination) -> str:
    if dest.provider is not None:
        return dest.provider.jurisdiction
    return dest.widget.jurisdiction if dest.widget is not None else "-"


def _roots(traffic: Traffic, evidence_dir: Path | None) -> tuple[str, ...]:
    roots = list(traffic.evidence_files) if traffic.source == "har" else [traffic.origin]
    if evidence_dir is not None:
        roots.append(str(evidence_dir))
    return tuple(r for r in roots if r)


def _skipped(traffic: Traffic) -> tuple[SkippedTarget, ...]:
    steps = [
        SkippedTarget(step.url or step.name, "journey-step-failed", f"{step.name}: {step.error}")
        for step in traffic.steps
        if not step.ok
    ]
    return tuple(sorted([*traffic.skipped, *steps], key=lambda s: (s.file, s.reason)))


def _stats(traffic: Traffic, duration: float) -> ScanStats:
    sent = sum(len(r.request_body) for r in traffic.requests)
    sent += sum(len(f.payload) for f in traffic.websocket_frames if f.sent)
    messages = len(traffic.requests) + len(traffic.websocket_frames)
    return ScanStats(messages, sent, round(duration, 3), len(traffic.pages))


def _warnings(traffic: Traffic, persona: Persona | None) -> tuple[str, ...]:
    if persona is None:
        return (
            "no canary persona: personal data is what the detector recognises in payloads "
            "(give --persona-file to trace the values typed during the capture)",
        )
    return ()
