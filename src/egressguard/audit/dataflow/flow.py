"""A data flow from a shop-data source to an AI call, and how it becomes a finding.

Language modules (php.py, javascript.py, liquid.py) return Flow values; `flow_hit` turns one
into a `data-flow-to-ai` Hit whose severity rises with what is sent and where it goes:

    payment or customer PII to a non-sovereign region           critical
    other shop data (order, cart, shopper text, pricing, bulk)  high       (non-sovereign)
    catalogue data only                                          low
    any data to an EU or local endpoint                          one step lower; two steps
                                                                 lower when the call is logged
"""

from __future__ import annotations

from dataclasses import dataclass

from egressguard.model import (
    Confidence,
    DataCategory,
    Hit,
    IntegrationSite,
    Region,
    Severity,
    TraceStep,
)

_SEVERE = frozenset({DataCategory.PAYMENT, DataCategory.CUSTOMER_PII})
_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True, slots=True)
class Flow:
    """Shop data reaching the payload of one AI call.

    `steps`: source first, then each hop (assignment, interpolation, array, property, call
    return, injected dependency …), the sink (the AI call) last; each with file:line and a
    short note ("source: $order->getCustomerEmail() (customer_pii)", "into $prompt",
    "sent by Guzzle ->post() to api.openai.com").
    """

    categories: frozenset[DataCategory]
    steps: tuple[TraceStep, ...]
    site: IntegrationSite
    source_line: int
    confidence: Confidence = Confidence.HIGH
    site_file: str = ""  # the file of `site` when it is not the sink's (an inherited call)


def severity(categories: frozenset[DataCategory], region: Region, logged: bool) -> Severity:
    """How bad a flow is, from what is sent and where it is processed."""
    if categories & _SEVERE:
        level = 4
    elif categories - {DataCategory.CATALOG}:
        level = 3
    else:
        level = 1
    if region.is_sovereign:
        level -= 2 if logged else 1
    return _ORDER[max(0, level)]


def flow_hit(
    flow: Flow, region: Region, logged: bool, evidence: str, provider_name: str = ""
) -> Hit:
    """The `data-flow-to-ai` hit of one flow (fingerprint key: categories + provider + source
    note, never a line number)."""
    cats = tuple(sorted(flow.categories))
    names = ", ".join(c.value for c in cats)
    site = flow.site
    return Hit(
        rule="data-flow-to-ai",
        line=flow.steps[-1].line if flow.steps else site.line,
        message=f"{names} sent to {provider_name or site.provider} at {site.host} ({region})",
        evidence=evidence,
        key=f"{site.provider}|{site.host}|{names}|{flow.steps[0].note if flow.steps else ''}",
        provider=site.provider,
        host=site.host,
        region=region,
        severity=severity(flow.categories, region, logged),
        confidence=flow.confidence,
        data_categories=cats,
        trace=flow.steps,
    )
