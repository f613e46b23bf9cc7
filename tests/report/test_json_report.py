"""JSON report: documented field names and order, valid against docs/report.schema.json."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from egressguard import model
from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"
DOC_PATH = SCHEMA_PATH.with_name("json-schema.md")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    return loaded


def _doc(result: ScanResult) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(ReportFormat.JSON, result))
    return loaded


@pytest.mark.parametrize("name", ["result", "empty_result"])
def test_validates_against_schema(
    name: str, schema: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    Draft202012Validator(schema).validate(_doc(request.getfixturevalue(name)))


def test_top_level_field_order(result: ScanResult) -> None:
    assert list(_doc(result)) == [
        "schema_version", "tool", "roots", "platforms", "integrations", "findings",
        "skipped", "suppressed", "warnings", "providers", "rules", "checked_rules", "stats",
    ]  # fmt: skip


def test_required_field_names(result: ScanResult) -> None:
    doc = _doc(result)
    finding = doc["findings"][1]
    assert {"id", "rule", "kind", "severity", "file", "line", "provider", "host", "region",
            "data_categories", "frameworks", "message", "evidence", "remediation",
            "trace"} <= set(finding)  # fmt: skip
    assert list(finding["frameworks"]) == ["gdpr", "nis2", "nist_ai_rmf", "iso27001", "pci_dss"]
    assert finding["trace"][0] == {
        "file": "app/code/Acme/AiAssist/Controller/Ajax/Suggest.php",
        "line": 31,
        "note": "loads the customer session",
    }
    assert set(doc["integrations"][0]) >= {
        "provider",
        "host",
        "region",
        "jurisdiction",
        "locations",
        "runs_in",
    }
    assert doc["integrations"][0]["locations"][0] == {
        "file": "app/code/Acme/AiAssist/view/frontend/web/js/chat-widget.js",
        "line": 12,
    }
    assert set(doc["stats"]) >= {"files_scanned", "bytes_scanned", "duration_s"}
    assert doc["skipped"][2]["file"] == "themes/dawn-ai/snippets/<script>alert(1)</script>.liquid"
    assert doc["tool"] == {"name": "egressguard", "version": "0.1.0"}


def test_optional_values_are_null_not_missing(result: ScanResult) -> None:
    logged = _doc(result)["findings"][5]
    assert (logged["provider"], logged["host"], logged["region"]) == (None, None, None)


def test_findings_keep_incoming_order(result: ScanResult) -> None:
    assert [f["id"] for f in _doc(result)["findings"]] == [f.id for f in result.findings]


def test_output_is_unicode_not_escaped(result: ScanResult) -> None:
    out = render(ReportFormat.JSON, result)
    assert "übersetzung – groß.csv" in out


_ENUMS = {
    "severity": model.Severity,
    "confidence": model.Confidence,
    "kind": model.Kind,
    "region": model.Region,
    "data_category": model.DataCategory,
}


@pytest.mark.parametrize("name", sorted(_ENUMS))
def test_schema_enums_match_the_model(name: str, schema: dict[str, Any]) -> None:
    enum: type[StrEnum] = _ENUMS[name]
    assert schema["$defs"][name]["enum"] == [m.value for m in enum]


def test_schema_platform_kinds_match_the_model(schema: dict[str, Any]) -> None:
    kinds = schema["$defs"]["platform"]["properties"]["kind"]["enum"]
    assert kinds == [k.value for k in model.PlatformKind]


def test_every_schema_field_is_documented(schema: dict[str, Any]) -> None:
    doc = DOC_PATH.read_text(encoding="utf-8")
    objects = [schema, *schema["$defs"].values()]
    names = {key for obj in objects for key in obj.get("properties", {})}
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"fields missing from docs/json-schema.md: {missing}"
