"""The vendor register in the compliance pack: pre-fill it and list what it is missing.

The register's model and parser live in `egressguard.vendor_register` (the audit reads it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from egressguard.model import ScanResult
from egressguard.vendor_register import Register, Vendor, parse_register

__all__ = ["Register", "Vendor", "VendorGap", "parse_register", "register_template", "vendor_gaps"]


@dataclass(frozen=True, slots=True)
class VendorGap:
    provider: str
    article: str
    problem: str


def register_template(result: ScanResult, existing: Register | None = None) -> str:
    """vendors.yaml pre-filled with every provider the result uses (existing entries kept)."""
    existing = existing or Register()
    regions = {i.provider: i.region.value for i in result.integrations}
    names = {p.id: p.name for p in result.providers}
    vendors = dict(existing.vendors)
    for pid in sorted(regions):
        vendors.setdefault(pid, Vendor(pid, names.get(pid, pid), region=regions[pid]))
    doc = {
        "controller": dict(existing.controller) or {"name": "", "contact": "", "dpo": ""},
        "vendors": [_plain(v) for v in vendors.values()],
    }
    header = (
        "# EgressGuard vendor/DPA register. Complete every empty value; `egressguard report`\n"
        "# flags providers without a DPA (Art. 28) or, outside the EU/EEA, without a transfer\n"
        "# tool (Art. 44-46), and providers in use that are missing here.\n"
    )
    return header + str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _plain(v: Vendor) -> dict[str, Any]:
    return {
        "id": v.id,
        "name": v.name,
        "dpa_signed": v.dpa_signed,
        "dpa_date": v.dpa_date,
        "scc_module": v.scc_module,
        "dpf_certified": v.dpf_certified,
        "region": v.region,
        "retention": v.retention,
        "sub_processors": list(v.sub_processors),
    }


def vendor_gaps(result: ScanResult, register: Register) -> tuple[VendorGap, ...]:
    gaps: list[VendorGap] = []
    used = {i.provider: i for i in result.integrations}
    for pid in sorted(used):
        vendor = register.vendors.get(pid)
        if vendor is None:
            gaps.append(VendorGap(pid, "Art. 28, Art. 30", "in use but not in the vendor register"))
            continue
        if not vendor.dpa_signed:
            gaps.append(VendorGap(pid, "Art. 28", "no signed processor agreement (DPA)"))
        if not used[pid].region.is_sovereign and not (vendor.scc_module or vendor.dpf_certified):
            gaps.append(VendorGap(pid, "Art. 44-46", "non-EU processing without a transfer tool"))
    return tuple(gaps)
