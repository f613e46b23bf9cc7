"""Command-line entry point: the only module that prints, reads argv/env and picks exit codes.

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from egressguard import __version__
from egressguard.audit.baseline import dump_baseline, load_baseline
from egressguard.audit.engine import AuditRequest, report_base, run_audit
from egressguard.cli import (
    bundle_cmd,
    crawl_cmd,
    db_cmd,
    fleet_cmd,
    gateway_cmd,
    history_cmd,
    local_model_cmd,
    report_cmd,
    runtime_cmd,
)
from egressguard.cli.outputs import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    UsageError,
    add_output_args,
    err,
    exit_code,
    write_reports,
)
from egressguard.config import CONFIG_FILE_NAME, AuditSettings, load_settings, parse_fail_on
from egressguard.errors import ConfigError, EgressGuardError
from egressguard.model import ScanResult


def _parser() -> Parser:
    p = Parser(prog="egressguard", description="Find and stop leaks of shop data into AI services.")
    p.add_argument("--version", action="version", version=f"egressguard {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    audit = sub.add_parser("audit", help="audit Magento 2 / Shopify code for AI data-flow risks")
    _scan_args(audit, nargs="*")
    fleet_cmd.add_fleet_args(audit)
    add_output_args(audit)
    audit.add_argument("--baseline", type=Path, help="accept the findings in this baseline file")
    audit.add_argument("--diff", metavar="REV", help="scan only files changed since git REV")
    audit.add_argument("--no-progress", action="store_true", help="no progress bar")
    history_cmd.add_history_args(audit)
    audit.add_argument(
        "--vendors", type=Path, help="vendor/DPA register to check providers against"
    )
    base = sub.add_parser("baseline", help="write a baseline accepting the current findings")
    _scan_args(base)
    base.add_argument("-o", "--output", type=Path, required=True, help="baseline file to write")
    gateway_cmd.add_parsers(sub)
    bundle_cmd.add_parsers(sub)
    history_cmd.add_parsers(sub)
    report_cmd.add_parsers(sub)
    runtime_cmd.add_parsers(sub)
    crawl_cmd.add_parsers(sub)
    db_cmd.add_parsers(sub)
    local_model_cmd.add_parsers(sub)
    return p


def _scan_args(p: argparse.ArgumentParser, nargs: str = "+") -> None:
    p.add_argument("paths", nargs=nargs, type=Path, metavar="PATH")
    p.add_argument("--config", type=Path, help=f"settings file (default: PATH/{CONFIG_FILE_NAME})")
    p.add_argument("--max-file-size", type=int, help="bytes; larger files are listed as skipped")
    p.add_argument("--exclude", action="append", default=[], help="glob to exclude (repeatable)")


def run(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `egressguard` console script and `python -m egressguard`."""
    try:
        args = _parser().parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args))
        if args.command == "baseline":
            return _baseline(args)
        return _audit(args)
    except UsageError as exc:
        err(f"egressguard: error: {exc}")
    except EgressGuardError as exc:
        err(f"egressguard: error: {exc}")
    except OSError as exc:
        err(f"egressguard: error: {exc.filename or ''}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        err("egressguard: interrupted")
    return EXIT_ERROR


def _settings(args: argparse.Namespace) -> AuditSettings:
    path = args.config
    if path is None:
        candidate = args.paths[0] / CONFIG_FILE_NAME
        path = candidate if candidate.is_file() else None
    elif not path.is_file():
        raise ConfigError(f"--config: {path}: no such file")
    settings = load_settings(path)
    if args.max_file_size is not None:
        if args.max_file_size <= 0:
            raise ConfigError("--max-file-size must be a positive number of bytes")
        settings = replace(settings, max_file_size=args.max_file_size)
    if args.exclude:
        settings = replace(settings, exclude=settings.exclude + tuple(args.exclude))
    return settings


def _request(args: argparse.Namespace, settings: AuditSettings) -> AuditRequest:
    roots = tuple(p.resolve() if p.exists() else p for p in args.paths)
    for root in roots:
        if not root.exists():
            raise ConfigError(f"{root}: no such file or directory")
    only = None
    diff = getattr(args, "diff", None)
    if diff:
        only = _diff_files(roots, diff)
    baseline_path = getattr(args, "baseline", None)
    accepted = load_baseline(baseline_path) if baseline_path else frozenset()
    return AuditRequest(
        roots=roots,
        settings=settings,
        baseline=accepted,
        only_files=only,
        vendors=_vendors(args, settings),
    )


def _vendors(args: argparse.Namespace, settings: AuditSettings) -> Path | None:
    given: Path | None = getattr(args, "vendors", None)
    if given is not None:
        return given
    if settings.vendors:
        config_dir = Path(settings.source).parent if settings.source != "defaults" else Path()
        return config_dir / settings.vendors
    return None


def _diff_files(roots: tuple[Path, ...], rev: str) -> frozenset[str]:
    from egressguard.audit.gitdiff import changed_files  # runs git: only loaded for --diff

    base = report_base(roots)
    names: set[str] = set()
    for root in roots:
        prefix = root.relative_to(base).as_posix() if root != base else ""
        for name in changed_files(root if root.is_dir() else root.parent, rev):
            names.add(f"{prefix}/{name}" if prefix and prefix != "." else name)
    return frozenset(names)


def _audit(args: argparse.Namespace) -> int:
    if args.fleet is not None:
        return fleet_cmd.run_fleet_cmd(args)
    if not args.paths:
        raise UsageError("audit needs a PATH (or --fleet LIST)")
    settings = _settings(args)
    fail_on = parse_fail_on(args.fail_on) if args.fail_on else settings.fail_on
    request = _request(args, settings)
    result = _scan_with_progress(request, show=not args.no_progress and sys.stderr.isatty())
    write_reports(args, result)
    history_cmd.record_scan(args, settings, result, "audit")
    return exit_code(result, fail_on)


def _scan_with_progress(request: AuditRequest, show: bool) -> ScanResult:
    if not show:
        return run_audit(request)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("auditing: {task.completed} files read"))
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("audit", total=None)

        def update(files: int) -> None:
            bar.update(task, completed=files)

        return run_audit(request, update)


def _baseline(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = run_audit(_request(args, settings))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dump_baseline(result.findings, __version__), encoding="utf-8")
    err(f"egressguard: baseline with {len(result.findings)} finding(s) written to {args.output}")
    return EXIT_OK
