"""GDPR Art. 30(1) records of processing for the AI activities: CSV and XLSX.

Columns follow Art. 30(1)(a)-(g); measured facts (provider, region, data categories, code
locations, findings) fill what they can, and TO COMPLETE marks what only the controller knows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime

from egressguard.compliance.activities import TO_COMPLETE, Activity
from egressguard.compliance.vendors import Register

HEADER = (
    "activity",
    "(a) controller, contact, DPO",
    "(b) purposes",
    "(c) categories of data subjects",
    "(c) categories of personal data",
    "(d) recipients",
    "(e) third-country transfers and safeguards",
    "(f) erasure time limits",
    "(g) security measures (Art. 32(1))",
    "provider host",
    "region",
    "runs in",
    "business data sent",
    "code locations",
    "open findings",
)


def ropa_rows(activities: Sequence[Activity], register: Register) -> list[tuple[str, ...]]:
    controller = _controller(register.controller)
    rows: list[tuple[str, ...]] = []
    for a in activities:
        vendor = register.vendors.get(a.provider)
        subs = (
            f" (sub-processors: {', '.join(vendor.sub_processors)})"
            if vendor and vendor.sub_processors
            else ""
        )
        transfer = (
            f"{a.jurisdiction} ({a.region}): {a.transfer_tool}"
            if a.third_country
            else a.transfer_tool
        )
        rows.append(
            (
                a.id,
                controller,
                "; ".join(a.purposes),
                a.data_subjects,
                "; ".join(a.personal_data),
                f"{a.provider_name}{subs}",
                transfer,
                a.retention,
                "; ".join(a.measures),
                a.host,
                a.region,
                a.runs_in,
                "; ".join(a.business_data) or "none seen",
                " ".join(a.locations),
                "; ".join(a.gaps) or "none",
            )
        )
    return rows


def _controller(c: Mapping[str, str]) -> str:
    parts = [c.get("name", ""), c.get("contact", ""), c.get("dpo", "") and f"DPO: {c['dpo']}"]
    text = ", ".join(p for p in parts if p)
    return text or TO_COMPLETE


def ropa_csv(rows: Sequence[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def ropa_xlsx(rows: Sequence[tuple[str, ...]], created: datetime) -> bytes:
    """The same table as an Excel workbook (fixed document times: same input, same cells)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Art. 30 ROPA"
    ws.append(list(HEADER))
    for row in rows:
        ws.append(list(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    highlight = PatternFill("solid", fgColor="FFF2CC")
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str) and (TO_COMPLETE in cell.value or "GAP" in cell.value):
                cell.fill = highlight
    for col, width in zip(
        "ABCDEFGHIJKLMNO", (9, 28, 30, 22, 40, 24, 40, 18, 36, 28, 8, 9, 28, 40, 40), strict=True
    ):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B2"
    wb.properties.creator = "EgressGuard"
    wb.properties.created = created
    wb.properties.modified = created
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
