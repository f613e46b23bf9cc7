"""`egressguard har`, `logs` and `merge`: runtime evidence in the audit's model and formats.

    egressguard har FILE [--persona-file F] [--max-size BYTES]   a devtools HAR export
    egressguard logs FILE [--log-format squid|nginx|gateway]     egress proxy / web server log
    egressguard merge REPORT.json [REPORT.json ...]              audit + runtime, side by side

Each takes the audit's `--format F [--output PATH]` pairs and `--fail-on`, `--baseline` /
`--write-baseline` (the audit's baseline file: fingerprints only) and `--config` (the audit's
.egressguard.toml: its providers, disabled rules, severity overrides and fail_on apply to the
runtime findings too). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from egressguard.cli.outputs import add_output_args, err, exit_code, read_reports, write_reports
from egressguard.config import AuditSettings, load_settings, parse_fail_on
from egressguard.errors import ConfigError
from egressguard.model import ScanResult, Severity
from egressguard.runtime.traffic import Persona


def add_parsers(sub: Any) -> None:
    """Add `har`, `logs` and `merge` to the main parser's subparsers."""
    har = sub.add_parser("har", help="analyse a HAR file exported from browser devtools")
    har.add_argument("file", type=Path, metavar="FILE")
    har.add_argument(
        "--persona-file",
        type=Path,
        help="JSON or TOML with the canary persona typed during the capture (trace its values)",
    )
    har.add_argument("--max-size", type=int, help="bytes; a larger HAR is refused")
    _common(har)
    har.set_defaults(handler=run_har)

    logs = sub.add_parser("logs", help="AI calls and volumes in Squid/nginx/gateway logs")
    logs.add_argument("file", type=Path, metavar="FILE")
    logs.add_argument("--log-format", choices=["squid", "nginx", "gateway"], help="default: detect")
    _common(logs)
    logs.set_defaults(handler=run_logs)

    merge = sub.add_parser("merge", help="merge JSON reports (audit, crawl, har, logs) into one")
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    _common(merge)
    merge.set_defaults(handler=run_merge)


def _common(p: argparse.ArgumentParser) -> None:
    add_output_args(p)
    add_config_arg(p)
    p.add_argument("--baseline", type=Path, help="accept the findings in this baseline file")
    p.add_argument(
        "--write-baseline", type=Path, metavar="PATH", help="also write a baseline accepting them"
    )


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        help="the audit's .egressguard.toml: its providers, disable_rules, severity and fail_on",
    )


def rule_settings(args: argparse.Namespace) -> AuditSettings:
    """The settings of `--config` (the defaults without it)."""
    path: Path | None = args.config
    if path is not None and not path.is_file():
        raise ConfigError(f"--config: {path}: no such file")
    return load_settings(path)


def settle(result: ScanResult, settings: AuditSettings) -> ScanResult:
    """The config's rule choices applied to runtime findings (as the audit applies them)."""
    from egressguard.report.merge import apply_rule_settings

    return apply_rule_settings(result, settings.disable_rules, settings.severity_overrides)


def fail_threshold(args: argparse.Namespace, settings: AuditSettings) -> Severity | None:
    """--fail-on, else the config's fail_on (high by default)."""
    return parse_fail_on(args.fail_on) if args.fail_on else settings.fail_on


def _finish(args: argparse.Namespace, result: ScanResult, settings: AuditSettings) -> int:
    from egressguard import __version__
    from egressguard.audit.baseline import dump_baseline, load_baseline
    from egressguard.report.merge import apply_baseline

    result = settle(result, settings)
    if args.baseline is not None:
        result = apply_baseline(result, load_baseline(args.baseline))
    if args.write_baseline is not None:
        args.write_baseline.parent.mkdir(parents=True, exist_ok=True)
        args.write_baseline.write_text(dump_baseline(result.findings, __version__), "utf-8")
        err(
            f"egressguard: baseline with {len(result.findings)} finding(s) written to "
            f"{args.write_baseline}"
        )
    write_reports(args, result)
    return exit_code(result, fail_threshold(args, settings))


def run_har(args: argparse.Namespace) -> int:
    from egressguard.catalog import load_catalog
    from egressguard.runtime.analyse import analyse_traffic
    from egressguard.runtime.har import MAX_HAR_BYTES, load_har

    persona = load_persona(args.persona_file) if args.persona_file else None
    if args.max_size is not None and args.max_size <= 0:
        raise ConfigError("--max-size must be a positive number of bytes")
    settings = rule_settings(args)
    catalog = load_catalog(settings.providers)
    traffic = load_har(args.file, max_bytes=args.max_size or MAX_HAR_BYTES)
    return _finish(args, analyse_traffic(traffic, persona=persona, catalog=catalog), settings)


def run_logs(args: argparse.Namespace) -> int:
    from egressguard.catalog import load_catalog
    from egressguard.runtime.findings_logs import analyse_log
    from egressguard.runtime.logs import LogFormat, read_log

    settings = rule_settings(args)
    catalog = load_catalog(settings.providers)
    fmt = LogFormat(args.log_format) if args.log_format else None
    return _finish(args, analyse_log(read_log(args.file, catalog, fmt), catalog), settings)


def run_merge(args: argparse.Namespace) -> int:
    from egressguard.report.merge import merge_results

    settings = rule_settings(args)
    return _finish(args, merge_results(read_reports(args.reports)), settings)


def load_persona(path: Path) -> Persona:
    """The persona in a JSON or TOML file (the fields of `canary.PERSONA_FIELDS`)."""
    from egressguard.runtime.canary import persona_from_mapping

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--persona-file: {path}: cannot read: {exc}") from exc
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data: object = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"--persona-file: {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--persona-file: {path}: expected an object of persona fields")
    try:
        return persona_from_mapping(data)
    except ConfigError as exc:
        raise ConfigError(f"--persona-file: {path}: {exc}") from exc
