"""One crawl, from launching Chromium to the `Traffic` value.

A step that fails (no element, a timeout, an error page, a refused payment click) becomes a
`StepOutcome(ok=False, error=...)` and the journey goes on; steps past the total time or page
budget are recorded as skipped. Only a crawl that cannot run at all raises (`CrawlError`).
Step errors never carry the persona's values (they are replaced by "[canary]").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from egressguard.errors import ConfigError, CrawlError
from egressguard.runtime.crawl.actions import StepFailed, first_line, perform
from egressguard.runtime.crawl.browser import find_chromium, launch
from egressguard.runtime.crawl.capture import Capture
from egressguard.runtime.crawl.evidence import EvidenceDir
from egressguard.runtime.crawl.journey import Action, Step, step_value
from egressguard.runtime.crawl.settings import CrawlPlan
from egressguard.runtime.crawl.snapshot import Holdings
from egressguard.runtime.traffic import Persona, StepOutcome, Traffic

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

# Called after each step: (1-based index, number of steps, outcome, seconds since start).
Progress = Callable[[int, int, StepOutcome, float], None]

_SLACK = 2.0  # seconds beyond a step's budget before the step is abandoned outright
_SCREENSHOT_TIMEOUT = 5.0
_NO_PAGE = ("about:blank", "chrome-error:")


def run_crawl(plan: CrawlPlan, progress: Progress | None = None) -> Traffic:
    """Crawl `plan.url` through `plan.journey` in headless Chromium (blocking)."""
    return asyncio.run(crawl(plan, progress))


async def crawl(plan: CrawlPlan, progress: Progress | None = None) -> Traffic:
    from playwright.async_api import Error, async_playwright

    check_url(plan.url)
    find_chromium(plan.browser.executable)  # before anything is written
    evidence = EvidenceDir.create(plan.evidence_dir) if plan.evidence_dir else None
    started = dt.datetime.now(dt.UTC)
    run = _Run(plan, evidence, progress)
    try:
        async with async_playwright() as playwright:
            browser = await launch(playwright, plan.browser)
            try:
                await run.journey(browser)
            finally:
                await _quietly(browser.close())
    except Error as exc:  # the one seam: Playwright failures outside a step (driver, context)
        raise CrawlError(f"the browser failed: {first_line(exc)}") from exc
    about = {
        "url": plan.url,
        "journey": plan.journey.name,
        "browser": run.browser_version,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "requests": len(run.capture.requests()),
        "requests_not_recorded": run.capture.dropped_requests,
    }
    if evidence is not None:
        evidence.write_persona(plan.persona)
        evidence.write_manifest(about, run.outcomes)
    return Traffic(
        origin=run.origin or origin_of(plan.url),
        source="crawl",
        requests=run.capture.requests(),
        websocket_frames=run.capture.websocket_frames(),
        cookies=run.holdings.cookies(),
        storage=run.holdings.storage(),
        scripts=run.holdings.scripts(),
        steps=tuple(run.outcomes),
        pages=run.capture.pages(),
        persona=plan.persona,
        evidence_files=evidence.relative_files() if evidence else (),
    )


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http(s) URL")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class _Run:
    plan: CrawlPlan
    evidence: EvidenceDir | None
    progress: Progress | None

    def __post_init__(self) -> None:
        self.capture = Capture(self.plan.budgets)
        self.holdings = Holdings()
        self.outcomes: list[StepOutcome] = []
        self.origin = ""
        self.browser_version = ""
        self._clock = time.monotonic()
        self._page: Page | None = None
        self._browser: Browser | None = None

    async def journey(self, browser: Browser) -> None:
        self._clock = time.monotonic()  # the time limit is the journey's, not Chromium's start-up
        self.browser_version = browser.version
        width, height = self.plan.browser.viewport
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            accept_downloads=False,  # a download prompt is cancelled, never saved
            ignore_https_errors=self.plan.browser.ignore_certificate_errors,
            service_workers="block",  # every request is then seen as the page's own
            record_har_path=str(self.evidence.har) if self.evidence else None,
        )
        self.capture.attach(context)
        self._browser = browser
        try:
            steps = self.plan.journey.steps
            for index, step in enumerate(steps, 1):
                self.capture.step = step.name
                outcome = await self._guarded_step(context, index, step)
                self.outcomes.append(outcome)
                if self.progress is not None:
                    self.progress(index, len(steps), outcome, self._elapsed())
            self.capture.step = ""
            await self.capture.settle(self.plan.budgets.settle)
        finally:
            self.capture.cancel_pending()
            await _quietly(context.close())  # writes the HAR

    async def _guarded_step(self, context: BrowserContext, index: int, step: Step) -> StepOutcome:
        """The step's outcome, also when the page or the browser went away around it."""
        from playwright.async_api import Error

        if self._browser is not None and not self._browser.is_connected():
            return StepOutcome(step.name, "", ok=False, error="skipped: the browser has gone")
        try:
            return await self._step(context, index, step)
        except Error as exc:
            error = scrub(first_line(exc), self.plan.persona)
            return StepOutcome(step.name, "", ok=False, error=error)

    def _elapsed(self) -> float:
        return time.monotonic() - self._clock

    async def _step(self, context: BrowserContext, index: int, step: Step) -> StepOutcome:
        page = await self._current_page(context)
        skipped = self._skip_reason(page, step)
        if skipped:
            return StepOutcome(step.name, page.url, ok=False, error=f"skipped: {skipped}")
        error = await self._perform(page, step)
        if not self.origin and not page.url.startswith(_NO_PAGE) and error == "":
            self.origin = origin_of(page.url)
        await self.holdings.look(context, step.name)
        screenshot = await self._screenshot(page, index, step.name)
        await self._close_popups(context, page)
        return StepOutcome(step.name, page.url, ok=not error, error=error, screenshot=screenshot)

    async def _current_page(self, context: BrowserContext) -> Page:
        if self._page is None or self._page.is_closed() or self.capture.crashed:
            if self._page is not None and not self._page.is_closed():
                await self._page.close()
            self.capture.crashed = False
            self._page = await context.new_page()
        return self._page

    def _skip_reason(self, page: Page, step: Step) -> str:
        budgets = self.plan.budgets
        if self._elapsed() >= budgets.total_timeout:
            return f"the crawl's time limit ({budgets.total_timeout:g} s) was reached"
        if self.capture.navigations >= budgets.max_pages:
            return f"the page budget ({budgets.max_pages} page loads) was reached"
        if step.action is not Action.GOTO and page.url.startswith(_NO_PAGE):
            return "no page is loaded (the last navigation failed or the tab crashed)"
        return ""

    async def _perform(self, page: Page, step: Step) -> str:
        """'' when the step worked, else a one-line reason without any canary value."""
        from playwright.async_api import Error

        budgets = self.plan.budgets
        remaining = budgets.total_timeout - self._elapsed()
        timeout = max(0.5, min(step.timeout or budgets.step_timeout, remaining))
        value = step_value(step, self.plan.persona)
        try:
            await asyncio.wait_for(
                perform(page, step, value, self.plan.url, timeout, self.capture.quiet_for),
                timeout + _SLACK,
            )
        except StepFailed as exc:
            return scrub(str(exc), self.plan.persona)
        except TimeoutError:
            return f"gave up after {timeout + _SLACK:g} s (the page did not answer)"
        except Error as exc:
            return scrub(first_line(exc), self.plan.persona)
        return ""

    async def _screenshot(self, page: Page, index: int, step: str) -> str:
        from playwright.async_api import Error

        if self.evidence is None:
            return ""
        path = self.evidence.screenshot(index, step)
        try:
            await asyncio.wait_for(
                page.screenshot(path=str(path), timeout=_SCREENSHOT_TIMEOUT * 1000),
                _SCREENSHOT_TIMEOUT + _SLACK,
            )
        except (Error, TimeoutError):
            return ""
        return path.relative_to(self.evidence.root).as_posix()

    async def _close_popups(self, context: BrowserContext, keep: Page) -> None:
        from playwright.async_api import Error

        for page in context.pages:
            if page is not keep and not page.is_closed():
                try:
                    await asyncio.wait_for(page.close(), _SLACK)
                except (Error, TimeoutError):
                    continue


async def _quietly(work: Awaitable[None]) -> None:
    """Close something that may already be gone (a crashed browser, a closed context)."""
    from playwright.async_api import Error

    try:
        await work
    except Error:
        return


def scrub(message: str, persona: Persona) -> str:
    """`message` with every persona value replaced by "[canary]" (errors are printed)."""
    values = sorted(
        {v for v in (*persona.fields().values(), persona.country) if len(v) > 3}, key=len
    )
    for value in reversed(values):
        message = message.replace(value, "[canary]")
    return message
