"""The vendor/DPA register the user keeps (`vendors.yaml`), and what it is missing.

controller: {name, contact, dpo}
vendors:
  - id: openai            # the catalogue's provider id
    name: OpenAI
    dpa_signed: true      # Art. 28 processor agreement
    dpa_date: 2026-03-01
    scc_module: "module 2 (C2P)"   # Art. 46(2)(c) standard contractual clauses
    dpf_certified: false  # EU-US Data Privacy Framework (Art. 45)
    region: us            # where it processes
    retention: "30 days"
    sub_processors: [Microsoft Azure]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from egressguard.errors import ConfigError
from egressguard.model import ScanResult

_VENDOR_KEYS = frozenset(
    {
        "id",
        "name",
        "dpa_signed",
        "dpa_date",
        "scc_module",
        "dpf_certified",
        "region",
        "retention",
        "sub_processors",
    }
)


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str = ""
    dpa_signed: bool = False
    dpa_date: str = ""
    scc_module: str = ""
    dpf_certified: bool = False
    region: str = ""
    retention: str = ""
    sub_processors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Register:
    controller: Mapping[str, str] = field(default_factory=dict)
    vendors: Mapping[str, Vendor] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VendorGap:
    provider: str
    article: str
    problem: str


def parse_register(text: str, source: str) -> Register:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with 'controller' and 'vendors'")
    controller = raw.get("controller") or {}
    if not isinstance(controller, dict):
        raise ConfigError(f"{source}: controller must be a mapping")
    vendors = raw.get("vendors") or []
    if not isinstance(vendors, list):
        raise ConfigError(f"{source}: vendors must be a list")
    parsed = [_vendor(v, f"{source}: vendors[{n}]") for n, v in enumerate(vendors)]
    return Register(
        {str(k): str(v or "") for k, v in controller.items()}, {v.id: v for v in parsed}
    )


def _vendor(raw: Any, where: str) -> Vendor:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise ConfigError(f"{where}: each vendor needs an 'id'")
    unknown = sorted(set(raw) - _VENDOR_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)}")
    subs = raw.get("sub_processors") or []
    if not isinstance(subs, list):
        raise ConfigError(f"{where}: sub_processors must be a list")
    return Vendor(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        dpa_signed=bool(raw.get("dpa_signed")),
        dpa_date=str(raw.get("dpa_date") or ""),
        scc_module=str(raw.get("scc_module") or ""),
        dpf_certified=bool(raw.get("dpf_certified")),
        region=str(raw.get("region") or ""),
        retention=str(raw.get("retention") or ""),
        sub_processors=tuple(str(s) for s in subs),
    )


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
