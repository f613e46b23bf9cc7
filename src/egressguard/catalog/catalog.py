"""The loaded catalogue: lookups by id, host classification, SDK mapping, host search in text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from egressguard.catalog.hosts import HostIndex, literal_of, literal_runs, split_host
from egressguard.catalog.package_words import ai_word_in
from egressguard.catalog.providers import match_namespace, namespace_index
from egressguard.catalog.schema import (
    HostMatch,
    HostRule,
    PackageWords,
    Provider,
    RuleMeta,
    SdkMatch,
    SecretRule,
    Widget,
)
from egressguard.errors import CatalogError
from egressguard.fingerprints import finding_id, fingerprint
from egressguard.model import (
    Confidence,
    Finding,
    Hit,
    ProviderInfo,
    Region,
    RuleInfo,
    Severity,
)

# A host-like token: a dotted name, a single label, or a bracketed IPv6 address, with an optional
# port, not glued to surrounding name characters (so "x.api.openai.com" is one token, not two).
_HOST_TOKEN = re.compile(
    r"(?<![\w.-])(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)"
    r"(?::(\d{1,5}))?(?![\w-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_CACHE_LIMIT = 8192
_MIN_FRAGMENT = 8  # shorter host fragments are too common to be prefilter literals
# Cloud domains shared by thousands of services: never a prefilter literal on their own.
_SHARED_DOMAINS = frozenset({"amazonaws.com", "googleapis.com", "azure.com", "cloudfront.net"})


class Catalog:
    """Providers, widgets, secret rules and rule metadata, with fast lookups. Read-only."""

    __slots__ = (
        "_by_id",
        "_host_cache",
        "_hosts",
        "_php",
        "_sdks",
        "_widget_hosts",
        "credential_words",
        "package_words",
        "providers",
        "rules",
        "secrets",
        "widgets",
    )

    def __init__(
        self,
        providers: tuple[Provider, ...],
        widgets: tuple[Widget, ...],
        secrets: tuple[SecretRule, ...],
        rules: Mapping[str, RuleMeta],
        credential_words: tuple[str, ...] = (),
        package_words: PackageWords | None = None,
    ) -> None:
        self.providers = providers
        self.credential_words = credential_words
        self.package_words = package_words
        self.widgets = widgets
        self.secrets = secrets
        self.rules: Mapping[str, RuleMeta] = MappingProxyType(dict(rules))
        self._by_id = {p.id: p for p in providers}
        self._hosts = HostIndex(
            [(p, r, p.requires_path is not None) for p in providers for r in p.hosts]
        )
        self._widget_hosts = HostIndex([(w, r, False) for w in widgets for r in w.hosts])
        self._sdks = {(s.ecosystem, s.package): p for p in providers for s in p.sdks}
        self._php = namespace_index(providers)
        self._host_cache: dict[str, HostMatch | None] = {}

    def provider(self, provider_id: str) -> Provider:
        try:
            return self._by_id[provider_id]
        except KeyError:
            raise CatalogError(f"{provider_id}: no such provider in the catalogue") from None

    def finding(
        self,
        hit: Hit,
        file: str,
        occurrence: int,
        *,
        severity: Severity | None = None,
        message: str | None = None,
        evidence: str | None = None,
        excerpt: tuple[tuple[int, str], ...] = (),
    ) -> Finding:
        """A hit as a finding: the rule's metadata, the fingerprint (rule, file, key, n), and
        for a non-EU transfer the provider's EU option as the remediation when it has one.
        `message`/`evidence` replace the hit's (already masked by the caller)."""
        meta = self.rule(hit.rule)
        fp = fingerprint(hit.rule, file, hit.key, occurrence)
        return Finding(
            id=finding_id(fp),
            rule=hit.rule,
            kind=meta.kind,
            severity=severity or (hit.severity if hit.severity is not None else meta.severity),
            confidence=hit.confidence if hit.confidence is not None else Confidence.MEDIUM,
            file=file,
            line=hit.line,
            message=hit.message if message is None else message,
            evidence=hit.evidence if evidence is None else evidence,
            remediation=self._remediation(hit, meta.remediation),
            frameworks=meta.frameworks,
            fingerprint=fp,
            provider=hit.provider,
            host=hit.host,
            region=hit.region,
            data_categories=tuple(sorted(set(hit.data_categories) | set(meta.data_categories))),
            trace=hit.trace,
            excerpt=excerpt,
        )

    def _remediation(self, hit: Hit, default: str) -> str:
        if hit.rule != "ai-transfer-third-country" or not hit.provider:
            return default
        provider = next((p for p in self.providers if p.id == hit.provider), None)
        if provider is not None and provider.eu_option and provider.eu_remediation:
            return provider.eu_remediation
        return default

    def rule_info(self, rule_id: str) -> RuleInfo:
        """A rule's metadata as results carry it (so reporters need not import the catalogue)."""
        meta = self.rule(rule_id)
        return RuleInfo(
            id=meta.id,
            kind=meta.kind,
            severity=meta.severity,
            title=meta.title,
            description=meta.description,
            remediation=meta.remediation,
            frameworks=meta.frameworks,
        )

    def provider_infos(self, ids: set[str]) -> tuple[ProviderInfo, ...]:
        """Catalogue facts of the providers and widget vendors in `ids` (unknown ids left out)."""
        widgets = {w.id: w for w in self.widgets}
        providers = {p.id: p for p in self.providers}
        infos = []
        for pid in sorted(ids):
            if pid in widgets:
                w = widgets[pid]
                infos.append(ProviderInfo(w.id, w.name, w.jurisdiction, w.region, False))
            elif pid in providers:
                p = providers[pid]
                infos.append(ProviderInfo(p.id, p.name, p.jurisdiction, p.region, p.eu_option))
        return tuple(infos)

    def rule(self, rule_id: str) -> RuleMeta:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise CatalogError(f"{rule_id}: no such rule in the catalogue") from None

    def classify_host(self, host: str) -> HostMatch | None:
        """The provider and processing region of a host ("host" or "host:port"), or None."""
        try:
            return self._host_cache[host]
        except KeyError:
            pass
        if len(self._host_cache) >= _CACHE_LIMIT:
            self._host_cache.clear()
        found = self._host_cache[host] = self._classify_host(host)
        return found

    def _classify_host(self, host: str) -> HostMatch | None:
        split = split_host(host)
        if split is None:
            return None
        found = self._hosts.classify(*split)
        if found is None:
            return None
        provider, rule = found
        return HostMatch(provider=provider, region=rule.region, host=split[0])

    def classify_widget(self, host: str) -> Widget | None:
        found = self._widget_rule(host)
        return found[0] if found else None

    def widget_region(self, host: str) -> Region | None:
        """The region of a widget host (a vendor's EU host may differ from its default)."""
        found = self._widget_rule(host)
        return found[1].region if found else None

    def _widget_rule(self, host: str) -> tuple[Widget, HostRule] | None:
        split = split_host(host)
        return self._widget_hosts.classify(*split) if split else None

    def sdk_provider(self, ecosystem: str, package: str) -> Provider | None:
        """The provider of a composer/npm package; `@scope/*` entries cover a whole npm scope."""
        key = (ecosystem.lower(), package.lower())
        found = self._sdks.get(key)
        if found is None and "/" in key[1]:
            found = self._sdks.get((key[0], key[1].split("/", 1)[0] + "/*"))
        return found

    def php_sdk(self, class_name: str) -> SdkMatch | None:
        """The catalogue SDK a PHP class belongs to, by its namespace (longest prefix wins).

        `class_name` is fully qualified, with or without the leading backslash; PHP names are
        case-insensitive. `Tidycode\\AIClient\\FraudDetection` -> provider "tidycode", SDK
        "tidycode/ai-php-sdk", namespace `Tidycode\\AIClient`. A namespace also matches the
        class of the same name (`OpenAI` for `\\OpenAI::client()`).
        """
        return match_namespace(self._php, class_name)

    def php_namespaces(self) -> tuple[SdkMatch, ...]:
        """Every (provider, SDK, namespace) the catalogue knows, in catalogue order."""
        return tuple(self._php.values())

    def ai_package_word(self, package: str) -> str | None:
        """The word of [ai_package_names] that marks `package` as an AI/LLM client, or None.

        For packages the catalogue does not list: "bydn/openai" -> "openai",
        "yu-dev/module-ai-llm" -> "llm". Check `sdk_provider` first: a listed SDK is a fact,
        this is an inference from the name.
        """
        return ai_word_in(self.package_words, package) if self.package_words else None

    def find_hosts(self, text: str) -> Iterator[tuple[int, str]]:
        """(character offset, host) for every provider or widget host in `text`.

        The host is lower-case without port, except for port rules ("localhost:11434"), so that
        `classify_host` of it gives the same answer. Hosts of catch-all providers (private IPs,
        *.local) are reported only when followed by a path matching `requires_path`.
        """
        lower = text.lower()
        if not (self._hosts.may_occur_in(lower) or self._widget_hosts.may_occur_in(lower)):
            return
        for m in _HOST_TOKEN.finditer(text):
            name = m.group(1)
            if (
                "." not in name
                and ":" not in name
                and text[max(0, m.start() - 3) : m.start()] != "://"
            ):
                continue
            found = self._token_host(text, m)
            if found is not None:
                yield m.start(), found

    def _token_host(self, text: str, m: re.Match[str]) -> str | None:
        host = m.group(1).lower().strip("[]")
        port = int(m.group(2)) if m.group(2) and int(m.group(2)) <= 65535 else None
        hit = self._hosts.classify(host, port)
        if hit is not None:
            provider, rule = hit
            if provider.requires_path is not None and not provider.requires_path.match(
                text, m.end()
            ):
                return None
            return f"{host}:{port}" if rule.port is not None else host
        return host if self._widget_hosts.classify(host, port) is not None else None

    def prefilter_literals(self) -> list[tuple[str, bytes, bool]]:
        """(tag, literal, caseless) for the prefilter: "ai", "key", "sdk", "widget", "cred", "pkg".

        "sdk" also covers the PHP namespaces of SDKs (`Tidycode\\AIClient\\`, caseless); "pkg" the
        words that mark a package name as an AI client ([ai_package_names]), spelt as in
        manifests and namespaces (llm, Llm, LLM; case-sensitive).
        """
        out: list[tuple[str, bytes, bool]] = []
        out += [("ai", lit.encode(), True) for lit in _minimal(self._ai_literals())]
        out += [("key", lit.encode(), caseless) for lit, caseless in self._key_literals()]
        out += [("sdk", lit.encode(), False) for lit in _minimal(self._sdk_literals())]
        widget_hosts = [r for w in self.widgets for r in w.hosts]
        out += [("widget", lit.encode(), True) for lit in _minimal(_host_literals(widget_hosts))]
        out += [("cred", word.encode(), True) for word in self.credential_words]
        spaces = _minimal([m.namespace + "\\" for m in self._php.values()])
        out += [("sdk", ns.encode(), True) for ns in spaces]
        words = _minimal(list(self.package_words.words)) if self.package_words else []
        out += [("pkg", form.encode(), False) for word in words for form in _spellings(word)]
        return out

    def _ai_literals(self) -> list[str]:
        words = [k for p in self.providers for k in p.keywords]
        rules = [r for p in self.providers if p.requires_path is None for r in p.hosts]
        return words + _host_literals(rules)

    def _key_literals(self) -> list[tuple[str, bool]]:
        seen: dict[tuple[str, bool], None] = {}
        for rule in self.secrets:
            seen.update(dict.fromkeys((k, False) for k in rule.keywords))
            seen.update(dict.fromkeys((k, True) for k in rule.context_keywords))
        return list(seen)

    def _sdk_literals(self) -> list[str]:
        return [_sdk_literal(s.package) for p in self.providers for s in p.sdks]


def _spellings(word: str) -> tuple[str, ...]:
    """How a package word is written in manifests and namespaces: llm, Llm, LLM.

    Case-sensitive on purpose: a caseless "llm" would hit every `fullMatch` in JavaScript.
    """
    return tuple(dict.fromkeys((word, word.capitalize(), word.upper())))


def _host_literals(rules: list[HostRule]) -> list[str]:
    out: list[str] = []
    for rule in rules:
        literal = literal_of(rule.pattern)
        if literal is None:
            literal = max(literal_runs(rule.pattern), key=len, default="").strip(".-")
        if len(literal) >= _MIN_FRAGMENT and literal not in _SHARED_DOMAINS:
            out.append(literal)
    return out


def _sdk_literal(package: str) -> str:
    """Vendor/scoped names as they are; a bare npm name quoted, as it stands in package.json."""
    if package.endswith("/*"):
        return package[:-1]
    return package if "/" in package else f'"{package}"'


def _minimal(literals: list[str]) -> list[str]:
    """Deduplicated, without any literal that contains a shorter one (it adds no hits)."""
    unique = sorted(dict.fromkeys(lit.lower() for lit in literals), key=len)
    kept: list[str] = []
    for lit in unique:
        if not any(k in lit for k in kept):
            kept.append(lit)
    return kept
