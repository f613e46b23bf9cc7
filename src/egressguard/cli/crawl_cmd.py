"""`egressguard crawl URL`: a real headless Chromium through a shopper journey, then findings.

This module composes the crawl (journey, persona, budgets, browser options -> `run_crawl`
-> `Traffic`) and the analysis (`analyse_traffic` -> `ScanResult`) and writes reports with
the same `--format/--output/--fail-on` options as `audit`. Playwright and the analysis are
imported inside the command, so `egressguard audit` does not pay for them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egressguard.cli.outputs import add_output_args, err, exit_code, write_reports
from egressguard.cli.runtime_cmd import add_config_arg, fail_threshold, rule_settings, settle
from egressguard.errors import ConfigError, CrawlError

if TYPE_CHECKING:
    from egressguard.runtime.crawl.settings import CrawlPlan
    from egressguard.runtime.traffic import StepOutcome

THEMES = ("luma", "hyva", "dawn")
EVIDENCE_ROOT = Path("egressguard-evidence")


def add_parsers(sub: Any) -> None:
    """Add `crawl` to the main parser's subparsers."""
    p = sub.add_parser(
        "crawl",
        help="crawl a storefront in headless Chromium and report what reached AI and third parties",
    )
    p.add_argument("url", metavar="URL", help="the shop's start page (http or https)")
    journey = p.add_mutually_exclusive_group()
    journey.add_argument("--journey", type=Path, metavar="FILE", help="a journey file (TOML)")
    journey.add_argument(
        "--theme", choices=THEMES, default="luma", help="packaged journey (default: luma)"
    )
    p.add_argument(
        "--evidence-dir",
        type=Path,
        metavar="DIR",
        help="new directory for the HAR, screenshots and manifest "
        f"(default: {EVIDENCE_ROOT}/crawl-<UTC time>)",
    )
    p.add_argument(
        "--persona-file", type=Path, metavar="FILE", help="type this persona (JSON/TOML)"
    )
    p.add_argument("--chromium", metavar="PATH", help="browser binary (default: /usr/bin/chromium)")
    p.add_argument(
        "--host-resolver-rules",
        metavar="RULES",
        help="Chromium host resolver rules, e.g. 'MAP shop.example 10.0.0.5' for a staging shop",
    )
    p.add_argument(
        "--ignore-certificate-errors",
        action="store_true",
        help="accept self-signed/invalid TLS certificates (staging and test servers only)",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="seconds per step (default: 15)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds for the whole journey (default: 300)",
    )
    p.add_argument(
        "--max-pages", type=int, default=40, metavar="N", help="top-level page loads (default: 40)"
    )
    p.add_argument("--no-progress", action="store_true", help="no per-step progress lines")
    add_config_arg(p)
    add_output_args(p)
    p.set_defaults(handler=run_crawl_command)


def run_crawl_command(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("playwright") is None:  # the `crawl` extra
        raise CrawlError("crawl needs Playwright: pip install 'egressguard[crawl]'")
    from egressguard.catalog import load_catalog
    from egressguard.runtime.analyse import analyse_traffic
    from egressguard.runtime.crawl.browser import find_chromium
    from egressguard.runtime.crawl.session import run_crawl

    settings = rule_settings(args)
    plan = _plan(args)
    find_chromium(plan.browser.executable)  # a missing browser: one clear error, nothing written
    steps = len(plan.journey.steps)
    err(f"egressguard: crawling {plan.url} ({plan.journey.name} journey, {steps} steps)")
    traffic = run_crawl(plan, None if args.no_progress else _progress)
    ok = sum(1 for s in traffic.steps if s.ok)
    err(
        f"egressguard: {ok}/{len(traffic.steps)} steps ok, {len(traffic.requests)} requests, "
        f"{len(traffic.websocket_frames)} WebSocket frames; evidence in {plan.evidence_dir}"
    )
    catalog = load_catalog(settings.providers)
    result = settle(
        analyse_traffic(traffic, evidence_dir=plan.evidence_dir, catalog=catalog), settings
    )
    write_reports(args, result)
    return exit_code(result, fail_threshold(args, settings))


def _plan(args: argparse.Namespace) -> CrawlPlan:
    from egressguard.cli.runtime_cmd import load_persona  # the same persona files as `har`
    from egressguard.runtime.canary import make_persona
    from egressguard.runtime.crawl.journey import Theme, load_journey, packaged_journey
    from egressguard.runtime.crawl.session import check_url
    from egressguard.runtime.crawl.settings import BrowserOptions, Budgets, CrawlPlan

    check_url(args.url)
    for name in ("step_timeout", "time_limit"):
        if getattr(args, name) <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive number of seconds")
    if args.max_pages <= 0:
        raise ConfigError("--max-pages must be a positive number")
    journey = load_journey(args.journey) if args.journey else packaged_journey(Theme(args.theme))
    persona = load_persona(args.persona_file) if args.persona_file else make_persona()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return CrawlPlan(
        url=args.url,
        journey=journey,
        persona=persona,
        evidence_dir=args.evidence_dir or EVIDENCE_ROOT / f"crawl-{stamp}",
        browser=BrowserOptions(
            executable=args.chromium,
            host_resolver_rules=args.host_resolver_rules,
            ignore_certificate_errors=args.ignore_certificate_errors,
        ),
        budgets=Budgets(
            step_timeout=args.step_timeout, total_timeout=args.time_limit, max_pages=args.max_pages
        ),
    )


def _progress(index: int, total: int, outcome: StepOutcome, elapsed: float) -> None:
    status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
    if outcome.error.startswith("skipped:"):
        status = outcome.error
    elif "ERR_CERT_" in outcome.error:
        status += " (a staging certificate? --ignore-certificate-errors)"
    err(f"egressguard: [{index}/{total}] {outcome.name}: {status} ({elapsed:.1f} s)")
