"""AI processing activities, derived from what the audit and crawl measured.

One activity per AI integration (provider and host). The fields a person must still supply
(purpose, legal basis, retention, controller) are marked TO COMPLETE, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from egressguard.compliance.vendors import Vendor
from egressguard.model import DataCategory, Integration, ScanResult

TO_COMPLETE = "TO COMPLETE"

PERSONAL = {
    DataCategory.CUSTOMER_PII: "identity and contact data (names, e-mail, addresses, phone, IP)",
    DataCategory.PAYMENT: "payment data (card, IBAN, payment method)",
    DataCategory.ORDER: "order and purchase history",
    DataCategory.CART: "shopping cart contents",
    DataCategory.SHOPPER_TEXT: "free text typed by shoppers (chat, reviews, forms)",
    DataCategory.CREDENTIALS: "credentials",
    DataCategory.BULK_EXPORT: "bulk exports of customer or order records",
}
BUSINESS = {
    DataCategory.PROPRIETARY_PRICING: "proprietary pricing (cost, margin, supplier)",
    DataCategory.CATALOG: "catalogue data",
}


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    provider: str
    provider_name: str
    host: str
    region: str
    jurisdiction: str
    runs_in: str
    purposes: tuple[str, ...]
    personal_data: tuple[str, ...]
    business_data: tuple[str, ...]
    data_subjects: str
    third_country: bool
    transfer_tool: str
    retention: str
    measures: tuple[str, ...]
    gaps: tuple[str, ...]
    locations: tuple[str, ...]
    finding_ids: tuple[str, ...]


def processing_activities(
    result: ScanResult, vendors: dict[str, Vendor] | None = None
) -> tuple[Activity, ...]:
    vendors = vendors or {}
    return tuple(
        _activity(i, n, result, vendors.get(i.provider))
        for n, i in enumerate(sorted(result.integrations, key=lambda x: (x.provider, x.host)), 1)
    )


def _activity(i: Integration, n: int, result: ScanResult, vendor: Vendor | None) -> Activity:
    categories = set(i.data_categories)
    files = {loc.file for loc in i.locations}
    findings = [f for f in result.findings if f.provider == i.provider and f.file in files]
    personal = tuple(PERSONAL[c] for c in DataCategory if c in categories and c in PERSONAL)
    business = tuple(BUSINESS[c] for c in DataCategory if c in categories and c in BUSINESS)
    third_country = not i.region.is_sovereign
    return Activity(
        id=f"AI-{n:02d}",
        provider=i.provider,
        provider_name=i.provider_name,
        host=i.host,
        region=i.region.value,
        jurisdiction=i.jurisdiction,
        runs_in=i.runs_in.value,
        purposes=tuple(
            f"AI feature: {f} (verify the purpose)" for f in i.features if f != "unknown"
        )
        or (TO_COMPLETE,),
        personal_data=personal or ("none seen in the code paths traced (verify)",),
        business_data=business,
        data_subjects="shop customers and visitors" if personal else "none identified (verify)",
        third_country=third_country,
        transfer_tool=_transfer_tool(vendor, third_country),
        retention=vendor.retention if vendor and vendor.retention else TO_COMPLETE,
        measures=_measures(vendor),
        gaps=tuple(sorted({f"{f.rule} ({f.severity.value})" for f in findings})),
        locations=tuple(f"{loc.file}:{loc.line}" for loc in i.locations),
        finding_ids=tuple(f.id for f in findings),
    )


def _transfer_tool(vendor: Vendor | None, third_country: bool) -> str:
    if not third_country:
        return "not needed (EU/EEA or local processing)"
    if vendor is None:
        return "GAP: vendor not in the register; no transfer tool documented (Art. 44-46)"
    tools = [
        t
        for t in (
            vendor.scc_module and f"SCCs {vendor.scc_module}",
            vendor.dpf_certified
            and "EU-US Data Privacy Framework (verify the recipient's active certification)",
        )
        if t
    ]
    return "; ".join(tools) if tools else "GAP: no transfer tool documented (Art. 44-46)"


def _measures(vendor: Vendor | None) -> tuple[str, ...]:
    measures = []
    if vendor and vendor.dpa_signed:
        measures.append(f"processor agreement (Art. 28) signed {vendor.dpa_date or '(date?)'}")
    measures.append(TO_COMPLETE + ": technical and organisational measures (Art. 32(1))")
    return tuple(measures)
