"""SARIF: valid SARIF 2.1.0 (the OASIS schema, vendored in tests/data) and usable by GitHub."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render
from egressguard.report.sarif import artifact_location

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def _run(result: ScanResult) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(render(ReportFormat.SARIF, result))["runs"][0]
    return run


@pytest.mark.parametrize("name", ["result", "empty_result"])
def test_valid_against_sarif_schema(
    name: str, validator: Draft4Validator, request: pytest.FixtureRequest
) -> None:
    doc = json.loads(render(ReportFormat.SARIF, request.getfixturevalue(name)))
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    assert doc["version"] == "2.1.0"


def test_rule_index_resolves_and_covers_rules_only_findings_name(result: ScanResult) -> None:
    run = _run(result)
    rules = run["tool"]["driver"]["rules"]
    for entry in run["results"]:
        assert rules[entry["ruleIndex"]]["id"] == entry["ruleId"]
    assert rules[-1]["id"] == "ai-integration"  # not in result.rules: a stand-in descriptor


def test_rule_metadata_for_github(result: ScanResult) -> None:
    rule = _run(result)["tool"]["driver"]["rules"][0]
    assert rule["id"] == "ai-key-in-frontend"
    assert rule["name"] == "AiKeyInFrontend"
    assert rule["shortDescription"]["text"] == "AI provider key in front-end code"
    assert rule["properties"]["security-severity"] == "9.5"
    assert {"security", "secret"} <= set(rule["properties"]["tags"])
    assert "Remediation: Revoke the key" in rule["help"]["text"]
    assert "PCI DSS: 8.3.2" in rule["help"]["text"]
    assert rule["helpUri"] == "https://egressguard.example/rules/ai-key-in-frontend"


def test_security_severity_scale(result: ScanResult) -> None:
    rules = {r["id"]: r for r in _run(result)["tool"]["driver"]["rules"]}
    scores = {rid: float(r["properties"]["security-severity"]) for rid, r in rules.items()}
    assert scores == {
        "ai-key-in-frontend": 9.5,
        "pii-to-ai-provider": 8.0,
        "ai-script-on-checkout": 8.0,
        "ai-key-in-config": 5.5,
        "bulk-orders-to-ai": 5.5,
        "prompt-logged": 3.0,
        "ai-integration": 1.0,
    }


def test_levels_follow_finding_severity(result: ScanResult) -> None:
    levels = [r["level"] for r in _run(result)["results"]]
    assert levels == ["error", "error", "error", "warning", "warning", "note", "note"]


def test_result_location_fingerprint_and_properties(result: ScanResult) -> None:
    first = _run(result)["results"][0]
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {
        "uri": "app/code/Acme/AiAssist/view/frontend/web/js/chat-widget.js",
        "uriBaseId": "%SRCROOT%",
    }
    assert physical["region"] == {"startLine": 12}
    assert first["partialFingerprints"] == {"egressguard/v1": result.findings[0].fingerprint}
    props = first["properties"]
    assert (props["provider"], props["host"], props["region"]) == ("openai", "api.openai.com", "us")
    assert props["data_categories"] == ["credentials"]
    assert props["confidence"] == "high"
    assert props["frameworks"]["pci_dss"] == ["8.3.2"]


def test_code_flow_from_trace_only_when_present(result: ScanResult) -> None:
    results = _run(result)["results"]
    assert "codeFlows" not in results[0]
    steps = results[1]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["message"]["text"] for s in steps] == [
        t.note for t in result.findings[1].trace
    ]
    assert steps[0]["location"]["physicalLocation"]["region"] == {"startLine": 31}


def test_skipped_files_are_notifications(result: ScanResult) -> None:
    invocation = _run(result)["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    skipped = [n for n in notes if n["descriptor"]["id"] == "skipped-target"]
    assert len(skipped) == len(result.skipped)
    assert all(n["level"] == "warning" for n in notes)
    assert skipped[1]["message"]["text"].startswith(
        "Skipped i18n/de_DE/übersetzung – groß.csv: too large"
    )
    uri = skipped[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "themes/dawn-ai/snippets/%3Cscript%3Ealert%281%29%3C/script%3E.liquid"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("a/b c.php", {"uri": "a/b%20c.php", "uriBaseId": "%SRCROOT%"}),
        ("./x/ü.js", {"uri": "x/%C3%BC.js", "uriBaseId": "%SRCROOT%"}),
        ("/abs/p#1.js", {"uri": "file:///abs/p%231.js"}),
    ],
)
def test_artifact_uris_are_encoded(path: str, uri: dict[str, str]) -> None:
    assert artifact_location(path) == uri


def test_file_level_finding_has_no_region(result: ScanResult) -> None:
    whole_file = dataclasses.replace(result.findings[0], line=0)
    run = _run(dataclasses.replace(result, findings=(whole_file,)))
    assert "region" not in run["results"][0]["locations"][0]["physicalLocation"]
