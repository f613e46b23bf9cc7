"""The control matrix: each control's status and the findings behind it.

Status, per control:
- "gap": a finding cites the control;
- "met": at least one EgressGuard rule mapped to the control was checked (the result's
  `checked_rules`) and nothing cites the control (evidence for it, not proof of compliance:
  the rules check code and traffic, not paperwork);
- "not assessed": no rule covers the control; a person must assess it.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from egressguard.model import Finding, Frameworks, ScanResult

FRAMEWORK_NAMES = {
    "gdpr": "GDPR",
    "nis2": "NIS2",
    "nist_ai_rmf": "NIST AI RMF",
    "iso27001": "ISO/IEC 27001:2022",
    "pci_dss": "PCI DSS v4.0.1",
}
GAP, MET, NOT_ASSESSED = "gap", "met", "not assessed"


@dataclass(frozen=True, slots=True)
class Control:
    framework: str
    ref: str
    title: str
    verify: bool = False


@dataclass(frozen=True, slots=True)
class ControlRow:
    control: Control
    status: str
    rules: tuple[str, ...]  # EgressGuard rules mapped to the control
    finding_ids: tuple[str, ...]  # findings citing it


def packaged_controls() -> tuple[Control, ...]:
    text = resources.files("egressguard.compliance").joinpath("data/controls.toml").read_text()
    raw = tomllib.loads(text)["controls"]
    return tuple(Control(c["framework"], c["ref"], c["title"], bool(c.get("verify"))) for c in raw)


def control_matrix(
    result: ScanResult,
    controls: tuple[Control, ...] | None = None,
    checked: Mapping[str, Frameworks] | None = None,
) -> tuple[ControlRow, ...]:
    """`checked`: the frameworks of every checked rule (default: the result's `rules` and the
    catalogue's metadata for its `checked_rules`)."""
    listed = list(controls if controls is not None else packaged_controls())
    mapped = dict(checked) if checked is not None else checked_frameworks(result)
    known = {(c.framework, c.ref) for c in listed}
    for rid in sorted(mapped):
        for framework, ref in sorted(_refs(mapped[rid])):
            if (framework, ref) not in known:
                known.add((framework, ref))
                listed.append(Control(framework, ref, "(cited by a rule; title not listed)", True))
    return tuple(_row(c, mapped, result.findings) for c in listed)


def checked_frameworks(result: ScanResult) -> dict[str, Frameworks]:
    """Rule id -> frameworks of every rule the result checked (or, for a report written before
    `checked_rules` existed, of the rules it has findings for)."""
    mapped = {r.id: r.frameworks for r in result.rules}
    if result.checked_rules:
        from egressguard.catalog import load_catalog

        catalog_rules = load_catalog().rules
        mapped.update(
            (rid, catalog_rules[rid].frameworks)
            for rid in result.checked_rules
            if rid in catalog_rules
        )
    return mapped


def _row(
    control: Control, rules: Mapping[str, Frameworks], findings: tuple[Finding, ...]
) -> ControlRow:
    key = (control.framework, control.ref)
    covering = tuple(sorted(rid for rid, fw in rules.items() if key in _refs(fw)))
    hits = tuple(f.id for f in findings if key in _refs(f.frameworks))
    status = GAP if hits else MET if covering else NOT_ASSESSED
    return ControlRow(control, status, covering, hits)


def _refs(fw: Frameworks) -> set[tuple[str, str]]:
    return {(name, ref) for name in FRAMEWORK_NAMES for ref in getattr(fw, name)}


def matrix_csv(rows: tuple[ControlRow, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["framework", "control", "title", "status", "verify", "rules", "findings"])
    for row in rows:
        c = row.control
        writer.writerow(
            [
                FRAMEWORK_NAMES[c.framework],
                c.ref,
                c.title,
                row.status,
                "verify" if c.verify else "",
                " ".join(row.rules),
                " ".join(row.finding_ids),
            ]
        )
    return out.getvalue()


def status_counts(rows: tuple[ControlRow, ...]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        per = counts.setdefault(row.control.framework, {GAP: 0, MET: 0, NOT_ASSESSED: 0})
        per[row.status] += 1
    return counts
