"""GitHub-flavoured Markdown for pull-request comments.

Everything that comes from the scanned code (file names, messages, evidence) is escaped:
plain text gets backslash escapes for Markdown syntax and entities for `&`, so raw HTML
such as `<script>` is shown, never interpreted; code spans use a backtick fence longer than
any backtick run inside. The comment stays under GitHub's 65 536-character limit: findings
that do not fit are left out with a note pointing to the JSON/SARIF report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from egressguard.model import Finding, ScanResult, SkippedTarget
from egressguard.report.overview import (
    SEVERITY_ORDER,
    framework_refs,
    provider_rows,
    severity_counts,
    summary_sentence,
)

#: GitHub rejects comments longer than 65 536 characters; keep a margin.
COMMENT_LIMIT = 65_000
#: Skipped files listed before the list is cut (the count is always given).
SKIPPED_LIMIT = 50

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|~@])")
_LEADING = re.compile(r"^(\d+)(?=[.)])|^(?=[-=])")
_BACKTICKS = re.compile(r"`+")


def render(result: ScanResult, *, limit: int = COMMENT_LIMIT) -> str:
    """The comment with as many findings as fit in `limit` characters (all, usually)."""
    full = _document(result, len(result.findings))
    if len(full) <= limit:
        return full
    low, high = 0, len(result.findings) - 1
    while low < high:  # the largest count whose document fits
        mid = (low + high + 1) // 2
        if len(_document(result, mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    return _document(result, low)


def text(value: str, *, line_start: bool = False) -> str:
    """Plain text safe inside Markdown (and table cells): no markup, no raw HTML.

    At the `line_start`, a leading `-`, `=` or `1.` is escaped too (no list or heading).
    """
    flat = " ".join(value.split())
    escaped = _SPECIAL.sub(r"\\\1", flat.replace("&", "&amp;"))
    if not line_start:
        return escaped
    return _LEADING.sub(lambda m: (m.group(1) or "") + "\\", escaped, count=1)


def code(value: str, *, cell: bool = False) -> str:
    """An inline code span that survives backticks; in a table `cell`, `|` is escaped too."""
    flat = " ".join(value.split())
    if cell:
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _document(result: ScanResult, shown: int) -> str:
    findings = result.findings[:shown]
    hidden = len(result.findings) - shown
    parts = [_header(result), _summary_table(result), _providers(result)]
    parts += [_findings_table(findings, hidden), _details(findings), _skipped(result.skipped)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(result: ScanResult) -> str:
    counts = severity_counts(result.findings)
    stats = result.stats
    line = (
        f"**{summary_sentence(counts)}** in {stats.files_scanned} files scanned"
        f" · {len(result.skipped)} skipped · {len(result.suppressed)} suppressed"
    )
    platforms = ", ".join(code(f"{p.kind.value}: {p.root}") for p in result.platforms)
    head = [f"## {text(result.tool.name)} {text(result.tool.version)} report", "", line]
    if platforms:
        head += ["", f"Platforms: {platforms}"]
    return "\n".join(head)


def _summary_table(result: ScanResult) -> str:
    counts = severity_counts(result.findings)
    rows = [f"| {sev.value.capitalize()} | {counts[sev]} |" for sev in SEVERITY_ORDER]
    return "\n".join(["| Severity | Findings |", "| --- | ---: |", *rows])


def _providers(result: ScanResult) -> str:
    rows = provider_rows(result)
    if not rows:
        return ""
    lines = ["### AI providers", "", "| Provider | Hosts | Region | EU/local only | Findings |"]
    lines.append("| --- | --- | --- | --- | ---: |")
    for row in rows:
        hosts = ", ".join(code(h, cell=True) for h in row.hosts) or "—"
        region = text(", ".join(row.regions)) or "unknown"
        sovereign = "yes" if row.sovereign else "**no**"
        lines.append(f"| {text(row.name)} | {hosts} | {region} | {sovereign} | {row.findings} |")
    return "\n".join(lines)


def _where(finding: Finding) -> str:
    provider = finding.provider or "—"
    region = finding.region.value if finding.region else "—"
    return text(f"{provider} / {region}")


def _findings_table(findings: Sequence[Finding], hidden: int) -> str:
    lines = ["### Findings", ""]
    if findings:
        lines += ["| Severity | Rule | Location | Provider / region | Message |"]
        lines += ["| --- | --- | --- | --- | --- |"]
        lines += [
            f"| **{f.severity.value}** | {code(f.rule, cell=True)}"
            f" | {code(f'{f.file}:{f.line}', cell=True)}"
            f" | {_where(f)} | {text(f.message)} |"
            for f in findings
        ]
    elif not hidden:
        lines.append("No findings.")
    if hidden:
        lines += ["", f"… {hidden} more findings, see the JSON/SARIF report."]
    return "\n".join(lines)


def _details(findings: Sequence[Finding]) -> str:
    if not findings:
        return ""
    blocks = [_detail(i, f) for i, f in enumerate(findings, start=1)]
    summary = f"<summary>Details and remediation ({len(findings)})</summary>"
    return "\n\n".join(["<details>", summary, *blocks, "</details>"])


def _detail(number: int, finding: Finding) -> str:
    lines = [
        f"#### {number}. {finding.severity.value.upper()} · {code(finding.rule)}"
        f" · {code(f'{finding.file}:{finding.line}')}",
        "",
        text(finding.message, line_start=True),
        "",
        f"- Evidence: {code(finding.evidence)}",
    ]
    if finding.data_categories:
        lines.append(f"- Data: {text(', '.join(c.value for c in finding.data_categories))}")
    if finding.trace:
        path = " → ".join(f"{code(f'{s.file}:{s.line}')} {text(s.note)}" for s in finding.trace)
        lines.append(f"- Path: {path}")
    lines.append(f"- Remediation: {text(finding.remediation)}")
    mapping = [
        f"{label} {text(', '.join(refs))}"
        for label, refs in framework_refs(finding.frameworks)
        if refs
    ]
    if mapping:
        lines.append(f"- Frameworks: {'; '.join(mapping)}")
    return "\n".join(lines)


def _skipped(skipped: Sequence[SkippedTarget]) -> str:
    if not skipped:
        return ""
    lines = [f"### Skipped files ({len(skipped)})", ""]
    lines += [f"- {code(s.file)}: {text(_reason(s))}" for s in skipped[:SKIPPED_LIMIT]]
    if len(skipped) > SKIPPED_LIMIT:
        lines.append(f"- … {len(skipped) - SKIPPED_LIMIT} more, see the JSON/SARIF report")
    return "\n".join(lines)


def _reason(skipped: SkippedTarget) -> str:
    return f"{skipped.reason} ({skipped.detail})" if skipped.detail else skipped.reason
