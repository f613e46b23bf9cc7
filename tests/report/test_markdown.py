"""Markdown for PR comments: escaping and GitHub's comment-size limit."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import given
from hypothesis import strategies as st

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, markdown, render
from egressguard.report.markdown import COMMENT_LIMIT, code, text


def test_pipes_and_backticks_do_not_break_the_table(result: ScanResult) -> None:
    out = render(ReportFormat.MARKDOWN, result)
    row = next(
        line for line in out.splitlines() if "bulk-orders-to-ai" in line and line.startswith("|")
    )
    unescaped_pipes = re.findall(r"(?<!\\)\|", row)
    assert len(unescaped_pipes) == 6  # five cells
    assert r"\`SELECT \* FROM sales\_order\` \| all orders" in row


def test_html_in_values_is_not_interpreted(result: ScanResult) -> None:
    out = render(ReportFormat.MARKDOWN, result)
    assert r"\<script\>alert(1)\</script\>" in out
    assert "`themes/dawn-ai/snippets/<script>alert(1)</script>.liquid`" in out  # in a code span
    outside_code = re.sub(r"(`+).*?\1", "", out)
    assert "<script>" not in outside_code


def test_sections(result: ScanResult) -> None:
    out = render(ReportFormat.MARKDOWN, result)
    assert "| Severity | Findings |" in out
    assert "| Severity | Rule | Location | Provider / region | Message |" in out
    assert "- Remediation: Revoke the key at OpenAI" in out
    assert "### Skipped files (3)" in out
    assert "too large (12.4 MB \\> 10 MB limit)" in out


def test_many_findings_are_cut_under_githubs_limit(result: ScanResult) -> None:
    many = tuple(
        dataclasses.replace(f, id=f"F{i:05}") for i in range(600) for f in result.findings[:1]
    )
    out = render(ReportFormat.MARKDOWN, dataclasses.replace(result, findings=many))
    assert len(out) <= COMMENT_LIMIT < 65_536
    match = re.search(r"… (\d+) more findings, see the JSON/SARIF report\.", out)
    assert match
    shown = out.count("| **critical** |")
    assert shown + int(match.group(1)) == 600
    assert (
        len(markdown._document(dataclasses.replace(result, findings=many), shown + 1))
        > COMMENT_LIMIT
    )


def test_small_limit_keeps_header_and_note(result: ScanResult) -> None:
    out = markdown.render(result, limit=3000)
    assert len(out) <= 3000
    assert "more findings, see the JSON/SARIF report" in out


def test_long_skipped_list_is_cut(result: ScanResult) -> None:
    skipped = tuple(dataclasses.replace(result.skipped[0], file=f"f{i}.bin") for i in range(80))
    out = render(ReportFormat.MARKDOWN, dataclasses.replace(result, skipped=skipped))
    assert "### Skipped files (80)" in out
    assert f"- … {80 - markdown.SKIPPED_LIMIT} more, see the JSON/SARIF report" in out


@given(st.text())
def test_code_span_round_trips_backticks(value: str) -> None:
    span = code(value)
    fence = re.match(r"`+", span)
    assert fence
    inner = span[len(fence.group()) : -len(fence.group())]
    assert fence.group() not in inner  # the fence cannot close early
    assert "\n" not in span


@given(st.text())
def test_text_has_no_raw_markup(value: str) -> None:
    escaped = text(value)
    assert "\n" not in escaped
    assert not re.search(r"(?<!\\)[<>|`*\[\]]", escaped.replace("\\\\", ""))
