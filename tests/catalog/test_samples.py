"""Every entry's own samples: providers and widgets (host -> entry/region), secret rules."""

from __future__ import annotations

import hyperscan
import pytest

from egressguard.catalog import Catalog, find_secrets, load_catalog
from egressguard.catalog.schema import SecretRule

_CATALOG = load_catalog()
PROVIDER_MATCH = [(p.id, s.host, s.region) for p in _CATALOG.providers for s in p.samples.match]
PROVIDER_NO_MATCH = [(p.id, h) for p in _CATALOG.providers for h in p.samples.no_match]
WIDGET_MATCH = [(w.id, s.host, s.region) for w in _CATALOG.widgets for s in w.samples.match]
WIDGET_NO_MATCH = [(w.id, h) for w in _CATALOG.widgets for h in w.samples.no_match]
SECRET_MATCH = [(r.id, i) for r in _CATALOG.secrets for i in range(len(r.samples.match))]
SECRET_NO_MATCH = [(r.id, i) for r in _CATALOG.secrets for i in range(len(r.samples.no_match))]


def _rule(catalog: Catalog, rule_id: str) -> SecretRule:
    return next(r for r in catalog.secrets if r.id == rule_id)


@pytest.mark.parametrize(("provider_id", "host", "region"), PROVIDER_MATCH)
def test_provider_sample_matches(
    catalog: Catalog, provider_id: str, host: str, region: str
) -> None:
    found = catalog.classify_host(host)
    assert found is not None
    assert (found.provider.id, found.region) == (provider_id, region)


@pytest.mark.parametrize(("provider_id", "host"), PROVIDER_NO_MATCH)
def test_provider_sample_does_not_match(catalog: Catalog, provider_id: str, host: str) -> None:
    found = catalog.classify_host(host)
    assert found is None or found.provider.id != provider_id


@pytest.mark.parametrize(("widget_id", "host", "region"), WIDGET_MATCH)
def test_widget_sample_matches(catalog: Catalog, widget_id: str, host: str, region: str) -> None:
    widget = catalog.classify_widget(host)
    assert widget is not None
    assert widget.id == widget_id
    assert catalog.widget_region(host) == region


@pytest.mark.parametrize(("widget_id", "host"), WIDGET_NO_MATCH)
def test_widget_sample_does_not_match(catalog: Catalog, widget_id: str, host: str) -> None:
    widget = catalog.classify_widget(host)
    assert widget is None or widget.id != widget_id


def _hyperscan_hits(rule: SecretRule, text: str) -> int:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[rule.hs_pattern], ids=[0], flags=[0])
    hits: list[int] = []

    def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: object) -> None:
        hits.append(end)

    db.scan(text.encode(), match_event_handler=on_match)
    return len(hits)


@pytest.mark.parametrize(("rule_id", "index"), SECRET_MATCH)
def test_secret_sample_matches(catalog: Catalog, rule_id: str, index: int) -> None:
    rule = _rule(catalog, rule_id)
    text = rule.samples.match[index]
    found = list(find_secrets(rule, text))
    assert found, "the Python regex + entropy + placeholder filter + context find no key"
    for offset, secret in found:
        assert text[offset : offset + len(secret)] == secret
        assert not rule.keywords or any(k in secret for k in rule.keywords)
    assert _hyperscan_hits(rule, text), "the Hyperscan form of the rule does not match"
    prefixes = [k.encode() for k in rule.keywords] + [k.encode() for k in rule.context_keywords]
    assert not prefixes or any(p in text.lower().encode() or p in text.encode() for p in prefixes)


@pytest.mark.parametrize(("rule_id", "index"), SECRET_NO_MATCH)
def test_secret_sample_does_not_match(catalog: Catalog, rule_id: str, index: int) -> None:
    rule = _rule(catalog, rule_id)
    assert list(find_secrets(rule, rule.samples.no_match[index])) == []


def test_every_entry_has_samples(catalog: Catalog) -> None:
    for provider in catalog.providers:
        if provider.hosts:
            assert provider.samples.match and provider.samples.no_match, provider.id
    for widget in catalog.widgets:
        assert widget.samples.match and widget.samples.no_match, widget.id
    for rule in catalog.secrets:
        assert rule.samples.match and rule.samples.no_match, rule.id
