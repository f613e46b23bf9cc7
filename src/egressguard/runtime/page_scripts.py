"""`<script src>` elements of an HTML page (for imported HAR files, which have no DOM).

The crawler reads script elements from the live DOM; a HAR only holds the page's HTML as the
server sent it, so scripts added later by a tag manager are not seen here (they still appear
as script requests). Nothing here performs I/O.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from egressguard.runtime.traffic import ScriptTag


class _ScriptCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str | None, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag == "script" and values.get("src"):
            src = values["src"] or ""
            self.found.append((src.strip(), values.get("integrity"), values.get("crossorigin")))


def script_tags(html: str, page_url: str, step: str = "") -> tuple[ScriptTag, ...]:
    """Every external script of the page, with its `src` resolved against the page URL."""
    parser = _ScriptCollector()
    parser.feed(html)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return tuple(
        ScriptTag(
            page_url=page_url,
            src=urljoin(base, src),
            integrity=integrity.strip() if integrity is not None else None,
            crossorigin=crossorigin,
            step=step,
        )
        for src, integrity, crossorigin in parser.found
    )
