"""Read, validate, merge and compile the catalogue data files into one Catalog.

Every problem is a CatalogError whose message starts with the entry id (or the file name for
TOML syntax errors). The default catalogue (packaged files, no custom providers) is cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import TypeVar

import tomli

from egressguard.catalog.catalog import Catalog
from egressguard.catalog.fields import Fields, entry_id
from egressguard.catalog.hs_check import VERIFIED_FILE, Checked, check_hyperscan
from egressguard.catalog.package_words import TABLE as PACKAGE_WORDS
from egressguard.catalog.package_words import parse_package_words
from egressguard.catalog.providers import parse_provider, parse_widget
from egressguard.catalog.rule_meta import REQUIRED_RULE_IDS, parse_rule
from egressguard.catalog.schema import PackageWords, Provider, RuleMeta, SecretRule, Widget
from egressguard.catalog.secret_rules import parse_secret_rule
from egressguard.catalog.selftest import run_samples
from egressguard.errors import CatalogError

T = TypeVar("T")

PROVIDERS_FILE = "providers.toml"
SECRETS_FILE = "secrets.toml"
RULES_FILE = "rules.toml"
CUSTOM_PROVIDERS = ".egressguard.toml providers"


def load_catalog(extra_providers: Sequence[Mapping[str, object]] = ()) -> Catalog:
    """The packaged catalogue, with custom providers merged in (same id: the custom one wins)."""
    if not extra_providers:
        return _default_catalog()
    return catalog_from_toml(extra_providers=extra_providers)


@functools.cache
def _default_catalog() -> Catalog:
    return catalog_from_toml()


def catalog_from_toml(
    providers: str | None = None,
    secrets: str | None = None,
    rules: str | None = None,
    extra_providers: Sequence[Mapping[str, object]] = (),
) -> Catalog:
    """Build a catalogue from TOML text; None means the packaged file. (Tests feed snippets.)

    The packaged entries' samples run in the test suite; at load time only the samples of
    custom providers (or of every entry, when TOML text is given) run.
    """
    texts_given = any(t is not None for t in (providers, secrets, rules))
    provider_doc = parse_toml(providers, PROVIDERS_FILE)
    _only_tables(provider_doc, PROVIDERS_FILE, ("providers", "widgets", PACKAGE_WORDS))
    packaged = _entries(provider_doc, "providers", parse_provider)
    custom = _parse_all(extra_providers, CUSTOM_PROVIDERS, parse_provider)
    secrets_doc = parse_toml(secrets, SECRETS_FILE)
    catalog = Catalog(
        providers=merge_providers(packaged, custom),
        widgets=_entries(provider_doc, "widgets", parse_widget),
        secrets=_secret_rules(secrets_doc),
        rules=_rules(parse_toml(rules, RULES_FILE)),
        credential_words=_credential_words(secrets_doc),
        package_words=_package_words(provider_doc),
    )
    _check_references(catalog)
    check_hyperscan(hyperscan_patterns(catalog), verified_digests())
    run_samples(catalog, only=None if texts_given else frozenset(p.id for p in custom))
    return catalog


def parse_toml(text: str | None, name: str) -> dict[str, object]:
    """Parse TOML text (None: the packaged file `name`)."""
    if text is None:
        text = resources.files("egressguard.catalog").joinpath(name).read_text("utf-8")
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise CatalogError(f"{name}: not valid TOML ({exc})") from exc


def merge_providers(
    packaged: tuple[Provider, ...], custom: tuple[Provider, ...]
) -> tuple[Provider, ...]:
    """Custom providers replace packaged ones with the same id; new ones are appended."""
    overrides = {p.id: p for p in custom}
    merged = [overrides.pop(p.id, p) for p in packaged]
    return (*merged, *overrides.values())


def _package_words(doc: Mapping[str, object]) -> PackageWords | None:
    table = doc.get(PACKAGE_WORDS)
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise CatalogError(f"{PACKAGE_WORDS}: must be a table ([{PACKAGE_WORDS}])")
    return parse_package_words(Fields(PACKAGE_WORDS, table))


def _credential_words(doc: Mapping[str, object]) -> tuple[str, ...]:
    words = doc.get("credential_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise CatalogError(f"{SECRETS_FILE}: credential_words must be a list of non-empty strings")
    return tuple(words)


def _secret_rules(doc: Mapping[str, object]) -> tuple[SecretRule, ...]:
    _only_tables(doc, SECRETS_FILE, ("secrets", "credential_words"))
    return _entries(doc, "secrets", parse_secret_rule)


def _rules(doc: Mapping[str, object]) -> dict[str, RuleMeta]:
    _only_tables(doc, RULES_FILE, ("rules",))
    rules = {r.id: r for r in _entries(doc, "rules", parse_rule)}
    missing = sorted(REQUIRED_RULE_IDS - set(rules))
    if missing:
        raise CatalogError(
            f"{missing[0]}: rule is emitted by EgressGuard but missing from {RULES_FILE}"
        )
    return rules


def _entries(doc: Mapping[str, object], key: str, parse: Callable[[Fields], T]) -> tuple[T, ...]:
    tables = doc.get(key, [])
    if not isinstance(tables, list):
        raise CatalogError(f"{key}: must be an array of tables ([[{key}]])")
    return _parse_all(tables, key, parse)


def _parse_all(tables: Iterable[object], where: str, parse: Callable[[Fields], T]) -> tuple[T, ...]:
    seen: set[str] = set()
    out: list[T] = []
    for i, table in enumerate(tables):
        eid = entry_id(table, f"{where}[{i}]")
        if eid in seen:
            raise CatalogError(f"{eid}: duplicate id in {where}")
        seen.add(eid)
        assert isinstance(table, Mapping)
        out.append(parse(Fields(eid, table)))
    return tuple(out)


def _only_tables(doc: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise CatalogError(f"{name}: unknown top-level key(s) {', '.join(map(repr, unknown))}")


def _check_references(catalog: Catalog) -> None:
    ids = {p.id for p in catalog.providers}
    for widget in catalog.widgets:
        if widget.id in ids:
            raise CatalogError(f"{widget.id}: a widget and a provider share this id")
    for rule in catalog.secrets:
        if rule.provider and rule.provider not in ids:
            raise CatalogError(f"{rule.id}: unknown provider {rule.provider!r}")


@functools.cache
def verified_digests() -> frozenset[str]:
    """Digests of the packaged patterns the test suite proved to compile in Hyperscan."""
    doc = parse_toml(None, VERIFIED_FILE)
    digests = doc.get("digests", [])
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise CatalogError(f"{VERIFIED_FILE}: 'digests' must be a list of strings")
    return frozenset(digests)


def hyperscan_patterns(catalog: Catalog) -> list[Checked]:
    """Every regex of the catalogue as Hyperscan would compile it, named by entry id."""
    out: list[Checked] = []
    owners: list[Provider | Widget] = [*catalog.providers, *catalog.widgets]
    for owner in owners:
        out += [(owner.id, f"hosts[{i}]", _anchored(r.pattern)) for i, r in enumerate(owner.hosts)]
    for rule in catalog.secrets:
        out.append((rule.id, "regex", rule.hs_pattern))
        out += [
            (rule.id, f"needs_context[{i}]", c.encode()) for i, c in enumerate(rule.needs_context)
        ]
    return out


def _anchored(pattern: str) -> bytes:
    return f"^(?:{pattern})$".encode()
