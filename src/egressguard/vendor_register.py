"""The vendor/DPA register the user keeps (`vendors.yaml`): its model and parser.

Both the audit (findings for providers without a DPA or transfer tool) and the compliance
pack read it, so it sits below both.

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

from egressguard.errors import ConfigError

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


def parse_register(text: str, source: str) -> Register:
    import yaml  # only when a register is given: the audit's start-up does not pay for it

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
