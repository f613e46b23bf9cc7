"""What a scanned tree is: Magento 2 root, module or theme, Shopify theme or app, or generic.

Top-level markers decide the root's kind; nested Magento modules/themes (registration.php)
and Shopify apps/themes found during the walk are reported too, so a Magento root that
vendors an AI module shows both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from egressguard.model import Platform, PlatformKind

_MAGENTO_PACKAGES = (
    "magento/product-community-edition",
    "magento/product-enterprise-edition",
    "magento/magento2-base",
    "magento/magento2ce",
    "magento/magento2ee",
)
_REGISTRAR = re.compile(rb"ComponentRegistrar::(MODULE|THEME)\b")


def detect_root(root: Path, label: str) -> Platform:
    """The kind of one scan root, from its top-level markers."""
    if not root.is_dir():
        return Platform(PlatformKind.GENERIC, label, "a single file")
    checks = (
        (PlatformKind.MAGENTO2_ROOT, _magento_root),
        (PlatformKind.SHOPIFY_APP, _shopify_app),
        (PlatformKind.SHOPIFY_THEME, _shopify_theme),
    )
    for kind, check in checks:
        evidence = check(root)
        if evidence:
            return Platform(kind, label, evidence)
    registration = _registration_kind(root / "registration.php")
    if registration is not None:
        return Platform(registration, label, "registration.php")
    return Platform(PlatformKind.GENERIC, label, "no Magento or Shopify marker found")


def _magento_root(root: Path) -> str:
    if (root / "app/etc/env.php").is_file():
        return "app/etc/env.php"
    if (root / "bin/magento").is_file() and (root / "app/etc").is_dir():
        return "bin/magento + app/etc/"
    composer = root / "composer.json"
    try:
        require = json.loads(composer.read_text(encoding="utf-8")).get("require", {})
    except (OSError, ValueError, AttributeError):
        return ""
    found = [p for p in _MAGENTO_PACKAGES if isinstance(require, dict) and p in require]
    return f"composer.json requires {found[0]}" if found else ""


def _shopify_app(root: Path) -> str:
    tomls = sorted(p.name for p in root.glob("shopify.app*.toml"))
    return tomls[0] if tomls else ""


def _shopify_theme(root: Path) -> str:
    if (root / "layout/theme.liquid").is_file() and (
        root / "config/settings_schema.json"
    ).is_file():
        return "layout/theme.liquid + config/settings_schema.json"
    return ""


def _registration_kind(path: Path) -> PlatformKind | None:
    try:
        data = path.read_bytes()[:65536]
    except OSError:
        return None
    m = _REGISTRAR.search(data)
    if m is None:
        return None
    return PlatformKind.MAGENTO2_MODULE if m.group(1) == b"MODULE" else PlatformKind.MAGENTO2_THEME


def is_marker(rel: str) -> bool:
    """Whether a walked file can mark a nested platform (cheap: called for every file)."""
    name = rel.rpartition("/")[2]
    return name in ("registration.php", "theme.liquid") or (
        name.startswith("shopify.app") and name.endswith(".toml")
    )


def nested(root: Path, rels: Iterable[str]) -> list[Platform]:
    """Magento modules/themes, Shopify themes and apps below the root (not the root itself)."""
    out: list[Platform] = []
    for rel in rels:
        parent, _, name = rel.rpartition("/")
        if not parent:
            continue
        if name == "registration.php":
            kind = _registration_kind(root / rel)
            if kind is not None:
                out.append(Platform(kind, parent, "registration.php"))
        elif name.startswith("shopify.app") and name.endswith(".toml"):
            out.append(Platform(PlatformKind.SHOPIFY_APP, parent, name))
        elif name == "theme.liquid" and parent.endswith("layout"):
            theme = parent.rpartition("/")[0] or "."
            out.append(Platform(PlatformKind.SHOPIFY_THEME, theme, "layout/theme.liquid"))
    return out
