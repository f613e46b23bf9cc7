"""The public API: one render() over an exhaustive enum, deterministic, errors as ReportError."""

from __future__ import annotations

import dataclasses

import pytest

from egressguard.errors import ReportError
from egressguard.masking import mask
from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render
from tests.report.factory import RAW_ANTHROPIC_KEY, RAW_OPENAI_KEY, build_result


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_render_is_deterministic(fmt: ReportFormat, result: ScanResult) -> None:
    assert render(fmt, result) == render(fmt, build_result())


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_empty_result_renders(fmt: ReportFormat, empty_result: ScanResult) -> None:
    out = render(fmt, empty_result)
    assert out.endswith("\n")
    assert "egressguard" in out


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_masked_evidence_stays_masked(fmt: ReportFormat, result: ScanResult) -> None:
    out = render(fmt, result)
    assert mask(RAW_OPENAI_KEY) in out
    for raw in (RAW_OPENAI_KEY, RAW_ANTHROPIC_KEY):
        assert raw not in out
        assert raw[:20] not in out  # not even a longer prefix than the mask shows


@pytest.mark.parametrize("fmt", [ReportFormat.JSON, ReportFormat.SARIF], ids=str)
def test_unencodable_value_is_a_report_error(fmt: ReportFormat, result: ScanResult) -> None:
    broken = dataclasses.replace(
        result, stats=dataclasses.replace(result.stats, duration_s=float("nan"))
    )
    with pytest.raises(ReportError, match="cannot encode"):
        render(fmt, broken)


def test_format_values_are_the_cli_names() -> None:
    assert [f.value for f in ReportFormat] == ["terminal", "json", "sarif", "html", "markdown"]
