"""Report output options shared by every command that produces a `ScanResult`.

`audit`, `crawl`, `har` and `logs` all take repeated `--format F [--output PATH]` pairs and
`--fail-on`, and write reports the same way; this module owns that, so they cannot drift.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

from egressguard.model import ScanResult, Severity
from egressguard.report import ReportFormat, render

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad command line: reported in one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _FormatAction(argparse.Action):
    def __call__(self, parser: Any, ns: Any, value: Any, option: str | None = None) -> None:
        outputs: list[list[Any]] = getattr(ns, "outputs", None) or []
        outputs.append([ReportFormat(value), None])
        ns.outputs = outputs


class _OutputAction(argparse.Action):
    def __call__(self, parser: Any, ns: Any, value: Any, option: str | None = None) -> None:
        outputs: list[list[Any]] = getattr(ns, "outputs", None) or []
        if not outputs or outputs[-1][1] is not None:
            raise UsageError("--output must follow the --format it writes")
        outputs[-1][1] = Path(value)
        ns.outputs = outputs


def add_output_args(p: argparse.ArgumentParser) -> None:
    """`--format F [--output PATH]` pairs (repeatable) and `--fail-on`."""
    p.add_argument(
        "--format",
        action=_FormatAction,
        choices=[f.value for f in ReportFormat],
        help="report format; repeat with --output for several reports from one scan",
    )
    p.add_argument("--output", action=_OutputAction, help="file for the preceding --format")
    p.add_argument("--fail-on", help="critical|high|medium|low|info|none (default: high)")


def requested_outputs(args: argparse.Namespace) -> list[tuple[ReportFormat, Path | None]]:
    """The (format, path) pairs asked for; the terminal summary when none was."""
    outputs: list[list[Any]] = getattr(args, "outputs", None) or [[ReportFormat.TERMINAL, None]]
    return [(fmt, path) for fmt, path in outputs]


def err(message: str) -> None:
    print(message, file=sys.stderr)


def write_report(fmt: ReportFormat, result: ScanResult, path: Path | None) -> None:
    if path is None:
        stream: TextIO = sys.stdout
        color = fmt is ReportFormat.TERMINAL and stream.isatty()
        stream.write(render(fmt, result, color=color, width=_width()))
        stream.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(fmt, result), encoding="utf-8")
    err(f"egressguard: wrote {fmt.value} report to {path}")


def write_reports(args: argparse.Namespace, result: ScanResult) -> None:
    """Every requested report, then the result's warnings on stderr."""
    for fmt, path in requested_outputs(args):
        write_report(fmt, result, path)
    for warning in result.warnings:
        err(f"egressguard: warning: {warning}")


def _width() -> int:
    import shutil

    return max(80, min(shutil.get_terminal_size((100, 24)).columns, 160))


def exit_code(result: ScanResult, fail_on: Severity | None) -> int:
    if fail_on is None:
        return EXIT_OK
    worst = any(f.severity.rank >= fail_on.rank for f in result.findings)
    return EXIT_FINDINGS if worst else EXIT_OK


def read_reports(paths: list[Path]) -> list[ScanResult]:
    """JSON reports written by `--format json`, read back (clear error naming a bad file)."""
    from egressguard.errors import EvidenceInputError
    from egressguard.report.json_report import parse

    results = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EvidenceInputError(f"{path}: cannot read: {exc}") from exc
        try:
            results.append(parse(text))
        except EvidenceInputError as exc:
            raise EvidenceInputError(f"{path}: {exc}") from exc
    return results
