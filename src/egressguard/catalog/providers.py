"""[[providers]] and [[widgets]] tables -> Provider and Widget values."""

from __future__ import annotations

import re

from egressguard.catalog.fields import Fields
from egressguard.catalog.schema import HostRule, HostSample, HostSamples, Provider, Sdk, Widget
from egressguard.model import Region

ECOSYSTEMS = ("composer", "npm")
_JURISDICTION = re.compile(r"[A-Z]{2}|-")
# Hosts are lower-cased before matching, so host patterns need no inline flags; named groups
# and back-references have no use in a host pattern (and Hyperscan rejects back-references).
_UNSUPPORTED = re.compile(r"\(\?[aiLmsux-]|\(\?P|\\[1-9]")
_PROVIDER_REQUIRED = ("id", "name", "jurisdiction", "region", "eu_option", "eu_remediation")
_PROVIDER_OPTIONAL = ("hosts", "sdks", "keywords", "requires_path", "samples")
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
        sdks=_sdks(entry.sub("sdks")),
        keywords=entry.texts("keywords", lower=True),
        requires_path=entry.regex("requires_path", path) if path else None,
        samples=parse_host_samples(entry.sub("samples")),
    )
    if not (provider.hosts or provider.sdks or provider.keywords):
        raise entry.error("a provider needs at least one of 'hosts', 'sdks' or 'keywords'")
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


def parse_host_samples(entry: Fields) -> HostSamples:
    entry.only((), ("match", "no_match"))
    match = tuple(_host_sample(s) for s in entry.tables("match"))
    return HostSamples(match=match, no_match=entry.texts("no_match"))


def _host_sample(entry: Fields) -> HostSample:
    entry.only(("host", "region"))
    return HostSample(host=entry.text("host"), region=entry.enum("region", Region))


def _sdks(entry: Fields) -> tuple[Sdk, ...]:
    entry.only((), ECOSYSTEMS)
    return tuple(
        Sdk(ecosystem, package)
        for ecosystem in ECOSYSTEMS
        for package in entry.texts(ecosystem, lower=True)
    )


def _jurisdiction(entry: Fields) -> str:
    value = entry.text("jurisdiction")
    if not _JURISDICTION.fullmatch(value):
        raise entry.error(f"'jurisdiction' {value!r} must be an ISO 3166 alpha-2 code or '-'")
    return value
