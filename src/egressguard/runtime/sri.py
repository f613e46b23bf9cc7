"""Payment-page script inventory (PCI DSS v4.0.1 6.4.3 / 11.6.1) and Subresource Integrity.

For every script on a checkout or payment page: its URL, the SHA-256 and SHA-384 of the body
that was served (in SRI notation, `sha384-<base64>`, so they compare with `integrity`
attributes and with the next run), the `integrity` attribute and whether it matches, first- or
third-party, and the pages it is on. Scripts that were requested but have no `<script src>`
element (injected by another script, or a HAR without the page's HTML) have no attribute.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from egressguard.model import Confidence, Hit, Severity
from egressguard.runtime.destinations import Destinations
from egressguard.runtime.evidence import PageHit, page_location
from egressguard.runtime.traffic import ResourceType, Traffic

# Checkout and payment pages: Magento /checkout/ (not the cart), onepage, multishipping,
# payment; Shopify /checkouts/; any crawl step named checkout/payment.
_CHECKOUT = re.compile(r"/(?:checkouts?|onepage|multishipping|payment|pay)(?:/|$|[-_.])", re.I)
_CART = re.compile(r"/checkout/cart(?:/|$)", re.I)
_SRI_TOKEN = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(?:\?\S*)?")
_STRENGTH = {"sha256": 0, "sha384": 1, "sha512": 2}


class SriStatus(StrEnum):
    ABSENT = "absent"
    MATCH = "match"
    MISMATCH = "mismatch"
    MALFORMED = "malformed"
    NOT_CAPTURED = "present, body not captured"


@dataclass(frozen=True, slots=True)
class ScriptRecord:
    src: str
    pages: tuple[str, ...]  # page locations, sorted
    integrity: str | None
    status: SriStatus
    sha256: str | None  # "sha256-<base64>" of the served body
    sha384: str | None
    first_party: bool
    checkout: bool  # found on at least one checkout/payment page


def is_checkout(page_url: str, step: str = "") -> bool:
    path = urlsplit(page_url).path or "/"
    if _CART.search(path):
        return False
    return bool(_CHECKOUT.search(path)) or any(w in step.lower() for w in ("checkout", "payment"))


def sri_digest(algorithm: str, body: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, body).digest()).decode()}"


def check_integrity(integrity: str | None, body: bytes | None) -> SriStatus:
    """The SRI verdict as a browser reaches it: the strongest listed algorithm decides."""
    if integrity is None or not integrity.strip():
        return SriStatus.ABSENT
    tokens = [m.groups() for t in integrity.split() if (m := _SRI_TOKEN.fullmatch(t))]
    if not tokens:
        return SriStatus.MALFORMED
    if body is None:
        return SriStatus.NOT_CAPTURED
    strongest = max(_STRENGTH[alg] for alg, _ in tokens)
    wanted = {f"{alg}-{b64}" for alg, b64 in tokens if _STRENGTH[alg] == strongest}
    algorithm = next(a for a, rank in _STRENGTH.items() if rank == strongest)
    return SriStatus.MATCH if sri_digest(algorithm, body) in wanted else SriStatus.MISMATCH


def inventory(traffic: Traffic, destinations: Destinations) -> list[ScriptRecord]:
    """One record per script URL, across every page it was found on."""
    bodies = {
        r.url: r.response_body
        for r in traffic.requests
        if r.resource_type is ResourceType.SCRIPT and r.response_body is not None
    }
    seen: dict[str, tuple[dict[str, None], str | None, bool]] = {}
    for tag in traffic.scripts:
        pages, integrity, checkout = seen.get(tag.src, ({}, tag.integrity, False))
        pages[page_location(tag.page_url)] = None
        checkout = checkout or is_checkout(tag.page_url, tag.step)
        seen[tag.src] = (pages, integrity if integrity is not None else tag.integrity, checkout)
    for r in traffic.requests:  # scripts with no element: injected, or no HTML in the HAR
        if r.resource_type is ResourceType.SCRIPT and r.url not in seen and r.page_url:
            seen[r.url] = ({page_location(r.page_url): None}, None, is_checkout(r.page_url, r.step))
        elif r.resource_type is ResourceType.SCRIPT and r.url in seen and r.page_url:
            pages, integrity, checkout = seen[r.url]
            pages[page_location(r.page_url)] = None
            seen[r.url] = (pages, integrity, checkout or is_checkout(r.page_url, r.step))
    return [
        _record(src, pages, integrity, checkout, bodies.get(src), destinations)
        for src, (pages, integrity, checkout) in sorted(seen.items())
    ]


def _record(
    src: str,
    pages: dict[str, None],
    integrity: str | None,
    checkout: bool,
    body: bytes | None,
    destinations: Destinations,
) -> ScriptRecord:
    host = urlsplit(src).hostname or ""
    return ScriptRecord(
        src=src,
        pages=tuple(sorted(pages)),
        integrity=integrity,
        status=check_integrity(integrity, body),
        sha256=sri_digest("sha256", body) if body is not None else None,
        sha384=sri_digest("sha384", body) if body is not None else None,
        first_party=not host or destinations.first_party(host),
        checkout=checkout,
    )


def script_hits(records: Iterable[ScriptRecord], destinations: Destinations) -> list[PageHit]:
    out: list[PageHit] = []
    for record in records:
        dest = destinations.of(record.src)
        if record.checkout:
            out.append(_inventory_hit(record))
            if not record.first_party and record.status in _UNVERIFIED:
                out.append(_unverified_hit(record))
        if dest is not None and dest.widget is not None and not dest.first_party:
            rule = "ai-script-on-checkout" if record.checkout else "ai-script-on-storefront"
            message = (
                f"{dest.widget.name} script {_where(record)} loads on "
                f"{_pages(record)} (integrity: {record.status})"
            )
            out.append(
                PageHit(
                    record.pages[0],
                    Hit(
                        rule=rule,
                        line=1,
                        message=message,
                        evidence=_evidence(record),
                        key=f"{dest.widget.id}|{dest.host}",
                        provider=dest.widget.id,
                        host=dest.host,
                        region=dest.region,
                        confidence=Confidence.HIGH,
                    ),
                )
            )
    return out


_UNVERIFIED = frozenset({SriStatus.ABSENT, SriStatus.MISMATCH, SriStatus.MALFORMED})
_WHY = {
    SriStatus.ABSENT: "has no integrity attribute",
    SriStatus.MISMATCH: (
        "has an integrity attribute that does not match the file served (the browser blocks "
        "it; the file changed since it was pinned)"
    ),
    SriStatus.MALFORMED: "has an integrity attribute no browser can use",
}


def _where(record: ScriptRecord) -> str:
    return page_location(record.src) + ("?…" if urlsplit(record.src).query else "")


def _pages(record: ScriptRecord) -> str:
    shown = ", ".join(record.pages[:3])
    more = f" and {len(record.pages) - 3} more" if len(record.pages) > 3 else ""
    return f"{len(record.pages)} page(s): {shown}{more}"


def _evidence(record: ScriptRecord) -> str:
    hashes = " ".join(h for h in (record.sha256, record.sha384) if h) or "body not captured"
    integrity = record.integrity if record.integrity else "none"
    return f"script {_where(record)} · served {hashes} · integrity {integrity} ({record.status})"


def _inventory_hit(record: ScriptRecord) -> PageHit:
    party = "first-party" if record.first_party else "third-party"
    return PageHit(
        record.pages[0],
        Hit(
            rule="payment-page-script-inventory",
            line=1,
            message=(
                f"{party} script {_where(record)} on payment {_pages(record)}; "
                f"integrity {record.status}"
            ),
            evidence=_evidence(record),
            key=f"script|{record.src}",
            host=urlsplit(record.src).hostname,
            confidence=Confidence.HIGH,
        ),
    )


def _unverified_hit(record: ScriptRecord) -> PageHit:
    return PageHit(
        record.pages[0],
        Hit(
            rule="payment-page-script-unverified",
            line=1,
            message=(
                f"third-party script {_where(record)} {_WHY[record.status]}; it runs on payment "
                f"{_pages(record)}"
            ),
            evidence=_evidence(record),
            key=f"script|{record.src}",
            host=urlsplit(record.src).hostname,
            severity=Severity.MEDIUM if record.status is SriStatus.MISMATCH else None,
            confidence=Confidence.HIGH,
        ),
    )
