"""Typed views of the packaged data files (providers.toml, secrets.toml, rules.toml).

Loaders in this package validate the TOML once and return these frozen values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from egressguard.model import DataCategory, Frameworks, Kind, Region, Severity


@dataclass(frozen=True, slots=True)
class HostSample:
    """A host that must classify to its entry, with the region it must get."""

    host: str
    region: Region


@dataclass(frozen=True, slots=True)
class HostSamples:
    """Self-test samples of a provider or widget; run at load time and by the test suite."""

    match: tuple[HostSample, ...] = ()
    no_match: tuple[str, ...] = ()  # hosts that must not classify to this entry
    # Providers only: PHP class names that must (php_match) / must not (php_no_match) resolve
    # to this provider through its SDKs' `php_namespaces` (Catalog.php_sdk).
    php_match: tuple[str, ...] = ()
    php_no_match: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextSamples:
    """Self-test samples of a secret rule: text with (match) and without (no_match) a live key."""

    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Provider:
    """One AI provider or runtime from providers.toml."""

    id: str  # kebab-case, stable: "openai", "azure-openai", "ollama"
    name: str  # display name
    jurisdiction: (
        str  # company's home country, ISO 3166 alpha-2 ("US", "FR", "CN") or "-" for local
    )
    region: Region  # default processing region of the provider's default host
    eu_option: bool  # an EU-processing option exists
    eu_remediation: str  # how to get EU processing ("use https://eu.api.openai.com/v1 ...")
    hosts: tuple[HostRule, ...]  # host patterns, most specific first
    sdks: tuple[Sdk, ...]  # package names in composer / npm ecosystems
    keywords: tuple[str, ...]  # lower-case literals that suggest this provider in code (prefilter)
    # A catch-all runtime ("self-hosted": private IPs, *.local): its hosts are evidence of an AI
    # endpoint only when the URL path matches this regex (e.g. /v1/chat/completions).
    requires_path: re.Pattern[str] | None = None
    samples: HostSamples = HostSamples()


@dataclass(frozen=True, slots=True)
class HostRule:
    """A host pattern with the region traffic to it is processed in."""

    pattern: (
        str  # a regex over the host name (anchored by the loader), e.g. r"eu\.api\.openai\.com"
    )
    region: Region
    compiled: re.Pattern[str]
    note: str = ""
    port: int | None = None  # the rule matches only "host:port" with this port (ollama: 11434)


@dataclass(frozen=True, slots=True)
class Sdk:
    ecosystem: str  # "composer" | "npm"
    package: str  # "openai-php/client", "@anthropic-ai/sdk"
    # PHP namespaces the package's classes live in ("OpenAI", "Tidycode\\AIClient"), as the
    # provider's `php_namespaces` table gives them; empty when unknown (and always for npm).
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SdkMatch:
    """A PHP class name resolved to the catalogue SDK whose namespace it is in."""

    provider: Provider
    sdk: Sdk
    namespace: str  # the namespace that matched, as the catalogue spells it


@dataclass(frozen=True, slots=True)
class PackageWords:
    """providers.toml [ai_package_names]: words that mark a package name as an AI/LLM client.

    Used for dependencies the catalogue does not list (`ai-sdk-dependency` at low confidence).
    `pattern` matches a lower-case package name where a word stands alone between separators
    (`/`, `-`, `_`, `.`, `@`), optionally followed by a version-like suffix ("gpt4o").
    """

    words: tuple[str, ...]
    pattern: re.Pattern[str]
    samples: TextSamples = TextSamples()


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One hard-coded key pattern from secrets.toml."""

    id: str  # kebab-case, stable: "openai-project-key"
    provider: str  # provider id or "" for generic
    description: str
    regex: re.Pattern[str]  # Python regex; group `secret_group` is the secret itself
    hs_pattern: bytes  # the same pattern as Hyperscan compiles it (prefilter)
    secret_group: int
    min_entropy: float  # Shannon entropy (bits/char) the secret must reach
    keywords: tuple[
        str, ...
    ]  # literal prefixes as they occur in every key (case-sensitive); empty for context rules
    needs_context: tuple[
        str, ...
    ] = ()  # regexes one of which must occur within `context_lines` (Azure 32-hex key)
    context_lines: int = 0
    context_keywords: tuple[
        str, ...
    ] = ()  # lower-case literals of the context (prefilter, caseless)
    samples: TextSamples = TextSamples()


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """Metadata of one finding rule from rules.toml (what the reports explain)."""

    id: str
    kind: Kind
    severity: Severity
    title: str
    description: str
    remediation: str
    frameworks: Frameworks
    data_categories: tuple[DataCategory, ...] = ()


@dataclass(frozen=True, slots=True)
class Widget:
    """A third-party AI/chat script embedded in storefront pages (providers.toml [[widgets]])."""

    id: str
    name: str
    jurisdiction: str
    region: Region
    hosts: tuple[HostRule, ...]
    ai: bool  # the widget's product is AI-driven (bots, AI search, AI answers)
    samples: HostSamples = HostSamples()


@dataclass(frozen=True, slots=True)
class HostMatch:
    provider: Provider
    region: Region
    host: str  # the host as found, lower-case, without scheme, path or port
