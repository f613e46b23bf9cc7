"""`egressguard audit --fleet stores.txt`: many stores in parallel, one summary (issue 7).

Each store's JSON report goes to --output-dir (with fleet-summary.json/.md); every store is
recorded in the shared scan history under its name. Exit: 2 if a store could not be
audited, else 1 if any store has a finding at or above --fail-on, else 0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from egressguard.cli import history_cmd
from egressguard.cli.outputs import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, err
from egressguard.config import AuditSettings, parse_fail_on
from egressguard.errors import ConfigError, HistoryError


def add_fleet_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fleet", type=Path, metavar="LIST", help="audit every store in LIST")
    p.add_argument("--jobs", type=int, help="stores audited in parallel (default: up to 4)")
    p.add_argument("--output-dir", type=Path, help="--fleet: folder for each store's JSON")


def _fleet_settings(args: argparse.Namespace) -> AuditSettings:
    """The fleet's own settings: --config FILE if given (its `database`/`history` keys)."""
    from egressguard.config import load_settings

    return load_settings(args.config) if args.config is not None else AuditSettings()


def run_fleet_cmd(args: argparse.Namespace) -> int:
    from egressguard.audit.fleet import default_jobs, parse_fleet, run_fleet
    from egressguard.report import ReportFormat, render
    from egressguard.report.fleet import fleet_row, render_json, render_markdown, render_text

    if args.paths:
        raise ConfigError("give either PATHs or --fleet LIST, not both")
    try:
        text = args.fleet.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{args.fleet}: cannot read: {exc}") from exc
    stores = parse_fleet(text, args.fleet.parent, str(args.fleet))
    jobs = args.jobs or default_jobs()
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    overrides = AuditSettings(exclude=tuple(args.exclude))
    if args.max_file_size is not None:
        overrides = replace(overrides, max_file_size=args.max_file_size)
    fail_on = parse_fail_on(args.fail_on or "high")
    history = history_cmd.history_path(args, _fleet_settings(args))
    out: Path | None = args.output_dir
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    rows, failed, worst = [], False, False
    for outcome in run_fleet(stores, jobs, overrides):
        store, result = outcome.store, outcome.result
        trend = None
        if result is not None:
            if history is not None:
                try:
                    recorded = history_cmd.record(history, store.name, result, "audit")
                except HistoryError as exc:
                    err(f"egressguard: warning: {store.name} not recorded in the history: {exc}")
                    recorded = None
                trend = (recorded[0], recorded[1]) if recorded else None
            if out is not None:
                (out / f"{store.name}.json").write_text(
                    render(ReportFormat.JSON, result), encoding="utf-8"
                )
            if fail_on is not None:
                worst |= any(f.severity.rank >= fail_on.rank for f in result.findings)
        else:
            failed = True
        err(f"egressguard: fleet: {store.name}: " + (outcome.error or "done"))
        rows.append(fleet_row(store.name, str(store.path), result, outcome.error, trend))
    order = {s.name: s.line for s in stores}
    rows.sort(key=lambda r: order[r.store])
    sys.stdout.write(render_text(rows))
    if out is not None:
        (out / "fleet-summary.json").write_text(render_json(rows), encoding="utf-8")
        (out / "fleet-summary.md").write_text(render_markdown(rows), encoding="utf-8")
        err(f"egressguard: wrote {len(rows)} store report(s) and fleet-summary.json/.md to {out}")
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if worst else EXIT_OK
