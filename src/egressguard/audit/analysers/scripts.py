"""Third-party AI/chat scripts on storefront pages (PCI DSS v4.0.1 6.4.3 / 11.6.1 inventory).

Script references found (comments removed first, one `finditer` per file):
  `<script src=…>` / `<link src=…>` in Magento layout XML, .phtml, .html and Liquid,
  `{{ 'https://…' | script_tag }}` and `<script src="{{ 'https://…' }}">` in Liquid,
  `s.src = 'https://…'` loader snippets in templates and browser JS,
  quoted URLs in requirejs-config.js (`paths` aliases).
A host counts when the catalogue knows it as an AI/chat widget (`classify_widget`) or as an AI
provider serving its own JS (`classify_host`).

Which page a file renders on, decided from the path alone (see `page_of`):
  checkout (ai-script-on-checkout, high)
    Magento layout handles checkout_* except checkout_cart_* (the cart takes no payment data),
      multishipping_checkout*, *onepage*, *payment*, paypal_express_review;
    default.xml / default_head_blocks.xml: they load on every page, checkout included;
    templates under Magento_Checkout/ (or module-checkout/, a checkout/ folder), except cart/;
    Shopify layout/checkout.liquid (Shopify Plus; the page that takes payment data).
  storefront (ai-script-on-storefront, low): everything else, including Shopify
    layout/theme.liquid (every theme page; Shopify renders checkout outside the theme) and
    requirejs-config.js (an alias loads only where a module requires it).
Admin layouts (view/adminhtml) are not storefront pages and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from egressguard.audit.analysers.evidence import masked_line
from egressguard.model import Confidence, Exposure, Hit, Language, Region

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

RULE_CHECKOUT = "ai-script-on-checkout"
RULE_STOREFRONT = "ai-script-on-storefront"

# Each alternative names its URL group `u<n>`; `tag` spans the element for the SRI check.
SCRIPT_REFS: tuple[str, ...] = (
    r"""<script\b[^>]*?\bsrc\s*=\s*["']\{\{-?\s*['"](?P<u0>[^'"]+)['"]""",  # Liquid in src
    r"""<(?:script|link)\b[^>]*?\bsrc\s*=\s*["']?(?P<u1>[^"'\s>]+)""",
    r"""['"](?P<u2>(?:https?:)?//[^'"\s]+)['"]\s*\|\s*script_tag""",
    r"""\.src\s*=\s*['"`](?P<u3>(?:https?:)?//[^'"`\s]+)""",
)
_SCRIPT_REF = re.compile("|".join(SCRIPT_REFS), re.IGNORECASE)
_QUOTED_URL = re.compile(r"""['"`](?P<u0>(?:https?:)?//[^'"`\s]+)['"`]""")
_URL_HOST = re.compile(r"^(?:https?:)?//([^/?#:'\"\s]+)", re.IGNORECASE)
_INTEGRITY = re.compile(r"\bintegrity\b", re.IGNORECASE)
_SRI_WINDOW = 300  # characters after a `.src =` loader searched for `.integrity =`

_CHECKOUT_HANDLE = re.compile(
    r"checkout_(?!cart_)\w+|multishipping_checkout\w*|\w*onepage\w*|\w*payment\w*"
    r"|paypal_express_review\w*"
)
_EVERY_PAGE_HANDLES = frozenset({"default", "default_head_blocks"})
_CHECKOUT_DIRS = frozenset({"magento_checkout", "module-checkout", "checkout"})
_SCRIPT_LANGUAGES = frozenset({Language.PHTML, Language.LIQUID, Language.HTML})


@dataclass(frozen=True, slots=True)
class Page:
    checkout: bool
    what: str  # "checkout_index_index.xml (checkout page)"
    inferred: bool = False  # checkout only because the file loads on every page


@dataclass(frozen=True, slots=True)
class _Vendor:
    id: str
    name: str
    region: Region


class ScriptAnalyser:
    """ai-script-on-checkout and ai-script-on-storefront."""

    name = "scripts"
    tags = frozenset({"widget", "ai"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        if not f.tags & self.tags or "adminhtml" in f.rel.lower():
            return False
        if f.language is Language.XML:
            return "/layout/" in f"/{f.rel.lower()}"
        if f.language in (Language.JAVASCRIPT, Language.TYPESCRIPT):
            return f.exposure is Exposure.BROWSER
        return f.language in _SCRIPT_LANGUAGES

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Hit]:
        code = f.view.code
        page = page_of(f.rel)
        pattern = _QUOTED_URL if _is_requirejs_config(f.rel) else _SCRIPT_REF
        seen: set[tuple[str, int]] = set()
        for m in pattern.finditer(code):
            url = next(u for u in m.groups() if u is not None) if m.lastgroup else ""
            host_match = _URL_HOST.match(url)
            vendor = _vendor(host_match.group(1).lower(), catalog) if host_match else None
            line = f.line_of(m.start())
            if vendor is None or host_match is None or (host_match.group(1), line) in seen:
                continue
            seen.add((host_match.group(1), line))
            sri = _has_sri(code, m.start(), m.end())
            yield _hit(f, catalog, page, vendor, host_match.group(1).lower(), line, sri)


def page_of(rel: str) -> Page:
    """Whether a file renders on a checkout/payment page, and how the page is named."""
    path = PurePosixPath(rel)
    name = path.name
    lower_parts = [p.lower() for p in path.parts[:-1]]
    if path.suffix == ".xml":
        return _layout_page(path.stem, name)
    if path.suffix == ".liquid":
        if lower_parts[-1:] == ["layout"] and path.stem == "checkout":
            return Page(True, f"{name} (Shopify checkout layout)")
        if lower_parts[-1:] == ["layout"] and path.stem == "theme":
            return Page(False, f"{name} (every theme page; Shopify renders checkout outside it)")
        return Page(False, name)
    if _is_requirejs_config(rel):
        return Page(False, f"{name} (loads wherever a module requires the alias)")
    if _CHECKOUT_DIRS & set(lower_parts) and "cart" not in lower_parts:
        return Page(True, f"{name} (checkout template)")
    return Page(False, name)


def _layout_page(handle: str, name: str) -> Page:
    if handle in _EVERY_PAGE_HANDLES:
        return Page(True, f"{name} (every page, checkout included)", inferred=True)
    if _CHECKOUT_HANDLE.fullmatch(handle):
        return Page(True, f"{name} (checkout page)")
    return Page(False, f"{name} (layout handle {handle})")


def _is_requirejs_config(rel: str) -> bool:
    return PurePosixPath(rel).name == "requirejs-config.js"


def _vendor(host: str, catalog: Catalog) -> _Vendor | None:
    widget = catalog.classify_widget(host)
    if widget is not None:
        return _Vendor(widget.id, widget.name, widget.region)
    match = catalog.classify_host(host)
    if match is not None:
        return _Vendor(match.provider.id, match.provider.name, match.region)
    return None


def _has_sri(code: str, start: int, end: int) -> bool:
    """`integrity=` in the element around a reference, or `.integrity =` after a loader."""
    tag_start = code.rfind("<", 0, start + 1)
    if tag_start != -1 and code.startswith(("<script", "<link"), tag_start):
        tag_end = code.find(">", end)
        return _INTEGRITY.search(code, tag_start, tag_end if tag_end != -1 else end) is not None
    return _INTEGRITY.search(code, end, end + _SRI_WINDOW) is not None


def _hit(
    f: SourceFile, catalog: Catalog, page: Page, vendor: _Vendor, host: str, line: int, sri: bool
) -> Hit:
    rule = RULE_CHECKOUT if page.checkout else RULE_STOREFRONT
    integrity = (
        "SRI integrity attribute present"
        if sri
        else "no SRI (integrity=): the served code can change without notice"
    )
    return Hit(
        rule=rule,
        line=line,
        message=(
            f"{vendor.name} script from {host} ({vendor.region.value}) loaded on "
            f"{page.what}; {integrity}"
        ),
        evidence=masked_line(f, line, catalog),
        key=f"{rule}:{host}:{f.rel}",
        provider=vendor.id,
        host=host,
        region=vendor.region,
        confidence=Confidence.MEDIUM if page.inferred else Confidence.HIGH,
    )
