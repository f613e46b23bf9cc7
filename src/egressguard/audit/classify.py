"""What a file is (language) and who can read it (exposure), from its path alone.

Exposure decides how bad a hard-coded key is: files served to shoppers' browsers
(Magento view/frontend web assets, .phtml templates, requirejs config, Knockout templates,
Shopify theme assets/snippets/sections, public env vars) are `browser`; stored configuration
(app/etc/env.php, config.php, .env, SQL dumps) is `config`; everything else is `server`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from egressguard.model import Exposure, Language

_BY_SUFFIX: dict[str, Language] = {
    ".php": Language.PHP,
    ".phtml": Language.PHTML,
    ".js": Language.JAVASCRIPT,
    ".mjs": Language.JAVASCRIPT,
    ".cjs": Language.JAVASCRIPT,
    ".jsx": Language.JAVASCRIPT,
    ".ts": Language.TYPESCRIPT,
    ".tsx": Language.TYPESCRIPT,
    ".liquid": Language.LIQUID,
    ".html": Language.HTML,
    ".htm": Language.HTML,
    ".xml": Language.XML,
    ".json": Language.JSON,
    ".sql": Language.SQL,
    ".toml": Language.TOML,
    ".yaml": Language.YAML,
    ".yml": Language.YAML,
    ".env": Language.ENV,
}

# Shopify theme folders whose files end up in the storefront.
_SHOPIFY_PUBLIC_DIRS = frozenset(
    {"assets", "snippets", "sections", "layout", "templates", "blocks"}
)
_CONFIG_FILES = frozenset({"app/etc/env.php", "app/etc/config.php"})


def language_of(rel: str) -> Language:
    """The language of a file from its name; `.env`, `.env.local` … are ENV."""
    name = PurePosixPath(rel).name.lower()
    if name == ".env" or name.startswith(".env."):
        return Language.ENV
    return _BY_SUFFIX.get(PurePosixPath(name).suffix, Language.OTHER)


def exposure_of(rel: str, language: Language) -> Exposure:
    """Who can read this file's literal contents."""
    lower = rel.lower()
    parts = PurePosixPath(lower).parts
    if _is_config(lower, language):
        return Exposure.CONFIG
    if _is_browser(parts, language):
        return Exposure.BROWSER
    return Exposure.SERVER


def _is_config(lower: str, language: Language) -> bool:
    if language in (Language.ENV, Language.SQL):
        return True
    return any(lower == c or lower.endswith("/" + c) for c in _CONFIG_FILES)


def _is_browser(parts: tuple[str, ...], language: Language) -> bool:
    if language in (Language.PHTML, Language.LIQUID):
        return True
    if language in (Language.JAVASCRIPT, Language.TYPESCRIPT, Language.HTML):
        # Magento: view/frontend/web/**, view/base/web/**, app/design/**/web/**, pub/static;
        # Shopify apps: web/frontend/** (web/index.js is the Node server: not browser).
        if "web" in parts and ({"view", "design"} & set(parts)):
            return True
        if {"frontend", "static", "public"} & set(parts[:-1]):
            return True
        if parts and parts[-1] == "requirejs-config.js":
            return True
    return bool(set(parts[:-1]) & _SHOPIFY_PUBLIC_DIRS) and language is not Language.PHP


def classify(rel: str) -> tuple[Language, Exposure]:
    """Language and exposure of a file, from its POSIX path relative to the scan root."""
    language = language_of(rel)
    return language, exposure_of(rel, language)
