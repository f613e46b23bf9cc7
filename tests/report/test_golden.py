"""Every format pinned byte for byte. After an intended change: pytest --update-golden."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FILES = {
    ReportFormat.TERMINAL: "report.txt",
    ReportFormat.JSON: "report.json",
    ReportFormat.SARIF: "report.sarif",
    ReportFormat.HTML: "report.html",
    ReportFormat.MARKDOWN: "report.md",
}


def test_every_format_has_a_golden_file() -> None:
    assert set(FILES) == set(ReportFormat)


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_matches_golden(fmt: ReportFormat, result: ScanResult, update_golden: bool) -> None:
    path = GOLDEN / FILES[fmt]
    actual = render(fmt, result)
    if update_golden:
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"{path} missing: run pytest --update-golden"
    expected = path.read_bytes().decode("utf-8")  # bytes: no newline translation
    assert actual == expected, f"{path.name} differs: review, then pytest --update-golden"
