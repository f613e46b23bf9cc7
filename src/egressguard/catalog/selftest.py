"""Run every entry's own samples at load time (gitleaks-style self-testing rules).

A sample that does not behave as its entry says is a CatalogError naming the entry, so a broken
custom provider in .egressguard.toml is reported when the configuration is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from egressguard.catalog.package_words import check_package_words
from egressguard.catalog.secret_match import find_secrets
from egressguard.errors import CatalogError

if TYPE_CHECKING:
    from egressguard.catalog.catalog import Catalog
    from egressguard.catalog.schema import Provider, SecretRule, Widget


def run_samples(catalog: Catalog, only: frozenset[str] | None = None) -> None:
    """Run the samples of every entry, or only of the entries whose id is in `only`."""
    for provider in catalog.providers:
        if only is None or provider.id in only:
            check_provider(catalog, provider)
    for widget in catalog.widgets:
        if only is None or widget.id in only:
            check_widget(catalog, widget)
    for rule in catalog.secrets:
        if only is None or rule.id in only:
            check_secret_rule(rule)
    if only is None and catalog.package_words is not None:
        check_package_words(catalog.package_words)


def check_provider(catalog: Catalog, provider: Provider) -> None:
    for sample in provider.samples.match:
        found = catalog.classify_host(sample.host)
        got = f"{found.provider.id}/{found.region}" if found else "nothing"
        if found is None or found.provider.id != provider.id or found.region != sample.region:
            raise CatalogError(
                f"{provider.id}: sample {sample.host!r} should classify as "
                f"{provider.id}/{sample.region}, got {got}"
            )
    for host in provider.samples.no_match:
        found = catalog.classify_host(host)
        if found is not None and found.provider.id == provider.id:
            raise CatalogError(
                f"{provider.id}: no_match sample {host!r} classifies as {provider.id}"
            )
    check_php_samples(catalog, provider)


def check_php_samples(catalog: Catalog, provider: Provider) -> None:
    """php_match class names resolve to this provider's SDKs; php_no_match ones do not."""
    for name in provider.samples.php_match:
        found = catalog.php_sdk(name)
        if found is None or found.provider.id != provider.id:
            got = found.provider.id if found else "nothing"
            raise CatalogError(
                f"{provider.id}: php_match sample {name!r} should resolve to it, got {got}"
            )
    for name in provider.samples.php_no_match:
        found = catalog.php_sdk(name)
        if found is not None and found.provider.id == provider.id:
            raise CatalogError(f"{provider.id}: php_no_match sample {name!r} resolves to it")


def check_widget(catalog: Catalog, widget: Widget) -> None:
    for sample in widget.samples.match:
        found = catalog.classify_widget(sample.host)
        if found is None or found.id != widget.id:
            got = found.id if found else "nothing"
            raise CatalogError(
                f"{widget.id}: sample {sample.host!r} should be {widget.id}, got {got}"
            )
        region = catalog.widget_region(sample.host)
        if region != sample.region:
            raise CatalogError(
                f"{widget.id}: sample {sample.host!r} region {region}, expected {sample.region}"
            )
    for host in widget.samples.no_match:
        found = catalog.classify_widget(host)
        if found is not None and found.id == widget.id:
            raise CatalogError(f"{widget.id}: no_match sample {host!r} classifies as {widget.id}")


def check_secret_rule(rule: SecretRule) -> None:
    for i, text in enumerate(rule.samples.match):
        found = list(find_secrets(rule, text))
        if not found:
            raise CatalogError(f"{rule.id}: samples.match[{i}] finds no secret")
        if rule.keywords and not all(any(k in s for k in rule.keywords) for _, s in found):
            raise CatalogError(f"{rule.id}: samples.match[{i}]: a found secret contains no keyword")
    for i, text in enumerate(rule.samples.no_match):
        if any(True for _ in find_secrets(rule, text)):
            raise CatalogError(f"{rule.id}: samples.no_match[{i}] finds a secret")
