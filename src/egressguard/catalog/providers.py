"""[[providers]] and [[widgets]] tables -> Provider and Widget values."""

from __future__ import annotations

import re

from egressguard.catalog.fields import Fields
from egressguard.catalog.schema import (
    HostRule,
    HostSample,
    HostSamples,
    Provider,
    Sdk,
    SdkMatch,
    Widget,
)
from egressguard.model import Region

ECOSYSTEMS = ("composer", "npm")
_JURISDICTION = re.compile(r"[A-Z]{2}|-")
# Hosts are lower-cased before matching, so host patterns need no inline flags; named groups
# and back-references have no use in a host pattern (and Hyperscan rejects back-references).
_UNSUPPORTED = re.compile(r"\(\?[aiLmsux-]|\(\?P|\\[1-9]")
_PROVIDER_REQUIRED = ("id", "name", "jurisdiction", "region", "eu_option", "eu_remediation")
_PROVIDER_OPTIONAL = ("hosts", "sdks", "php_namespaces", "keywords", "requires_path", "samples")
# A PHP namespace without leading or trailing backslash: `OpenAI`, `Tidycode\AIClient`.
_PHP_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\\[A-Za-z_][A-Za-z0-9_]*)*")
_WIDGET_REQUIRED = ("id", "name", "jurisdiction", "region", "hosts", "ai")


def parse_provider(entry: Fields) -> Provider:
    entry.only(_PROVIDER_REQUIRED, _PROVIDER_OPTIONAL)
    region = entry.enum("region", Region)
    path = entry.text("requires_path", "") if "requires_path" in entry.table else ""
    provider = Provider(
        id=entry.text("id"),
        name=entry.text("name"),
        jurisdiction=_jurisdiction(entry),
        region=region,
        eu_option=entry.flag("eu_option"),
        eu_remediation=entry.text("eu_remediation"),
        hosts=tuple(parse_host_rule(h, region) for h in entry.tables("hosts")),
        sdks=_sdks(entry.sub("sdks"), _php_namespaces(entry.sub("php_namespaces"))),
        keywords=entry.texts("keywords", lower=True),
        requires_path=entry.regex("requires_path", path) if path else None,
        samples=parse_host_samples(entry.sub("samples"), php=True),
    )
    if not (provider.hosts or provider.sdks or provider.keywords):
        raise entry.error("a provider needs at least one of 'hosts', 'sdks' or 'keywords'")
    _check_namespaces(entry, provider)
    return provider


def parse_widget(entry: Fields) -> Widget:
    entry.only(_WIDGET_REQUIRED, ("samples",))
    region = entry.enum("region", Region)
    widget = Widget(
        id=entry.text("id"),
        name=entry.text("name"),
        jurisdiction=_jurisdiction(entry),
        region=region,
        hosts=tuple(parse_host_rule(h, region) for h in entry.tables("hosts")),
        ai=entry.flag("ai"),
        samples=parse_host_samples(entry.sub("samples")),
    )
    if not widget.hosts:
        raise entry.error("a widget needs at least one host")
    return widget


def parse_host_rule(entry: Fields, default_region: Region) -> HostRule:
    """A host rule: `{ host = "api.openai.com" }` (a literal) or `{ pattern = '<regex>' }`.

    The region defaults to the entry's region; `port` restricts the rule to "host:port".
    """
    entry.only((), ("host", "pattern", "region", "note", "port"))
    if ("host" in entry.table) == ("pattern" in entry.table):
        raise entry.error("give exactly one of 'host' (a literal) or 'pattern' (a regex)")
    if "host" in entry.table:
        host = entry.text("host")
        if host != host.lower() or not re.fullmatch(r"[a-z0-9.:-]+", host):
            raise entry.error(
                f"'host' {host!r} must be a lower-case host name (use 'pattern' for regexes)"
            )
        pattern = re.escape(host)
    else:
        pattern = entry.text("pattern")
        if _UNSUPPORTED.search(pattern):
            raise entry.error(f"'pattern' {pattern!r}: no inline flags, named groups or backrefs")
    return HostRule(
        pattern=pattern,
        region=entry.enum("region", Region, default_region),
        compiled=entry.regex("pattern", f"(?:{pattern})"),
        note=entry.text("note", "", empty=True),
        port=entry.integer("port", low=1, high=65535) if "port" in entry.table else None,
    )


def parse_host_samples(entry: Fields, *, php: bool = False) -> HostSamples:
    entry.only((), ("match", "no_match", *(("php_match", "php_no_match") if php else ())))
    match = tuple(_host_sample(s) for s in entry.tables("match"))
    return HostSamples(
        match=match,
        no_match=entry.texts("no_match"),
        php_match=entry.texts("php_match"),
        php_no_match=entry.texts("php_no_match"),
    )


def _host_sample(entry: Fields) -> HostSample:
    entry.only(("host", "region"))
    return HostSample(host=entry.text("host"), region=entry.enum("region", Region))


def _sdks(entry: Fields, namespaces: dict[str, tuple[str, ...]]) -> tuple[Sdk, ...]:
    entry.only((), ECOSYSTEMS)
    sdks = tuple(
        Sdk(ecosystem, package, namespaces.get(package, ()) if ecosystem == "composer" else ())
        for ecosystem in ECOSYSTEMS
        for package in entry.texts(ecosystem, lower=True)
    )
    composer = {s.package for s in sdks if s.ecosystem == "composer"}
    for package in namespaces:
        if package not in composer:
            raise entry.error(
                f"php_namespaces: {package!r} is not one of this provider's composer SDKs"
            )
    return sdks


def _php_namespaces(entry: Fields) -> dict[str, tuple[str, ...]]:
    """`php_namespaces = { "openai-php/client" = ["OpenAI"] }`: the namespaces of each package."""
    out: dict[str, tuple[str, ...]] = {}
    for package in entry.table:
        spaces = entry.texts(package)
        for space in spaces:
            if not _PHP_NAMESPACE.fullmatch(space):
                raise entry.error(
                    f"{package!r}: {space!r} is not a PHP namespace (no leading or trailing '\\')"
                )
        out[package] = spaces
    return out


def _check_namespaces(entry: Fields, provider: Provider) -> None:
    """A provider that names PHP namespaces proves them with at least one php_match sample."""
    if any(s.namespaces for s in provider.sdks) and not provider.samples.php_match:
        raise entry.error("php_namespaces needs samples.php_match (class names that must resolve)")
    if provider.samples.php_match and not any(s.namespaces for s in provider.sdks):
        raise entry.error("samples.php_match needs php_namespaces")


def _jurisdiction(entry: Fields) -> str:
    value = entry.text("jurisdiction")
    if not _JURISDICTION.fullmatch(value):
        raise entry.error(f"'jurisdiction' {value!r} must be an ISO 3166 alpha-2 code or '-'")
    return value


def namespace_index(providers: tuple[Provider, ...]) -> dict[str, SdkMatch]:
    """Lower-case PHP namespace -> (provider, SDK, namespace), first provider wins.

    The data behind `Catalog.php_sdk`; `Sdk.namespaces` holds the same per package.
    """
    index: dict[str, SdkMatch] = {}
    for provider in providers:
        for sdk in provider.sdks:
            for ns in sdk.namespaces:
                index.setdefault(ns.lower(), SdkMatch(provider, sdk, ns))
    return index


def match_namespace(index: dict[str, SdkMatch], class_name: str) -> SdkMatch | None:
    """The SDK of a fully qualified PHP class (leading backslash optional, any case): the
    longest catalogue namespace that is the class itself or a prefix of whole segments."""
    parts = class_name.strip().lstrip("\\").lower().split("\\")
    for end in range(len(parts), 0, -1):
        found = index.get("\\".join(parts[:end]))
        if found is not None:
            return found
    return None
