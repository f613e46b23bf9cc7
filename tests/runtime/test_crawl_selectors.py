"""Every selector of the packaged journeys parses in real Chromium (a typo would only show as
a failing step on a real shop, where nobody can tell it from a missing element)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error, sync_playwright

from egressguard.runtime.crawl.browser import BASE_ARGS, find_chromium
from egressguard.runtime.crawl.journey import Theme, packaged_journey

pytestmark = pytest.mark.browser


def test_packaged_selectors_are_valid() -> None:
    selectors = {
        (theme.value, step.name, selector)
        for theme in Theme
        for step in packaged_journey(theme).steps
        for selector in (*step.selectors, *([step.wait.selector] if step.wait.selector else []))
    }
    invalid = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(find_chromium()), args=list(BASE_ARGS)
        )
        try:
            page = browser.new_page()
            page.set_content("<main><p>empty</p></main>")
            for theme, step, selector in sorted(selectors):
                try:
                    page.locator(selector).count()
                except Error as exc:
                    invalid.append(f"{theme}/{step}: {selector!r}: {str(exc).splitlines()[0]}")
        finally:
            browser.close()
    assert len(selectors) > 100
    assert invalid == []
