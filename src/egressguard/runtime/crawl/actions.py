"""Performing one journey step on a page.

The first selector (in the order written) that matches a visible element wins; selectors
are polled together until the step's deadline, so a missing early fallback costs nothing.
A click on anything that reads like a payment or order-placing button is refused: the
crawl goes up to payment, never past it. Failures raise `StepFailed` with a one-line reason.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from egressguard.runtime.crawl.journey import Action, LoadState, Step

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

# Matched against a clicked element's text, value, aria-label and title.
PAYMENT_BUTTON = re.compile(
    r"\b(place\s+(my\s+)?order|pay(\s+now|\s+securely)?|complete\s+(my\s+)?(order|purchase)"
    r"|confirm\s+(and\s+pay|order|payment|purchase)|submit\s+(order|payment)|buy\s+now"
    r"|(kostenpflichtig|jetzt)\s+(bestellen|kaufen|bezahlen)|zahlungspflichtig\s+bestellen"
    r"|commander|payer|passer\s+la\s+commande|bestelling\s+plaatsen|afrekenen\s+en\s+betalen)\b",
    re.IGNORECASE,
)
_LABEL_JS = """e => [...new Set([e.innerText, e.value, e.getAttribute("aria-label"), e.title]
  .filter(Boolean).map(s => String(s).trim()))].join(" ").slice(0, 300)"""
_POLL = 0.15
QUIET_WINDOW = 0.5  # seconds without a request in flight that count as "the page is done"

# Seconds since the network was last busy (0 while a request is in flight).
QuietFor = Callable[[], float]


class StepFailed(Exception):
    """A step could not be performed; the message says why in one line."""


async def perform(
    page: Page, step: Step, value: str, base_url: str, timeout: float, quiet_for: QuietFor
) -> None:
    """Do `step` (its action, then its wait) on `page` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    if step.action is Action.GOTO:
        await _goto(page, urljoin(base_url, step.url), step, deadline)
    elif step.action is Action.PRESS and not step.selectors:
        await page.keyboard.press(value)
    elif step.action is not Action.WAIT:
        target = await first_visible(page, step.selectors, deadline, step.frame)
        if step.wait.load is not None:
            async with page.expect_navigation(
                wait_until=step.wait.load.value, timeout=_ms(deadline)
            ):
                await _act(target, step, value, deadline)
        else:
            await _act(target, step, value, deadline)
    await _wait(page, step, deadline, quiet_for)


async def first_visible(
    page: Page, selectors: tuple[str, ...], deadline: float, frame: str = ""
) -> Locator:
    """The first of `selectors` matching a visible element (inside the first iframe matching
    `frame`, if given), polling until `deadline`."""
    from playwright.async_api import Error

    scope = page.frame_locator(frame).first if frame else page
    live = list(selectors)
    bad: list[str] = []
    while True:
        for selector in list(live):
            locator = scope.locator(selector).first
            try:
                if await locator.is_visible():
                    return locator
            except Error as exc:  # an invalid selector: drop it, say so if nothing matches
                live.remove(selector)
                bad.append(f"{selector!r} ({first_line(exc)})")
        if not live or time.monotonic() >= deadline:
            detail = f"; invalid: {', '.join(bad)}" if bad else ""
            where = f" in iframe {frame!r}" if frame else ""
            raise StepFailed(f"no visible element for {list(selectors)}{where}{detail}")
        await asyncio.sleep(_POLL)


async def _goto(page: Page, url: str, step: Step, deadline: float) -> None:
    state = step.wait.load or LoadState.DOMCONTENTLOADED
    response = await page.goto(url, wait_until=state.value, timeout=_ms(deadline))
    if response is not None and response.status >= 400:
        raise StepFailed(f"{url} answered HTTP {response.status}")


async def _act(target: Locator, step: Step, value: str, deadline: float) -> None:
    timeout = _ms(deadline)
    match step.action:
        case Action.CLICK:
            label = await target.evaluate(_LABEL_JS, timeout=timeout)
            if PAYMENT_BUTTON.search(str(label)):
                raise StepFailed(
                    f"refused to click {str(label).strip()[:60]!r}: it reads like a payment or "
                    "order button, and the crawl never goes past payment"
                )
            await target.click(timeout=timeout)
        case Action.FILL:
            await target.fill(value, timeout=timeout)
        case Action.TYPE:
            await target.fill("", timeout=timeout)
            await target.press_sequentially(value, timeout=timeout)
        case Action.PRESS:
            await target.press(value, timeout=timeout)
        case Action.SELECT:
            await target.select_option(value, timeout=timeout)
        case Action.CHECK:
            await target.check(timeout=timeout)
        case Action.HOVER:
            await target.hover(timeout=timeout)
        case Action.GOTO | Action.WAIT:  # handled by perform()
            pass


async def _wait(page: Page, step: Step, deadline: float, quiet_for: QuietFor) -> None:
    if step.wait.selector:
        await page.wait_for_selector(step.wait.selector, state="visible", timeout=_ms(deadline))
    if step.wait.quiet:
        until = min(deadline, time.monotonic() + step.wait.quiet / 1000)
        await asyncio.sleep(_POLL)  # let what the action started begin
        while quiet_for() < QUIET_WINDOW and time.monotonic() < until:
            await asyncio.sleep(_POLL)
    if step.wait.ms:
        await asyncio.sleep(min(step.wait.ms / 1000, max(0.0, deadline - time.monotonic())))


def _ms(deadline: float) -> float:
    """Milliseconds left before `deadline` (at least 1: Playwright reads 0 as 'no timeout')."""
    return max(1.0, (deadline - time.monotonic()) * 1000)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
