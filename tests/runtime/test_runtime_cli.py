"""`egressguard har`, `logs` and `merge` end to end: golden files for every format of the
fixture HAR's analysis, schema validity, exit codes, and no raw canary or key in any output."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from egressguard.cli.main import run
from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render
from egressguard.report.json_report import parse
from egressguard.runtime.analyse import analyse_traffic
from egressguard.runtime.canary import canary_values, chat_nonce
from egressguard.runtime.har import load_har
from tests.runtime.test_canary_persona import persona_from_file

ROOT = Path(__file__).resolve().parents[2]
HAR = ROOT / "tests" / "fixtures" / "har" / "storefront.har"
PERSONA = ROOT / "tests" / "fixtures" / "har" / "persona.json"
KEY = (ROOT / "tests" / "fixtures" / "har" / "fixture_key.txt").read_text().strip()
LOGS = ROOT / "tests" / "fixtures" / "logs"
GOLDEN = Path(__file__).resolve().parent / "golden"
SUFFIX = {
    ReportFormat.TERMINAL: "txt",
    ReportFormat.JSON: "json",
    ReportFormat.SARIF: "sarif",
    ReportFormat.HTML: "html",
    ReportFormat.MARKDOWN: "md",
}


def _stable(result: ScanResult) -> ScanResult:
    return replace(result, stats=replace(result.stats, duration_s=0.0))


@pytest.fixture(scope="module")
def har_result() -> ScanResult:
    persona = persona_from_file(PERSONA)
    return _stable(analyse_traffic(load_har(HAR), persona=persona))


@pytest.fixture(scope="module")
def har_result_without_persona() -> ScanResult:
    return _stable(analyse_traffic(load_har(HAR)))


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_har_golden(fmt: ReportFormat, har_result: ScanResult, update_golden: bool) -> None:
    path = GOLDEN / f"storefront-har.{SUFFIX[fmt]}"
    actual = render(fmt, har_result)
    if update_golden:
        path.write_bytes(actual.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{path.name} differs: review, then pytest --update-golden"


def test_json_is_valid_and_sarif_is_valid(har_result: ScanResult) -> None:
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    Draft202012Validator(schema).validate(json.loads(render(ReportFormat.JSON, har_result)))
    sarif = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    Draft4Validator(sarif).validate(json.loads(render(ReportFormat.SARIF, har_result)))


def test_every_planted_flow_is_found(har_result: ScanResult) -> None:
    rules = {(f.rule, f.host) for f in har_result.findings}
    assert {
        ("ai-key-in-browser-traffic", "api.openai.com"),
        ("personal-data-to-ai-observed", "api.openai.com"),
        ("personal-data-to-ai-observed", "widget-v4.tidiochat.com"),
        ("personal-data-to-third-party-observed", "www.facebook.com"),
        ("personal-data-to-third-party-observed", "collect.tagvendor.example"),
        ("personal-data-to-third-party-observed", "forms.newsletter.example"),
        ("ai-transfer-third-country", "api.openai.com"),
        ("ai-endpoint", "api.eu.mistral.ai"),
        ("payment-page-script-unverified", "cdn.tagvendor.example"),
        ("payment-page-script-unverified", "cdn.jsdelivr.net"),
        ("payment-page-script-inventory", "cdn.paybox.example"),
        ("ai-script-on-storefront", "code.tidio.co"),
        ("personal-data-in-browser-storage", None),
    } <= rules
    # negative cases planted beside them
    assert ("ai-transfer-third-country", "api.eu.mistral.ai") not in rules
    assert ("payment-page-script-unverified", "cdn.paybox.example") not in rules
    assert not any(h and "fontvendor" in h for _, h in rules)
    assert not any(h == "shop.example" for r, h in rules if r.startswith("personal-data-to"))


def _forbidden(persona_path: Path) -> list[str]:
    persona = persona_from_file(persona_path)
    values = [*canary_values(persona).values(), chat_nonce(persona), KEY, KEY[8:40]]
    email = persona.email.lower().encode()
    values += [
        quote(persona.email, safe=""),
        base64.b64encode(persona.email.encode()).decode()[:20],
        hashlib.sha256(email).hexdigest(),
        persona.street.split()[1],  # the unique street token
    ]
    return values


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
@pytest.mark.parametrize("with_persona", [True, False])
def test_no_raw_canary_or_full_key_in_any_output(
    fmt: ReportFormat,
    with_persona: bool,
    har_result: ScanResult,
    har_result_without_persona: ScanResult,
) -> None:
    result = har_result if with_persona else har_result_without_persona
    text = render(fmt, result)
    for value in _forbidden(PERSONA):
        assert value not in text, f"{value[:6]}… leaked into the {fmt} report"
        assert value.lower() not in text.lower() or len(value) < 8


def test_har_command_writes_reports_and_exits_1_on_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    code = run(
        ["har", str(HAR), "--persona-file", str(PERSONA), "--format", "json", "--output", str(out)]
    )
    assert code == 1
    result = parse(out.read_text())
    assert any(f.rule == "personal-data-to-ai-observed" for f in result.findings)
    assert (
        run(["har", str(HAR), "--format", "json", "--output", str(out), "--fail-on", "none"]) == 0
    )
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["har", "{tmp}/missing.har"], "cannot read"),
        (["har", "{tmp}/bin.har"], "binary"),
        (["har", "{fixture}", "--max-size", "100"], "larger than"),
        (["har", "{fixture}", "--persona-file", "{tmp}/bad.json"], "persona"),
        (["logs", "{tmp}/bin.har"], "binary"),
        (["merge", "{tmp}/bad.json"], "bad.json"),
    ],
)
def test_bad_inputs_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "bin.har").write_bytes(b"\x00\x01\x02PK\x03\x04")
    (tmp_path / "bad.json").write_text('{"first_name": 1}')
    argv = [a.format(tmp=tmp_path, fixture=HAR) for a in args]
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_logs_command(tmp_path: Path) -> None:
    out = tmp_path / "logs.json"
    code = run(["logs", str(LOGS / "squid_access.log"), "--format", "json", "--output", str(out)])
    assert code == 0  # residency is medium; the default --fail-on is high
    result = parse(out.read_text())
    assert {f.rule for f in result.findings} == {"ai-endpoint", "ai-transfer-third-country"}
    assert (
        run(
            [
                "logs",
                str(LOGS / "gateway_export.jsonl"),
                "--log-format",
                "gateway",
                "--format",
                "json",
                "--output",
                str(out),
                "--fail-on",
                "medium",
            ]
        )
        == 1
    )


def test_merge_keeps_both_origins_and_deduplicates(tmp_path: Path, har_result: ScanResult) -> None:
    from tests.report.factory import build_result

    audit = tmp_path / "audit.json"
    audit.write_text(render(ReportFormat.JSON, build_result()))
    har = tmp_path / "har.json"
    har.write_text(render(ReportFormat.JSON, har_result))
    out = tmp_path / "merged.json"
    code = run(
        [
            "merge",
            str(audit),
            str(har),
            str(har),
            "--format",
            "json",
            "--output",
            str(out),
            "--fail-on",
            "none",
        ]
    )
    assert code == 0
    merged = parse(out.read_text())
    assert len(merged.findings) == len(build_result().findings) + len(har_result.findings)
    files = {f.file for f in merged.findings}
    assert "https://shop.example/checkout/" in files and any(
        not f.startswith("https://") for f in files
    )
    assert set(merged.roots) == set(build_result().roots) | set(har_result.roots)
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    Draft202012Validator(schema).validate(json.loads(out.read_text()))


def test_baseline_round_trip_suppresses_runtime_findings(tmp_path: Path) -> None:
    base, out = tmp_path / "base.json", tmp_path / "r.json"
    args = [
        "har",
        str(HAR),
        "--persona-file",
        str(PERSONA),
        "--format",
        "json",
        "--output",
        str(out),
    ]
    assert run([*args, "--write-baseline", str(base)]) == 1
    first = parse(out.read_text())
    assert run([*args, "--baseline", str(base)]) == 0
    second = parse(out.read_text())
    assert second.findings == ()
    assert {s.fingerprint for s in second.suppressed} == {f.fingerprint for f in first.findings}
    assert all(s.via == "baseline" for s in second.suppressed)


def test_config_file_applies_to_runtime_evidence(tmp_path: Path) -> None:
    """`--config` (the audit's .egressguard.toml): custom providers are recognised in logs,
    disabled rules leave, severity overrides and fail_on apply, as in the audit."""
    log = tmp_path / "squid.log"
    log.write_text(
        (LOGS / "squid_access.log").read_text()
        + "1795600809.000     77 10.0.4.24 TCP_TUNNEL/200 4096 CONNECT llm.acme.internal:443 "
        "- HIER_DIRECT/10.1.2.3 -\n"
    )
    config = tmp_path / ".egressguard.toml"
    config.write_text(
        """
fail_on = "medium"
disable_rules = ["ai-transfer-third-country"]

[severity]
ai-endpoint = "critical"

[[providers]]
id = "acme-llm"
name = "ACME internal LLM"
jurisdiction = "DE"
region = "eu"
eu_option = true
eu_remediation = "Already processed in the EU (own data centre): no transfer."
keywords = ["llm.acme.internal"]
hosts = [{ pattern = 'llm\\.acme\\.internal', region = "eu" }]
samples = { match = [{ host = "llm.acme.internal", region = "eu" }], no_match = ["x.example"] }
"""
    )
    out = tmp_path / "out.json"
    base = ["logs", str(log), "--format", "json", "--output", str(out)]
    assert run(base) == 0  # without the config: the default fail_on high
    plain = parse(out.read_text())
    assert "ai-transfer-third-country" in {f.rule for f in plain.findings}
    assert not any(f.host == "llm.acme.internal" for f in plain.findings)
    assert run([*base, "--config", str(config)]) == 1  # the config's fail_on (and severities)
    configured = parse(out.read_text())
    assert "ai-transfer-third-country" not in {f.rule for f in configured.findings}
    assert "ai-transfer-third-country" not in configured.checked_rules
    endpoints = [f for f in configured.findings if f.rule == "ai-endpoint"]
    assert endpoints and all(f.severity.value == "critical" for f in endpoints)
    assert "llm.acme.internal" in {f.host for f in endpoints}  # the config's own provider
    assert run([*base, "--config", str(config), "--fail-on", "none"]) == 0  # the flag wins


def test_a_missing_config_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"
    assert run(["logs", str(LOGS / "squid_access.log"), "--config", str(missing)]) == 2
    assert f"--config: {missing}: no such file" in capsys.readouterr().err
