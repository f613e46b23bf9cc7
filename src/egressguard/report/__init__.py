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
    Each format's module is imported when first used: a JSON-only CI run never pays for
    Jinja2 or rich.
    """
    if fmt is ReportFormat.TERMINAL:
        from egressguard.report import terminal

        return terminal.render(result, color=color, width=width)
    if fmt is ReportFormat.JSON:
        from egressguard.report import json_report

        return json_report.render(result)
    if fmt is ReportFormat.SARIF:
        from egressguard.report import sarif

        return sarif.render(result)
    if fmt is ReportFormat.HTML:
        from egressguard.report import html

        return html.render(result)
    if fmt is ReportFormat.MARKDOWN:
        from egressguard.report import markdown

        return markdown.render(result)
    assert_never(fmt)
