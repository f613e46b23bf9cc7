"""What one crawl is asked to do: where, which journey, as whom, within which budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from egressguard.runtime.crawl.journey import Journey
from egressguard.runtime.traffic import Persona


@dataclass(frozen=True, slots=True)
class Budgets:
    """Limits that keep a hostile or broken shop from holding the crawl forever."""

    step_timeout: float = 15.0  # seconds per step (a step's own `timeout` overrides it)
    total_timeout: float = 300.0  # seconds for the whole journey; later steps are skipped
    max_pages: int = 40  # top-level page loads; later steps are skipped
    max_requests: int = 5000  # requests recorded; later ones are counted, not kept
    max_body_bytes: int = 2 * 1024 * 1024  # request bodies are cut, larger scripts unhashed
    settle: float = 2.0  # seconds to let in-flight requests finish before closing


@dataclass(frozen=True, slots=True)
class BrowserOptions:
    executable: str | None = None  # None: /usr/bin/chromium or `chromium` on PATH
    host_resolver_rules: str | None = None  # Chromium --host-resolver-rules (tests, staging)
    ignore_certificate_errors: bool = False  # only for test servers and staging shops
    viewport: tuple[int, int] = (1280, 900)
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CrawlPlan:
    url: str
    journey: Journey
    persona: Persona
    evidence_dir: Path | None = None  # None: no HAR, screenshots or manifest
    browser: BrowserOptions = field(default_factory=BrowserOptions)
    budgets: Budgets = field(default_factory=Budgets)
