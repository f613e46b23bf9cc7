"""The audit checks the AI providers it found against the vendor/DPA register."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.audit.engine import AuditRequest, run_audit
from egressguard.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "magento2-module"

REGISTER = """\
controller:
  name: Shop
vendors:
  - id: openai
    dpa_signed: {dpa}
    scc_module: "{scc}"
  - id: mistral
    dpa_signed: true
"""


def _vendor_findings(tmp_path: Path, text: str) -> dict[tuple[str, str | None], int]:
    reg = tmp_path / "vendors.yaml"
    reg.write_text(text, encoding="utf-8")
    result = run_audit(AuditRequest(roots=(DEMO,), vendors=reg))
    return {
        (f.rule, f.provider): f.line for f in result.findings if f.rule.startswith("ai-vendor-")
    }


def test_missing_dpa_and_transfer_tool(tmp_path: Path) -> None:
    found = _vendor_findings(tmp_path, REGISTER.format(dpa="false", scc=""))
    assert found[("ai-vendor-without-dpa", "openai")] == 4
    assert found[("ai-vendor-without-transfer-tool", "openai")] == 4
    assert ("ai-vendor-not-in-register", "anthropic") in found  # the copywriter calls it
    assert not any(p == "mistral" for _, p in found)  # EU and DPA signed
    assert not any(p == "ollama" for _, p in found)  # self-hosted: no third party


def test_covered_vendor_has_no_finding(tmp_path: Path) -> None:
    found = _vendor_findings(tmp_path, REGISTER.format(dpa="true", scc="module 2 (C2P)"))
    assert not any(p == "openai" for _, p in found)


def test_no_register_no_vendor_findings() -> None:
    result = run_audit(AuditRequest(roots=(DEMO,)))
    assert not any(f.rule.startswith("ai-vendor-") for f in result.findings)


def test_bad_register_is_a_clear_error(tmp_path: Path) -> None:
    reg = tmp_path / "vendors.yaml"
    reg.write_text("vendors:\n  - id: openai\n    dpa: yes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        run_audit(AuditRequest(roots=(DEMO,), vendors=reg))
    with pytest.raises(ConfigError, match="cannot read"):
        run_audit(AuditRequest(roots=(DEMO,), vendors=tmp_path / "missing.yaml"))
