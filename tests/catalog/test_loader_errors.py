"""Broken data is a CatalogError whose message starts with the id of the broken entry."""

from __future__ import annotations

from importlib import resources

import pytest

from egressguard.catalog import catalog_from_toml
from egressguard.errors import CatalogError


def _packaged(name: str) -> str:
    return resources.files("egressguard.catalog").joinpath(name).read_text("utf-8")


PROVIDERS = _packaged("providers.toml")
SECRETS = _packaged("secrets.toml")
RULES = _packaged("rules.toml")

GOOD_PROVIDER = """
[[providers]]
id = "acme-llm"
name = "ACME LLM"
jurisdiction = "DE"
region = "eu"
eu_option = true
eu_remediation = "Already EU."
hosts = [{ host = "llm.acme.example" }]
"""


def _provider(**changes: str) -> str:
    """GOOD_PROVIDER with `key = value` lines replaced (or added) as raw TOML."""
    lines = GOOD_PROVIDER.strip().splitlines()
    for key, value in changes.items():
        lines = [line for line in lines if not line.startswith(f"{key} =")]
        if value:
            lines.append(f"{key} = {value}")
    return PROVIDERS + "\n" + "\n".join(lines) + "\n"


def _error(
    providers: str | None = None, secrets: str | None = None, rules: str | None = None
) -> str:
    with pytest.raises(CatalogError) as info:
        catalog_from_toml(providers=providers, secrets=secrets, rules=rules)
    return str(info.value)


def test_a_good_extra_provider_loads() -> None:
    catalog = catalog_from_toml(providers=_provider())
    found = catalog.classify_host("llm.acme.example")
    assert found is not None and found.provider.id == "acme-llm"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"regoin": '"eu"'}, "unknown key(s) 'regoin'"),
        ({"name": ""}, "missing required key(s) 'name'"),
        ({"region": '"mars"'}, "'region' = 'mars' is not one of"),
        ({"eu_option": '"yes"'}, "'eu_option' must be true or false"),
        ({"jurisdiction": '"Germany"'}, "ISO 3166"),
        ({"hosts": '[{ pattern = "llm(" }]'}, "not a valid Python regex"),
        ({"hosts": '[{ pattern = "llm(?=x)\\\\.acme" }]'}, "does not compile in Hyperscan"),
        ({"hosts": '[{ host = "LLM.acme.example" }]'}, "lower-case host name"),
        ({"hosts": '[{ host = "a.example", pattern = "a" }]'}, "exactly one of"),
        ({"hosts": '[{ host = "a.example", region = "moon" }]'}, "hosts[0]: 'region'"),
        ({"hosts": '[{ host = "a.example", port = 70000 }]'}, "'port' must be between"),
        ({"keywords": '["OpenAI"]'}, "must be lower-case"),
        ({"sdks": '{ pypi = ["x"] }'}, "unknown key(s) 'pypi'"),
        ({"requires_path": '"("'}, "not a valid Python regex"),
        (
            {"samples": '{ match = [{ host = "other.example", region = "eu" }] }'},
            "sample 'other.example' should classify as acme-llm/eu, got nothing",
        ),
        (
            {"samples": '{ match = [{ host = "llm.acme.example", region = "us" }] }'},
            "should classify as acme-llm/us, got acme-llm/eu",
        ),
        ({"samples": '{ no_match = ["llm.acme.example"] }'}, "no_match sample"),
        ({"hosts": "[]"}, "at least one of 'hosts', 'sdks' or 'keywords'"),
    ],
)
def test_provider_errors_name_the_entry(changes: dict[str, str], fragment: str) -> None:
    message = _error(providers=_provider(**changes))
    assert message.startswith("acme-llm: ")
    assert fragment in message


def test_duplicate_provider_id() -> None:
    message = _error(providers=PROVIDERS + GOOD_PROVIDER + GOOD_PROVIDER)
    assert message.startswith("acme-llm: duplicate id")


def test_bad_id_is_named() -> None:
    message = _error(providers=_provider(id='"Acme_LLM"'))
    assert message.startswith("Acme_LLM: id must be kebab-case")


def test_missing_id_names_the_position() -> None:
    message = _error(providers=_provider(id=""))
    assert message.startswith("providers[")
    assert "missing or empty 'id'" in message


def test_toml_syntax_error_names_the_file() -> None:
    assert _error(providers="[[providers]\nid = 1").startswith("providers.toml: not valid TOML")


def test_unknown_top_level_table() -> None:
    assert "unknown top-level key(s) 'provider'" in _error(providers="[[provider]]\nid='x'\n")


def test_widget_sharing_a_provider_id() -> None:
    widget = '\n[[widgets]]\nid = "openai"\nname = "X"\njurisdiction = "US"\nregion = "us"\n'
    widget += 'ai = true\nhosts = [{ host = "x.example" }]\n'
    assert _error(providers=PROVIDERS + widget).startswith("openai: a widget and a provider")


GOOD_SECRET = """
[[secrets]]
id = "acme-key"
provider = "openai"
description = "ACME key"
regex = '\\b(?P<secret>acme_[A-Za-z0-9]{32})\\b'
secret_group = "secret"
min_entropy = 3.5
keywords = ["acme_"]
"""


def _secret(extra: str = "", **replace: str) -> str:
    text = GOOD_SECRET
    for old, new in replace.items():
        text = text.replace(old, new)
    return SECRETS + text + extra


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (_secret(regex="pattern"), "unknown key(s) 'pattern'"),
        (_secret(**{"[A-Za-z0-9]{32})": "[A-Za-z0-9]{32}"}), "not a valid Python regex"),
        (_secret(**{"(?P<secret>": "(?<=x)(?P<secret>"}), "does not compile in Hyperscan"),
        (_secret(**{'secret_group = "secret"': 'secret_group = "key"'}), "not a named group"),
        (_secret(**{'secret_group = "secret"': "secret_group = 3"}), "has 1 group(s)"),
        (_secret(**{'provider = "openai"': 'provider = "nobody"'}), "unknown provider 'nobody'"),
        (_secret("needs_context = ['acme']\n"), "go together"),
        (_secret("context_lines = 99\n"), "'context_lines' must be between"),
        (_secret("samples.match = ['acme_short']\n"), "samples.match[0] finds no secret"),
        (
            _secret("samples.no_match = ['k = acme_Zq3xV9mKp2LwR7tYb4NcH8jFd6GsA1eU']\n"),
            "samples.no_match[0] finds a secret",
        ),
        (_secret(**{"min_entropy = 3.5": 'min_entropy = "high"'}), "'min_entropy' must be"),
    ],
)
def test_secret_errors_name_the_entry(text: str, fragment: str) -> None:
    message = _error(secrets=text)
    assert message.startswith("acme-key: ")
    assert fragment in message


GOOD_RULE = """
[[rules]]
id = "acme-rule"
kind = "secret"
severity = "high"
title = "T"
description = "D"
remediation = "R"
[rules.frameworks]
gdpr = ["Art. 32(1)(b)"]
"""


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('kind = "secret"', 'kind = "secrets"', "'kind' = 'secrets' is not one of"),
        ('severity = "high"', 'severity = "severe"', "'severity' = 'severe'"),
        ('gdpr = ["Art. 32(1)(b)"]', 'gdpr = ["Article 32"]', "not in the crosswalk's format"),
        ('gdpr = ["Art. 32(1)(b)"]', 'iso = ["5.17"]', "unknown key(s) 'iso'"),
        ('title = "T"', 'title = ""', "'title' must not be empty"),
        ('remediation = "R"', 'remediation = "R"\ndata_categories = ["gossip"]', "'gossip'"),
    ],
)
def test_rule_errors_name_the_entry(old: str, new: str, fragment: str) -> None:
    message = _error(rules=RULES + GOOD_RULE.replace(old, new))
    assert message.startswith("acme-rule: ")
    assert fragment in message


def test_a_required_rule_id_cannot_be_dropped() -> None:
    text = RULES.replace('id = "ai-prompt-logged"', 'id = "ai-prompt-logged-renamed"')
    assert _error(rules=text).startswith("ai-prompt-logged: rule is emitted by EgressGuard")
