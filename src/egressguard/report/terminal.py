"""The terminal summary: findings grouped by severity, then by provider.

Rendered with rich into a string. Every rich setting that could otherwise come from the
environment (terminal detection, colour system, width, NO_COLOR/FORCE_COLOR) is passed
explicitly, so the output depends on the result and the arguments only. With
`color=False` the text is plain (no escape codes): the form for files and pipes.
Values from the scanned code are rich `Text`, never markup, so `[bold]` in a file name is
shown as it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from egressguard.model import Finding, Location, ScanResult, Severity
from egressguard.report.overview import (
    by_provider,
    by_severity,
    human_size,
    provider_names,
    severity_counts,
    summary_sentence,
)

STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render(result: ScanResult, *, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
        _environ={},
    )
    console.print(Group(*_sections(result)))
    # rich pads every line to the width; trailing blanks only make files and diffs noisy.
    return "".join(line.rstrip(" ") + "\n" for line in buffer.getvalue().splitlines())


def _sections(result: ScanResult) -> list[RenderableType]:
    sections: list[RenderableType] = [_headline(result)]
    if result.platforms:
        sections.append(_platforms(result))
    if result.integrations:
        sections += [Text(""), _integrations(result), Text("")]
    sections += _findings(result)
    sections += _footer(result)
    return sections


def _headline(result: ScanResult) -> Text:
    stats = result.stats
    head = Text(f"{result.tool.name} {result.tool.version}", style="bold")
    head.append(f" · {summary_sentence(severity_counts(result.findings))}")
    head.append(
        f"\n{stats.files_scanned} files scanned · {human_size(stats.bytes_scanned)}"
        f" · {stats.duration_s:.2f} s · {len(result.skipped)} skipped"
        f" · {len(result.suppressed)} suppressed\n",
        style="dim",
    )
    return head


def _platforms(result: ScanResult) -> Text:
    line = Text("Platforms: ", style="bold")
    line.append(", ".join(f"{p.kind.value} ({p.root})" for p in result.platforms))
    return line


def _integrations(result: ScanResult) -> Table:
    table = Table(
        title="AI integrations",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("Provider", "Host", "Region", "Runs in"):
        table.add_column(column, no_wrap=True)
    table.add_column("Locations", overflow="fold", ratio=1)
    for item in result.integrations:
        where = "\n".join(_locations_by_file(item.locations))
        region = Text(item.region.value, style="green" if item.region.is_sovereign else "yellow")
        table.add_row(
            Text(item.provider_name), Text(item.host), region, item.runs_in.value, Text(where)
        )
    return table


def _locations_by_file(locations: Sequence[Location]) -> list[str]:
    """`a.php:12,40` per file instead of one row per line."""
    lines: dict[str, list[str]] = {}
    for loc in locations:
        lines.setdefault(loc.file, []).append(str(loc.line))
    return [f"{file}:{','.join(nums)}" for file, nums in lines.items()]


def _findings(result: ScanResult) -> list[RenderableType]:
    if not result.findings:
        return [Text("No findings.", style="green")]
    names = provider_names(result.integrations, result.providers)
    parts: list[RenderableType] = []
    for severity, group in by_severity(result.findings):
        parts.append(Text(f"{severity.value.upper()} ({len(group)})", style=STYLE[severity]))
        for provider, items in by_provider(group):
            label = names.get(provider, provider) if provider else "no provider"
            parts.append(Text(f"  {label}", style="bold"))
            parts += [_finding_line(f) for f in items]
        parts.append(Text(""))
    return parts


def _finding_line(finding: Finding) -> RenderableType:
    """A finding in full; inventory entries (info) in one line: the table above has them."""
    head = Text()
    head.append(f"{finding.file}:{finding.line}", style="bold")
    head.append(f"  {finding.rule}", style=STYLE[finding.severity])
    if finding.region:
        head.append(f"  [{finding.region.value}]", style="dim")
    if finding.severity is Severity.INFO:
        head.append(f"  {finding.message}", style="dim")
        return Padding(head, (0, 0, 0, 4))
    body = Text(finding.message)
    body.append(f"\nevidence: {finding.evidence}", style="dim")
    body.append(f"\nfix: {finding.remediation}", style="dim")
    return Group(Padding(head, (0, 0, 0, 4)), Padding(body, (0, 0, 0, 6)))


def _footer(result: ScanResult) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if result.skipped:
        parts.append(Text(f"Skipped files ({len(result.skipped)})", style="bold"))
        parts += [Text(f"  {s.file}: {s.reason}") for s in result.skipped]
    if result.suppressed:
        parts.append(Text(f"{len(result.suppressed)} findings suppressed (baseline or inline)."))
    parts += [Text(f"warning: {w}", style="yellow") for w in result.warnings]
    return parts
