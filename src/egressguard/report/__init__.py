"""Reporters: pure functions from a ScanResult to the text of one report format.

Each format lives in its own module; `render` dispatches over the exhaustive
`ReportFormat` enum (the type checker proves every format is handled). Reporters read no
files, configuration, environment or clock: the same result always gives the same text.
Evidence and excerpts arrive masked from the analysers and are shown as they are.
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from egressguard.model import ScanResult
from egressguard.report import html, json_report, markdown, sarif, terminal

__all__ = ["ReportFormat", "render"]


class ReportFormat(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    MARKDOWN = "markdown"


def render(fmt: ReportFormat, result: ScanResult, *, color: bool = False, width: int = 100) -> str:
    """The report in format `fmt`; `color` and `width` only affect the terminal format.

    Raises ReportError when the result cannot be rendered (e.g. a non-finite duration).
    """
    if fmt is ReportFormat.TERMINAL:
        return terminal.render(result, color=color, width=width)
    if fmt is ReportFormat.JSON:
        return json_report.render(result)
    if fmt is ReportFormat.SARIF:
        return sarif.render(result)
    if fmt is ReportFormat.HTML:
        return html.render(result)
    if fmt is ReportFormat.MARKDOWN:
        return markdown.render(result)
    assert_never(fmt)
