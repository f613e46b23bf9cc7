"""The HTML report in real headless Chromium: loads offline, no errors, prints to PDF.

Needs the system Chromium at /usr/bin/chromium (CI installs it with apt). A missing
browser is a failure, not a skip: this is the only check that the page really works.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Request, sync_playwright

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


class Loaded:
    """A page opened from a file:// URL, with everything it logged and requested."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.console: list[ConsoleMessage] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._error)
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(message)

    def _error(self, error: Error) -> None:
        self.errors.append(str(error))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def open(self) -> None:
        self.page.goto(self.url, wait_until="load")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} not found: install it with `apt-get install chromium`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def loaded(browser: Browser, result: ScanResult, tmp_path: Path) -> Iterator[Loaded]:
    html = tmp_path / "report.html"
    html.write_text(render(ReportFormat.HTML, result), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        view = Loaded(page, html.as_uri())
        view.open()
        yield view
    finally:
        page.close()


def test_loads_without_errors_or_network(loaded: Loaded) -> None:
    assert not loaded.errors
    problems = [f"{m.type}: {m.text}" for m in loaded.console if m.type in ("error", "warning")]
    assert not problems
    assert loaded.requests == [loaded.url]


def test_key_sections_are_visible(loaded: Loaded) -> None:
    page = loaded.page
    for selector in ("#summary", "#flow svg.flowmap", "#findings", "#inventory", "#matrix"):
        assert page.locator(selector).first.is_visible(), selector
    assert page.locator("svg.flowmap .node").count() >= 15
    assert page.locator("svg.flowmap path.edge").count() >= 15
    assert page.locator("article.finding").count() == 7
    assert page.locator("#summary .count").count() == 5


def test_payload_is_text_not_markup(loaded: Loaded) -> None:
    page = loaded.page
    assert page.evaluate("document.scripts.length") == 1
    assert "<script>alert(1)</script>" in page.locator("#skipped").inner_text()


def test_severity_filter(loaded: Loaded) -> None:
    page = loaded.page
    page.locator('button[data-filter="high"]').click()
    assert page.locator('.group[data-severity="high"]').is_visible()
    assert not page.locator('.group[data-severity="critical"]').is_visible()
    page.locator('button[data-filter="all"]').click()
    assert page.locator('.group[data-severity="critical"]').is_visible()
    assert not loaded.errors


def test_screenshot_and_pdf(loaded: Loaded, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    loaded.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank canvas
    pdf = loaded.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 20_000
    assert not loaded.errors
