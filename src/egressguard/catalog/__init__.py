"""The packaged data: AI providers and widgets, secret-key rules and finding-rule metadata.

INTERFACE (implemented by the catalogue work; other stages rely on exactly this):

    load_catalog(extra_providers: Sequence[Mapping[str, object]] = ()) -> Catalog
        Loads providers.toml, secrets.toml and rules.toml from this package, validates them
        (every error is a CatalogError whose message starts with the entry id), compiles every
        regex once with Python `re` AND checks it compiles with Hyperscan, and merges custom
        providers from a user's .egressguard.toml ([[providers]] tables, same schema).
        The default catalogue (no extras) is cached.

    class Catalog:
        providers: tuple[Provider, ...]
        widgets: tuple[Widget, ...]
        secrets: tuple[SecretRule, ...]
        rules: Mapping[str, RuleMeta]
        def provider(self, provider_id: str) -> Provider            # CatalogError if unknown
        def rule(self, rule_id: str) -> RuleMeta                     # CatalogError if unknown
        def classify_host(self, host: str) -> HostMatch | None
            # "eu.api.openai.com" -> openai/eu; accepts "host" or "host:port"
        def classify_widget(self, host: str) -> Widget | None
        def sdk_provider(self, ecosystem: str, package: str) -> Provider | None
        def find_hosts(self, text: str) -> Iterator[tuple[int, str]]
            # (character offset, host) for every catalogue host (provider or widget) in text

ADDITIONS (compatible with the interface above):

    Catalog.prefilter_literals() -> list[tuple[str, bytes, bool]]
        (tag, literal, caseless); tags "ai" (provider keywords, host fragments), "key" (secret
        prefixes, case-sensitive; context words of context-only rules, caseless), "sdk"
        (package names; a bare npm name is quoted as in package.json) and "widget".
    Catalog.widget_region(host) -> Region | None      the region of one widget host
    Catalog.php_sdk(class_name) -> SdkMatch | None    the SDK (provider, package, namespace) a
        fully qualified PHP class belongs to, by the providers' `php_namespaces`
    Catalog.php_namespaces() -> tuple[SdkMatch, ...]  every known (provider, SDK, namespace)
    Catalog.ai_package_word(package) -> str | None   the [ai_package_names] word that marks an
        unlisted package name as an AI/LLM client ("bydn/openai" -> "openai")
    Sdk.namespaces: tuple[str, ...]                   PHP namespaces of one composer package
    catalog_from_toml(providers=None, secrets=None, rules=None, extra_providers=())
        build a catalogue from TOML text (None: the packaged file); tests feed broken snippets
    find_secrets(rule, text) -> Iterator[(offset, secret)]   one rule's regex + placeholder
        filter + entropy + context window; is_placeholder(value), shannon_entropy(value)

Module map: fields (typed TOML access), providers / secret_rules / rule_meta (one table kind
each), hosts (normalisation and classification), hs_check (Hyperscan proof), selftest (samples
at load time), secret_filters / secret_match (what a secret rule means), catalog, loader.
"""

from __future__ import annotations

from egressguard.catalog.catalog import Catalog
from egressguard.catalog.loader import catalog_from_toml, load_catalog
from egressguard.catalog.schema import (
    HostMatch,
    HostRule,
    HostSample,
    HostSamples,
    PackageWords,
    Provider,
    RuleMeta,
    Sdk,
    SdkMatch,
    SecretRule,
    TextSamples,
    Widget,
)
from egressguard.catalog.secret_filters import is_placeholder, shannon_entropy
from egressguard.catalog.secret_match import find_secrets

__all__ = [
    "Catalog",
    "HostMatch",
    "HostRule",
    "HostSample",
    "HostSamples",
    "PackageWords",
    "Provider",
    "RuleMeta",
    "Sdk",
    "SdkMatch",
    "SecretRule",
    "TextSamples",
    "Widget",
    "catalog_from_toml",
    "find_secrets",
    "is_placeholder",
    "load_catalog",
    "shannon_entropy",
]
