"""Check the AI providers the audit found against the vendor/DPA register (vendors.yaml).

Runs once after the analysers, over the integrations found. Each hit is located in the
register file: at the provider's entry, or at the `vendors:` list when the provider is
missing from it (the message names where the code uses it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from egressguard.model import Confidence, Hit, Integration, Region
from egressguard.vendor_register import Register

VENDOR_RULES = frozenset(
    {"ai-vendor-not-in-register", "ai-vendor-without-dpa", "ai-vendor-without-transfer-tool"}
)


def vendor_hits(register: Register, text: str, integrations: Sequence[Integration]) -> list[Hit]:
    hits: list[Hit] = []
    by_provider: dict[str, Integration] = {}
    for integration in integrations:
        if integration.region is not Region.LOCAL:  # self-hosted: no third party involved
            by_provider.setdefault(integration.provider, integration)
    for pid, used in sorted(by_provider.items()):
        where = f"{used.locations[0].file}:{used.locations[0].line}" if used.locations else ""
        vendor = register.vendors.get(pid)
        if vendor is None:
            hits.append(
                Hit(
                    "ai-vendor-not-in-register",
                    _line(text, r"^vendors\s*:"),
                    f"{used.provider_name} is called (e.g. {where}) but is not in the register",
                    f"vendors: (no entry for {pid})",
                    f"missing:{pid}",
                    provider=pid,
                    host=used.host,
                    region=used.region,
                    confidence=Confidence.HIGH,
                )
            )
            continue
        line = _line(text, rf"^\s*-?\s*id\s*:\s*['\"]?{re.escape(pid)}['\"]?\s*$")
        if not vendor.dpa_signed:
            hits.append(
                Hit(
                    "ai-vendor-without-dpa",
                    line,
                    f"{used.provider_name}: no signed processor agreement in the register",
                    f"id: {pid} (dpa_signed: false)",
                    f"dpa:{pid}",
                    provider=pid,
                    host=used.host,
                    region=used.region,
                    confidence=Confidence.HIGH,
                )
            )
        if not used.region.is_sovereign and not (vendor.scc_module or vendor.dpf_certified):
            hits.append(
                Hit(
                    "ai-vendor-without-transfer-tool",
                    line,
                    f"{used.provider_name} processes in {used.jurisdiction} ({used.region.value}) "
                    "and the register names no SCCs or DPF certification",
                    f"id: {pid} (scc_module and dpf_certified empty)",
                    f"transfer:{pid}",
                    provider=pid,
                    host=used.host,
                    region=used.region,
                    confidence=Confidence.HIGH,
                )
            )
    return hits


def _line(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1
