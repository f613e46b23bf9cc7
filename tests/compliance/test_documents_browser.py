"""The compliance pack's HTML documents in real headless Chromium: offline, no errors, the
gaps highlighted, and each prints to a PDF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.report.test_html_browser import ARGS, CHROMIUM, Loaded

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "compliance"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} not found: install it with `apt-get install chromium`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("dpia.html", ".gap"),
        ("control-matrix.html", ".gap-cell"),
        ("summary.html", "table"),
        ("incident.html", ".gap"),
        ("summary-history.html", "figure svg rect"),
    ],
)
def test_document_renders_offline_and_prints(
    browser: Browser, tmp_path: Path, name: str, marker: str
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        view = Loaded(page, (GOLDEN / name).as_uri())
        view.open()
        assert not view.errors
        assert [r for r in view.requests if r != view.url] == []
        assert [m.text for m in view.console if m.type == "error"] == []
        assert page.locator(marker).first.is_visible()
        pdf = tmp_path / (name + ".pdf")
        page.pdf(path=str(pdf), format="A4")
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    finally:
        page.close()
