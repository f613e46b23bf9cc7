"""The crawler: a real headless Chromium driven through a shopper journey, producing `Traffic`.

    journey.py    journeys as data (TOML): steps, selectors with fallbacks, waits; the
                  packaged defaults for Luma, Hyvä and Dawn-like themes live in journeys/
    settings.py   what one crawl is asked to do: URL, journey, persona, budgets, browser options
    browser.py    finding and launching the system Chromium (Playwright, no browser download)
    actions.py    performing one step on a page (fallback selectors, the never-pay guard)
    capture.py    recording what the browser sent and received (requests, WebSocket frames)
    snapshot.py   what the pages hold after each step (cookies, storage, <script src>)
    evidence.py   the evidence directory: screenshots, persona, HAR, SHA-256 manifest
    session.py    one crawl from launch to `Traffic`; a failing step is recorded, never raised

Playwright is imported here, so only `egressguard crawl` pays for it.
"""
