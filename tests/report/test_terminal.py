"""Terminal summary: plain text without colour, ANSI colour on request, environment-proof."""

from __future__ import annotations

import dataclasses

import pytest

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render


def test_plain_has_no_escape_codes(result: ScanResult) -> None:
    out = render(ReportFormat.TERMINAL, result)
    assert "\x1b" not in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_color_uses_ansi(result: ScanResult) -> None:
    assert "\x1b[" in render(ReportFormat.TERMINAL, result, color=True)


def test_grouped_by_severity_then_provider(result: ScanResult) -> None:
    lines = render(ReportFormat.TERMINAL, result).splitlines()
    heads = [
        line
        for line in lines
        if line.split(" (")[0] in {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}
    ]
    assert heads == ["CRITICAL (1)", "HIGH (2)", "MEDIUM (2)", "LOW (1)", "INFO (1)"]
    high = lines[lines.index("HIGH (2)") + 1 : lines.index("MEDIUM (2)")]
    assert [
        line.strip() for line in high if line.startswith("  ") and not line.startswith("    ")
    ] == [
        "OpenAI",
        "Chatbase",  # a widget vendor: named from the result's provider facts
    ]


def test_markup_in_values_is_literal(result: ScanResult) -> None:
    odd = dataclasses.replace(result.findings[0], message="[bold red]not markup[/]")
    out = render(ReportFormat.TERMINAL, dataclasses.replace(result, findings=(odd,)))
    assert "[bold red]not markup[/]" in out


def test_width_is_respected(result: ScanResult) -> None:
    out = render(ReportFormat.TERMINAL, result, width=60)
    assert max(len(line) for line in out.splitlines()) <= 60


@pytest.mark.parametrize("var", ["FORCE_COLOR", "NO_COLOR", "COLUMNS", "TERM", "TTY_COMPATIBLE"])
def test_environment_does_not_change_output(
    var: str, result: ScanResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = (
        render(ReportFormat.TERMINAL, result),
        render(ReportFormat.TERMINAL, result, color=True),
    )
    monkeypatch.setenv(var, "1" if var != "TERM" else "dumb")
    actual = (
        render(ReportFormat.TERMINAL, result),
        render(ReportFormat.TERMINAL, result, color=True),
    )
    assert actual == expected
