"""What the pages hold after a step: cookies, Web Storage per origin, `<script src>` tags.

Each look is bounded by a timeout (a page that hangs its main thread cannot hold the crawl)
and kept once: the same cookie, storage entry or script seen again later keeps the step where
it first appeared.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egressguard.runtime.traffic import Cookie, ScriptTag, StorageEntry

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Frame, Page

_MAX_ENTRIES = 500  # per storage area and per page's script list
_MAX_VALUE = 64 * 1024
_MAX_FRAMES = 20  # per page: a page of a hundred iframes cannot stretch a step's look

_STORAGE_JS = f"""() => {{
  const out = {{origin: location.origin, localStorage: [], sessionStorage: []}};
  for (const area of ["localStorage", "sessionStorage"]) {{
    try {{
      const s = window[area];
      for (let i = 0; i < s.length && i < {_MAX_ENTRIES}; i++) {{
        const k = s.key(i);
        out[area].push([String(k), String(s.getItem(k)).slice(0, {_MAX_VALUE})]);
      }}
    }} catch (e) {{}}
  }}
  return out;
}}"""

_SCRIPTS_JS = f"""() => Array.from(document.querySelectorAll("script[src]"), s => [
  s.src, s.getAttribute("integrity"), s.getAttribute("crossorigin")
]).slice(0, {_MAX_ENTRIES})"""


@dataclass
class Holdings:
    """Cookies, storage entries and script tags seen so far, first sighting kept."""

    timeout: float = 3.0
    _cookies: dict[tuple[str, str, str, str], Cookie] = field(default_factory=dict)
    _storage: dict[tuple[str, str, str, str], StorageEntry] = field(default_factory=dict)
    _scripts: dict[tuple[str, str, str], ScriptTag] = field(default_factory=dict)

    def cookies(self) -> tuple[Cookie, ...]:
        return tuple(self._cookies.values())

    def storage(self) -> tuple[StorageEntry, ...]:
        return tuple(self._storage.values())

    def scripts(self) -> tuple[ScriptTag, ...]:
        return tuple(self._scripts.values())

    async def look(self, context: BrowserContext, step: str) -> None:
        """Record what every open page holds now; a page that does not answer is passed over."""
        pages = [p for p in context.pages if not p.is_closed()]
        page_url = pages[0].url if pages else ""
        await self._bounded(self._look_cookies(context, page_url, step))
        for page in pages:
            await self._bounded(self._look_scripts(page, step))
            for frame in page.frames[:_MAX_FRAMES]:
                await self._bounded(self._look_storage(frame, page.url, step))

    async def _bounded(self, work: Any) -> None:
        from playwright.async_api import Error

        try:
            await asyncio.wait_for(work, self.timeout)
        except (Error, TimeoutError):
            return

    async def _look_cookies(self, context: BrowserContext, page_url: str, step: str) -> None:
        for c in await context.cookies():
            cookie = Cookie(
                name=c.get("name", ""),
                value=c.get("value", ""),
                domain=c.get("domain", ""),
                path=c.get("path", "/"),
                http_only=bool(c.get("httpOnly", False)),
                secure=bool(c.get("secure", False)),
                page_url=page_url,
                step=step,
            )
            self._cookies.setdefault(
                (cookie.domain, cookie.path, cookie.name, cookie.value), cookie
            )

    async def _look_storage(self, frame: Frame, page_url: str, step: str) -> None:
        found = await frame.evaluate(_STORAGE_JS)
        origin = str(found.get("origin", ""))
        for area in ("localStorage", "sessionStorage"):
            for key, value in found.get(area, []):
                entry = StorageEntry(area, origin, str(key), str(value), page_url, step)
                self._storage.setdefault((area, origin, entry.key, entry.value), entry)

    async def _look_scripts(self, page: Page, step: str) -> None:
        page_url = page.url
        for src, integrity, crossorigin in await page.main_frame.evaluate(_SCRIPTS_JS):
            tag = ScriptTag(page_url, str(src), integrity or None, crossorigin, step)
            self._scripts.setdefault((page_url, tag.src, tag.integrity or ""), tag)
