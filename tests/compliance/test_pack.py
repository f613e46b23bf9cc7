"""The compliance pack from a frozen audit result: golden documents, control status logic,
the vendor register, incident deadlines, and the report command end to end."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egressguard.cli.main import run
from egressguard.compliance.controls import GAP, MET, NOT_ASSESSED, Control, control_matrix
from egressguard.compliance.incident import deadlines, incident_doc
from egressguard.compliance.pack import build_pack
from egressguard.compliance.vendors import Register, parse_register, register_template, vendor_gaps
from egressguard.errors import ConfigError
from egressguard.evidence.bundle import verify_bundle
from egressguard.model import Frameworks, ScanResult
from egressguard.report.json_report import parse
from egressguard.store.history import FindingRow, ScanRecord

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "tests" / "fixtures" / "compliance" / "audit.json"
VENDORS = ROOT / "examples" / "vendors.yaml"
GOLDEN = ROOT / "tests" / "golden" / "compliance"
GENERATED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return parse(AUDIT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def register() -> Register:
    return parse_register(VENDORS.read_text(encoding="utf-8"), str(VENDORS))


@pytest.fixture(scope="module")
def pack(result: ScanResult, register: Register) -> dict[str, bytes]:
    return build_pack(result, register, None, GENERATED)


TEXT_DOCS = [
    "ropa.csv",
    "control-matrix.csv",
    "control-matrix.html",
    "dpia.md",
    "dpia.html",
    "summary.md",
    "summary.html",
    "incident.md",
    "incident.html",
]


@pytest.mark.parametrize("name", TEXT_DOCS)
def test_document_matches_golden(pack: dict[str, bytes], name: str, update_golden: bool) -> None:
    golden = GOLDEN / name
    if update_golden:
        golden.write_bytes(pack[name])
    assert pack[name].decode() == golden.read_text(encoding="utf-8")


def test_pack_has_exactly_the_documented_files(pack: dict[str, bytes]) -> None:
    assert sorted(pack) == sorted([*TEXT_DOCS, "ropa.xlsx"])


def test_xlsx_holds_the_same_table_as_the_csv(pack: dict[str, bytes]) -> None:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(pack["ropa.xlsx"])).active
    assert ws is not None
    cells = [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]
    assert cells == list(csv.reader(io.StringIO(pack["ropa.csv"].decode())))


def test_ropa_fills_art30_from_measurements_and_marks_the_rest(pack: dict[str, bytes]) -> None:
    rows = list(csv.DictReader(io.StringIO(pack["ropa.csv"].decode())))
    by_host = {(r["provider host"], r["runs in"]): r for r in rows}
    browser = by_host[("api.anthropic.com", "browser")]
    assert (
        "GAP: vendor not in the register" in browser["(e) third-country transfers and safeguards"]
    )
    assert browser["(f) erasure time limits"] == "TO COMPLETE"
    assert browser["(a) controller, contact, DPO"].startswith("Demo Shop GmbH")
    mistral = by_host[("api.eu.mistral.ai", "server")]
    assert mistral["(e) third-country transfers and safeguards"].startswith("not needed")
    assert mistral["(f) erasure time limits"] == "30 days"
    openai = [r for r in rows if "OpenAI" in r["(d) recipients"]]
    assert openai and all(
        "SCCs module 2" in r["(e) third-country transfers and safeguards"] for r in openai
    )


def test_control_status_gap_met_and_not_assessed(result: ScanResult) -> None:
    controls = (
        Control("gdpr", "Art. 44", "transfers"),
        Control("gdpr", "Art. 30(1)", "record"),
        Control("nis2", "Art. 21(2)(c)", "continuity"),
    )
    cited_by_finding = {r for f in result.findings for r in f.frameworks.gdpr}
    assert "Art. 44" in cited_by_finding
    only_rules = replace(
        result,
        findings=tuple(f for f in result.findings if "Art. 30(1)" not in f.frameworks.gdpr),
    )
    status = {r.control.ref: r.status for r in control_matrix(only_rules, controls)}
    assert status["Art. 44"] == GAP
    assert status["Art. 30(1)"] == MET  # a rule maps to it and nothing cites it
    assert status["Art. 21(2)(c)"] == NOT_ASSESSED


def test_a_ref_cited_by_a_rule_but_not_listed_is_added_marked_verify(result: ScanResult) -> None:
    rule = replace(result.rules[0], frameworks=Frameworks(gdpr=("Art. 99(9)",)))
    rows = control_matrix(replace(result, rules=(rule,), checked_rules=()), ())
    assert [(r.control.ref, r.control.verify) for r in rows] == [("Art. 99(9)", True)]


def test_vendor_gaps(result: ScanResult, register: Register) -> None:
    gaps = {(g.provider, g.problem) for g in vendor_gaps(result, register)}
    assert ("anthropic", "in use but not in the vendor register") in gaps
    assert not any(p == "openai" for p, _ in gaps)  # DPA + SCCs
    assert not any(p == "mistral" for p, _ in gaps)  # EU, DPA


def test_vendor_without_transfer_tool_outside_the_eu(result: ScanResult) -> None:
    reg = parse_register("vendors:\n  - id: openai\n    dpa_signed: true\n", "t")
    gaps = {(g.provider, g.article) for g in vendor_gaps(result, reg)}
    assert ("openai", "Art. 44-46") in gaps and ("openai", "Art. 28") not in gaps


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vendors: [{name: x}]", "needs an 'id'"),
        ("vendors:\n  - id: a\n    dpa: yes\n", "unknown key"),
        ("vendors: {a: 1}", "must be a list"),
        ("- just a list", "expected a mapping"),
        ("vendors: [", "invalid YAML"),
    ],
)
def test_register_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_register(text, "vendors.yaml")


def test_register_template_keeps_existing_and_adds_new(
    result: ScanResult, register: Register
) -> None:
    text = register_template(result, register)
    again = parse_register(text, "t")
    assert again.vendors["openai"].dpa_signed  # kept
    assert "anthropic" in again.vendors and not again.vendors["anthropic"].dpa_signed  # added
    assert again.controller["name"] == "Demo Shop GmbH"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_deadlines(aware: datetime) -> None:
    d = {rule: due for rule, _, due in deadlines(aware)}
    assert d["NIS2 Art. 23(4)(a)"] - aware == timedelta(hours=24)
    assert d["GDPR Art. 33(1)"] - aware == timedelta(hours=72)
    final = d["NIS2 Art. 23(4)(d)"] - d["NIS2 Art. 23(4)(b)"]
    assert timedelta(days=28) <= final <= timedelta(days=31)


def test_no_incident_document_without_a_leak(result: ScanResult) -> None:
    quiet = tuple(f for f in result.findings if f.severity.rank < 3)
    assert incident_doc(quiet, GENERATED) is None
    assert "incident.md" not in build_pack(
        replace(result, findings=quiet), Register(), None, GENERATED
    )


def test_report_command_writes_documents_and_a_verified_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(GENERATED.timestamp())))
    key = tmp_path / "k" / "sign.key"
    assert run(["bundle", "keygen", str(key)]) == 0
    out = tmp_path / "out"
    args = [
        "report",
        str(AUDIT),
        "--vendors",
        str(VENDORS),
        "--output-dir",
        str(out),
        "--sign-key",
        str(key),
    ]
    assert run(args) == 0
    for name in TEXT_DOCS:
        assert (out / name).read_text(encoding="utf-8") == (GOLDEN / name).read_text(
            encoding="utf-8"
        )
    from egressguard.evidence.signing import load_public_key

    pub = load_public_key(Path(str(key) + ".pub").read_bytes(), "pub")
    verdict = verify_bundle(out / "evidence-bundle.zip", pub)
    assert verdict.ok and verdict.files_checked == len(TEXT_DOCS) + 2
    with zipfile.ZipFile(out / "evidence-bundle.zip") as zf:
        assert "results/1-audit.json" in zf.namelist()


def test_vendors_init_writes_a_register(tmp_path: Path) -> None:
    out = tmp_path / "vendors.yaml"
    assert run(["vendors", "init", str(AUDIT), "-o", str(out)]) == 0
    reg = parse_register(out.read_text(encoding="utf-8"), str(out))
    assert {"anthropic", "openai", "mistral"} <= set(reg.vendors)


def _history() -> tuple[ScanRecord, ...]:
    def rows(spec: list[tuple[str, str, str]]) -> tuple[FindingRow, ...]:
        return tuple(FindingRow(fp, "rule-" + fp, sev, "f.php", prov) for fp, sev, prov in spec)

    return (
        ScanRecord(
            1,
            "demo",
            "audit",
            "2026-11-01T09:00:00+00:00",
            "t",
            rows(
                [
                    ("a", "critical", "openai"),
                    ("b", "high", "openai"),
                    ("c", "medium", "anthropic"),
                    ("d", "info", ""),
                ]
            ),
        ),
        ScanRecord(
            2,
            "demo",
            "audit",
            "2026-11-08T09:00:00+00:00",
            "t",
            rows([("b", "high", "openai"), ("c", "medium", "anthropic"), ("e", "low", "mistral")]),
        ),
    )


@pytest.mark.parametrize("name", ["summary-history.md", "summary-history.html"])
def test_summary_with_history_matches_golden(
    result: ScanResult, register: Register, name: str, update_golden: bool
) -> None:
    pack = build_pack(result, register, _history(), GENERATED)
    data = pack[name.replace("-history", "")]
    golden = GOLDEN / name
    if update_golden:
        golden.write_bytes(data)
    assert data.decode() == golden.read_text(encoding="utf-8")


def test_history_chart_draws_one_bar_segment_per_nonzero_count() -> None:
    from egressguard.compliance.charts import provider_chart, severity_chart

    svg = severity_chart(_history())
    assert svg.count("<rect x=") - 5 == 4 + 3  # 5 legend swatches; scan 1: 4 segments, 2: 3
    assert "#1 2026-11-01: 1 critical" in svg and "#2 2026-11-08: 1 low" in svg
    prov = provider_chart(_history())
    assert "mistral" in prov and "#1 2026-11-01: 2 openai" in prov


def test_a_checked_rule_without_findings_makes_its_controls_met(result: ScanResult) -> None:
    controls = (Control("pci_dss", "8.3.2", "auth factors"), Control("gdpr", "Art. 44", "x"))
    quiet = replace(result, findings=(), rules=(), checked_rules=("ai-key-hardcoded",))
    status = {r.control.ref: (r.status, r.rules) for r in control_matrix(quiet, controls)}
    assert status["8.3.2"] == (MET, ("ai-key-hardcoded",))
    assert status["Art. 44"] == (NOT_ASSESSED, ())  # no checked rule maps to it
    unchecked = replace(quiet, checked_rules=())
    assert {r.status for r in control_matrix(unchecked, controls)} == {NOT_ASSESSED}


def test_audit_reports_the_rules_it_checked(tmp_path: Path) -> None:
    from egressguard.audit.analysers import AUDIT_RULES
    from egressguard.audit.engine import AuditRequest, run_audit
    from egressguard.catalog import load_catalog
    from egressguard.config import AuditSettings

    settings = AuditSettings(disable_rules=frozenset({"ai-key-in-url"}))
    checked = run_audit(
        AuditRequest((ROOT / "examples" / "shopify-theme",), settings)
    ).checked_rules
    assert set(checked) == AUDIT_RULES - {"ai-key-in-url"}
    assert set(load_catalog().rules) >= AUDIT_RULES
