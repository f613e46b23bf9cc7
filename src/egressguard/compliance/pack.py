"""Every document of the compliance pack, as file name -> bytes (the CLI writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from egressguard.compliance.activities import processing_activities
from egressguard.compliance.controls import (
    FRAMEWORK_NAMES,
    ControlRow,
    control_matrix,
    matrix_csv,
)
from egressguard.compliance.document import Doc, Para, Section, table, to_html, to_markdown
from egressguard.compliance.dpia import dpia_doc
from egressguard.compliance.incident import incident_doc
from egressguard.compliance.ropa import ropa_csv, ropa_rows, ropa_xlsx
from egressguard.compliance.summary import summary_doc
from egressguard.compliance.vendors import Register, vendor_gaps
from egressguard.model import ScanResult
from egressguard.store.history import ScanRecord


def build_pack(
    result: ScanResult,
    register: Register,
    scans: Sequence[ScanRecord],
    generated: datetime,
) -> dict[str, bytes]:
    stamp = generated.isoformat()
    activities = processing_activities(result, dict(register.vendors))
    gaps = vendor_gaps(result, register)
    rows = ropa_rows(activities, register)
    matrix = control_matrix(result)
    files: dict[str, bytes] = {
        "ropa.csv": ropa_csv(rows).encode(),
        "ropa.xlsx": ropa_xlsx(rows, generated.replace(tzinfo=None)),
        "control-matrix.csv": matrix_csv(matrix).encode(),
    }
    docs = {
        "dpia": dpia_doc(result, activities, gaps, stamp),
        "summary": summary_doc(result, gaps, scans, stamp),
        "control-matrix": _matrix_doc(matrix, stamp, result.tool.version),
    }
    incident = incident_doc(result.findings, generated)
    if incident is not None:
        docs["incident"] = incident
    for name, doc in docs.items():
        if name != "control-matrix":
            files[f"{name}.md"] = to_markdown(doc).encode()
        files[f"{name}.html"] = to_html(doc).encode()
    return dict(sorted(files.items()))


def _matrix_doc(matrix: tuple[ControlRow, ...], stamp: str, version: str) -> Doc:
    sections = []
    for fw, name in FRAMEWORK_NAMES.items():
        rows = [
            (
                r.control.ref,
                r.control.title + (" (verify)" if r.control.verify else ""),
                r.status,
                " ".join(r.rules),
                " ".join(r.finding_ids),
            )
            for r in matrix
            if r.control.framework == fw
        ]
        sections.append(
            Section(name, (table(("control", "title", "status", "rules", "findings"), rows),))
        )
    intro = Section(
        "How to read it",
        (
            Para(
                "gap: a finding cites the control. met: the EgressGuard rules mapped to it "
                "ran and found nothing (evidence for the control, not proof of compliance). "
                "not assessed: no rule covers it; a person must assess it."
            ),
        ),
    )
    return Doc("Control matrix", f"EgressGuard {version}, {stamp}.", (intro, *sections))
