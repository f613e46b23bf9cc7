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
        def classify_host(self, host: str) -> HostMatch | None       # "eu.api.openai.com" -> openai/eu;
                                                                     # accepts "host" or "host:port"
        def classify_widget(self, host: str) -> Widget | None
        def sdk_provider(self, ecosystem: str, package: str) -> Provider | None
        def find_hosts(self, text: str) -> Iterator[tuple[int, str]]
            # (character offset, host) for every catalogue host (provider or widget) in text
"""
