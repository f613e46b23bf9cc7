"""Finding and launching the system Chromium (Debian's `chromium`; no Playwright download)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from egressguard.errors import CrawlError
from egressguard.runtime.crawl.settings import BrowserOptions

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Headless in a container: no sandbox (no user namespaces), no GPU, and nothing of
# Chromium's own background traffic (updates, sync, safe-browsing lists) in the capture.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
)


def find_chromium(explicit: str | None = None) -> Path:
    """The browser binary to launch, or a CrawlError saying how to install one."""
    if explicit:
        path = Path(explicit)
        if path.is_file():
            return path
        found = shutil.which(explicit)
        if found:
            return Path(found)
        raise CrawlError(f"Chromium not found at {explicit}")
    if DEFAULT_CHROMIUM.is_file():
        return DEFAULT_CHROMIUM
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise CrawlError(
        "Chromium not found: install it (Debian/Ubuntu: `apt-get install chromium`) "
        "or pass --chromium PATH"
    )


def launch_args(options: BrowserOptions) -> list[str]:
    args = list(BASE_ARGS)
    if options.host_resolver_rules:
        args.append(f"--host-resolver-rules={options.host_resolver_rules}")
    if options.ignore_certificate_errors:
        args.append("--ignore-certificate-errors")
    args.extend(options.extra_args)
    return args


async def launch(playwright: Playwright, options: BrowserOptions) -> Browser:
    from playwright.async_api import Error

    executable = find_chromium(options.executable)
    try:
        return await playwright.chromium.launch(
            executable_path=str(executable), args=launch_args(options), headless=True
        )
    except Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CrawlError(f"Chromium at {executable} would not start: {first}") from exc
