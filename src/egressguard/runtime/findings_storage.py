"""Cookies and localStorage/sessionStorage entries that hold personal data.

A value is searched as it is and URL-decoded (cookies are often percent-encoded): for canary
values in any encoding when a persona is known, otherwise for e-mail addresses, cards and IBANs.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote_plus

from egressguard.gateway.detect import Detector
from egressguard.model import Confidence, DataCategory, Hit
from egressguard.runtime.canary import CanaryMatcher
from egressguard.runtime.evidence import PageHit, page_location, snippet
from egressguard.runtime.findings_requests import STRONG_CATEGORIES, strong_gate
from egressguard.runtime.traffic import Traffic

_RULE = "personal-data-in-browser-storage"


def storage_hits(
    traffic: Traffic, matcher: CanaryMatcher | None, detector: Detector | None
) -> list[PageHit]:
    found: dict[str, PageHit] = {}
    for cookie in traffic.cookies:
        flags = f"HttpOnly {'yes' if cookie.http_only else 'no'}"
        what = f"cookie {cookie.name} on {cookie.domain} ({flags})"
        page = page_location(cookie.page_url or f"https://{cookie.domain.lstrip('.')}{cookie.path}")
        key = f"cookie|{cookie.domain}|{cookie.name}"
        for hit in _hits(what, cookie.value, page, key, matcher, detector):
            found.setdefault(hit.hit.key, hit)
    for entry in traffic.storage:
        what = f"{entry.area} {entry.key!r} of {entry.origin}"
        page = page_location(entry.page_url or entry.origin)
        key = f"{entry.area}|{entry.origin}|{entry.key}"
        for hit in _hits(what, entry.value, page, key, matcher, detector):
            found.setdefault(hit.hit.key, hit)
    return list(found.values())


def _hits(
    what: str,
    value: str,
    page: str,
    key: str,
    matcher: CanaryMatcher | None,
    detector: Detector | None,
) -> Iterator[PageHit]:
    decoded = unquote_plus(value) if "%" in value or "+" in value else ""
    text = value if not decoded or decoded == value else f"{value} ⟶ {decoded}"
    if matcher is not None:
        hits = matcher.find(text)
        spans = [(h.start, h.end) for h in hits]
        for h in hits:
            evidence = snippet(text, (h.start, h.end), spans)
            label = f"canary {h.field} ({h.encoding})"
            yield _hit(what, page, f"{key}|{h.field}", label, evidence, Confidence.HIGH)
        return
    if detector is None:
        return
    text = decoded or value  # the detector reads the value as the page will
    if not strong_gate(text):
        return
    every = detector.scan(text)
    spans_found = [s for s in every if s.category in STRONG_CATEGORIES]
    spans = [(s.start, s.end) for s in every]
    for s in spans_found:
        evidence = snippet(text, (s.start, s.end), spans)
        label = f"detected {s.category}"
        yield _hit(what, page, f"{key}|{s.category}", label, evidence, Confidence.MEDIUM)


def _hit(
    what: str, page: str, key: str, value: str, evidence: str, confidence: Confidence
) -> PageHit:
    payment = "card" in value or "iban" in value
    category = DataCategory.PAYMENT if payment else DataCategory.CUSTOMER_PII
    return PageHit(
        page,
        Hit(
            rule=_RULE,
            line=1,
            message=f"{what} holds {value}",
            evidence=f"{what}: {evidence}",
            key=key,
            confidence=confidence,
            data_categories=(category,),
        ),
    )
