"""The summary across the stores of a fleet audit: one row per store (Markdown, JSON, text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from egressguard.model import ScanResult, Severity


@dataclass(frozen=True, slots=True)
class FleetRow:
    store: str
    path: str
    error: str
    files: int
    integrations: int
    providers: tuple[str, ...]
    non_eu: int
    counts: dict[str, int]  # severity -> findings
    new: int | None  # since the store's previous recorded scan (None: no history)
    fixed: int | None


def fleet_row(
    store: str, path: str, result: ScanResult | None, error: str, trend: tuple[int, int] | None
) -> FleetRow:
    if result is None:
        return FleetRow(store, path, error, 0, 0, (), 0, {s.value: 0 for s in Severity}, None, None)
    return FleetRow(
        store,
        path,
        "",
        result.stats.files_scanned,
        len(result.integrations),
        tuple(sorted({i.provider for i in result.integrations})),
        sum(1 for i in result.integrations if not i.region.is_sovereign),
        {s.value: sum(1 for f in result.findings if f.severity is s) for s in Severity},
        trend[0] if trend else None,
        trend[1] if trend else None,
    )


_HEADER = (
    "store",
    "files",
    "AI integrations",
    "non-EU",
    "critical",
    "high",
    "medium",
    "low",
    "new",
    "fixed",
    "providers / error",
)


def _cells(row: FleetRow) -> tuple[str, ...]:
    if row.error:
        return (row.store, "-", "-", "-", "-", "-", "-", "-", "-", "-", f"ERROR: {row.error}")
    c = row.counts
    return (
        row.store,
        str(row.files),
        str(row.integrations),
        str(row.non_eu),
        str(c["critical"]),
        str(c["high"]),
        str(c["medium"]),
        str(c["low"]),
        "-" if row.new is None else str(row.new),
        "-" if row.fixed is None else str(row.fixed),
        ", ".join(row.providers),
    )


def render_text(rows: Sequence[FleetRow]) -> str:
    table = [_HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(_HEADER) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in table
    ]
    totals = _totals(rows)
    lines.append(
        f"{len(rows)} store(s), {totals['failed']} failed; findings: "
        f"{totals['critical']} critical, {totals['high']} high, {totals['medium']} medium"
    )
    return "\n".join(lines) + "\n"


def render_markdown(rows: Sequence[FleetRow]) -> str:
    lines = [
        "# Fleet audit summary",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "|".join("---" for _ in _HEADER) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_json(rows: Sequence[FleetRow]) -> str:
    doc = {
        "stores": [
            {
                "store": r.store,
                "path": r.path,
                "error": r.error or None,
                "files": r.files,
                "integrations": r.integrations,
                "providers": list(r.providers),
                "non_eu_integrations": r.non_eu,
                "findings": r.counts,
                "new": r.new,
                "fixed": r.fixed,
            }
            for r in rows
        ],
        "totals": _totals(rows),
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _totals(rows: Sequence[FleetRow]) -> dict[str, int]:
    totals = {s.value: sum(r.counts[s.value] for r in rows) for s in Severity}
    totals["failed"] = sum(1 for r in rows if r.error)
    totals["stores"] = len(rows)
    return totals
