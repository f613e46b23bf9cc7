"""Who can read a literal key, from where it sits in its file (used by the secret analyser).

The path gives the file's exposure (classify.py); a few files need a closer look:

- `.env*`: a variable named PUBLIC_*, VITE_*, NEXT_PUBLIC_* … is bundled into browser code.
- `.phtml`: a literal inside `<?php … ?>` that is not echoed stays on the server; one in a
  `<script>` block, an attribute, page text or an echo statement reaches the browser.
- Shopify theme `config/settings_data.json` / `settings_schema.json`: theme settings are
  readable by the storefront theme, so a key stored there is exposed.
- Magento storefront layout XML (`view/frontend|base/layout/*.xml`): block arguments and
  jsLayout are handed to templates and JS components, so a key there reaches the page.
- Magento admin files (`view/adminhtml/**`): they reach admin users' browsers, not shoppers';
  a key there is reported as hard-coded (`ai-key-hardcoded`), not browser-exposed.
- Files the path calls server code but that are data (JSON, YAML, TOML, XML) are stored config.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath

from egressguard.audit.analysers.base import SourceFile
from egressguard.model import Exposure, Language

PUBLIC_ENV_PREFIXES = (
    "PUBLIC_",
    "VITE_",
    "NEXT_PUBLIC_",
    "REACT_APP_",
    "NUXT_PUBLIC_",
    "EXPO_PUBLIC_",
)
_ENV_NAME = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]")
_PHP_BLOCK = re.compile(r"<\?(?:=|php\b)(?:.*?)(?:\?>|\Z)", re.S | re.I)
_STATEMENT_END = re.compile(r"[;{}]")
_ECHO = re.compile(r"\b(?:echo|print|printf)\b", re.I)
_SHOPIFY_SETTINGS = re.compile(r"(?:^|/)config/settings_(?:data|schema)\.json$", re.I)
_ADMINHTML = re.compile(r"(?:^|/)view/adminhtml/", re.I)
_STOREFRONT_LAYOUT = re.compile(r"(?:^|/)view/(?:frontend|base)/(?:page_)?layout/[^/]+\.xml$", re.I)
_DATA_LANGUAGES = frozenset({Language.JSON, Language.YAML, Language.TOML, Language.XML})

_BROWSER_WHERE = {
    Language.JAVASCRIPT: "hard-coded in a JavaScript file served to shoppers",
    Language.TYPESCRIPT: "hard-coded in a TypeScript file bundled for shoppers' browsers",
    Language.PHTML: "hard-coded in a storefront template (.phtml) sent to shoppers' browsers",
    Language.LIQUID: "hard-coded in a Shopify theme file rendered to shoppers",
    Language.HTML: "hard-coded in an HTML template served to shoppers",
}
_SERVER_WHERE = {
    Language.PHP: "hard-coded in PHP server code",
    Language.PHTML: "hard-coded in a PHP block of a template (server side, not echoed)",
    Language.JAVASCRIPT: "hard-coded in server-side JavaScript",
    Language.TYPESCRIPT: "hard-coded in server-side TypeScript",
}


@dataclass(frozen=True, slots=True)
class Placement:
    exposure: Exposure
    where: str  # completes "<provider key> …": "hard-coded in a JavaScript file served to shoppers"


class PlacementFinder:
    """Placements of offsets in one file; built per file, never shared between files."""

    def __init__(self, f: SourceFile) -> None:
        self._f = f
        self._php_spans: list[tuple[int, int]] | None = None

    def at(self, offset: int) -> Placement:
        f = self._f
        if f.language is Language.ENV:
            return self._env(offset)
        if _SHOPIFY_SETTINGS.search(f.rel):
            return Placement(Exposure.BROWSER, "stored in Shopify theme settings (world-readable)")
        if f.language is Language.PHTML and not self._reaches_browser(offset):
            return Placement(Exposure.SERVER, _SERVER_WHERE[Language.PHTML])
        if _ADMINHTML.search(f.rel):
            return Placement(Exposure.SERVER, "hard-coded in an admin-panel file (admin browsers)")
        if _STOREFRONT_LAYOUT.search(f.rel):
            return Placement(
                Exposure.BROWSER, "hard-coded in storefront layout XML (reaches the page)"
            )
        return _by_path(f, f.exposure)

    def _env(self, offset: int) -> Placement:
        line = self._f.line_text(self._f.line_of(offset))
        m = _ENV_NAME.match(line)
        name = m.group(1) if m else ""
        if name.upper().startswith(PUBLIC_ENV_PREFIXES):
            where = f"stored in {name}, a public env variable bundled into browser code"
            return Placement(Exposure.BROWSER, where)
        return Placement(Exposure.CONFIG, f"stored in config file {_basename(self._f.rel)}")

    def _reaches_browser(self, offset: int) -> bool:
        """In a .phtml: outside PHP, or inside `<?= … ?>` / an echo statement."""
        span = self._php_span_at(offset)
        if span is None:
            return True
        text = self._f.text
        if text.startswith("<?=", span[0]):
            return True
        stmt_start = _last_statement_start(text, span[0], offset)
        return _ECHO.search(text, stmt_start, offset) is not None

    def _php_span_at(self, offset: int) -> tuple[int, int] | None:
        if self._php_spans is None:
            self._php_spans = [m.span() for m in _PHP_BLOCK.finditer(self._f.text)]
        i = bisect_right(self._php_spans, (offset, len(self._f.text) + 1)) - 1
        if i >= 0 and self._php_spans[i][0] <= offset < self._php_spans[i][1]:
            return self._php_spans[i]
        return None


def _last_statement_start(text: str, block_start: int, offset: int) -> int:
    start = block_start
    for m in _STATEMENT_END.finditer(text, block_start, offset):
        start = m.end()
    return start


def _by_path(f: SourceFile, exposure: Exposure) -> Placement:
    if exposure is Exposure.BROWSER:
        return Placement(exposure, _BROWSER_WHERE.get(f.language, "in a file served to shoppers"))
    if exposure is Exposure.CONFIG or f.language in _DATA_LANGUAGES:
        return Placement(Exposure.CONFIG, f"stored in config file {_basename(f.rel)}")
    where = _SERVER_WHERE.get(f.language, f"committed in {_basename(f.rel)}")
    return Placement(Exposure.SERVER, where)


def _basename(rel: str) -> str:
    return PurePosixPath(rel).name
