"""PHP namespaces of SDKs and AI clients recognised by package name: lookups, samples, errors."""

from __future__ import annotations

from importlib import resources

import pytest

from egressguard.catalog import Catalog, catalog_from_toml, load_catalog
from egressguard.catalog.package_words import check_package_words
from egressguard.catalog.selftest import check_php_samples
from egressguard.errors import CatalogError

_CATALOG = load_catalog()
PHP_MATCH = [(p.id, n) for p in _CATALOG.providers for n in p.samples.php_match]
PHP_NO_MATCH = [(p.id, n) for p in _CATALOG.providers for n in p.samples.php_no_match]
PROVIDERS = resources.files("egressguard.catalog").joinpath("providers.toml").read_text("utf-8")

VENDOR_SDK = """
[[providers]]
id = "acme-ai"
name = "ACME AI"
jurisdiction = "DE"
region = "unknown"
eu_option = false
eu_remediation = "Ask ACME."
sdks = { composer = ["acme/ai-client"] }
"""


@pytest.mark.parametrize(("provider_id", "name"), PHP_MATCH)
def test_php_sample_resolves_to_its_provider(catalog: Catalog, provider_id: str, name: str) -> None:
    found = catalog.php_sdk(name)
    assert found is not None and found.provider.id == provider_id


@pytest.mark.parametrize(("provider_id", "name"), PHP_NO_MATCH)
def test_php_no_match_sample_does_not(catalog: Catalog, provider_id: str, name: str) -> None:
    found = catalog.php_sdk(name)
    assert found is None or found.provider.id != provider_id


def test_every_provider_samples_pass(catalog: Catalog) -> None:
    for provider in catalog.providers:
        check_php_samples(catalog, provider)
    assert catalog.package_words is not None
    check_package_words(catalog.package_words)


def test_longest_namespace_names_the_package(catalog: Catalog) -> None:
    found = catalog.php_sdk("OpenAI\\Laravel\\Facades\\OpenAI")
    assert found is not None and found.sdk.package == "openai-php/laravel"
    found = catalog.php_sdk("\\openai\\client")
    assert found is not None and found.sdk.package == "openai-php/client"


def test_vendor_sdk_without_host(catalog: Catalog) -> None:
    found = catalog.php_sdk("\\Tidycode\\AIClient\\FraudDetectionFactory")
    assert found is not None
    assert (found.provider.id, found.sdk.package, found.namespace) == (
        "tidycode",
        "tidycode/ai-php-sdk",
        "Tidycode\\AIClient",
    )
    assert found.provider.hosts == () and str(found.provider.region) == "unknown"
    assert catalog.sdk_provider("composer", "tidycode/ai-php-sdk") is found.provider
    assert any(m.namespace == "Tidycode\\AIClient" for m in catalog.php_namespaces())


@pytest.mark.parametrize(
    ("package", "word"),
    [
        ("bydn/openai", "openai"),
        ("yu-dev/module-ai-llm", "llm"),
        ("acme/gpt4o-writer", "gpt4o"),
        ("@acme/ai-sdk", "ai-sdk"),
        ("Acme/Claude-Client", "claude"),
        ("tidycode/ai-php-sdk", None),
        ("acme/egyptian-tours", None),
        ("acme/allmighty", None),
        ("acme/module-ai-search-engine", None),
    ],
)
def test_ai_package_word(catalog: Catalog, package: str, word: str | None) -> None:
    assert catalog.ai_package_word(package) == word


def test_namespace_literals_reach_the_prefilter(catalog: Catalog) -> None:
    literals = set(catalog.prefilter_literals())
    assert ("sdk", b"tidycode\\aiclient\\", True) in literals
    assert {("pkg", b"llm", False), ("pkg", b"Llm", False), ("pkg", b"LLM", False)} <= literals


def _error(text: str) -> str:
    with pytest.raises(CatalogError) as info:
        catalog_from_toml(providers=text)
    return str(info.value)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("php_namespaces = { \"acme/ai-client\" = ['\\Acme\\Ai'] }\n"
         "samples.php_match = ['Acme\\Ai\\X']", "is not a PHP namespace"),
        ("php_namespaces = { \"acme/other\" = ['Acme\\Ai'] }\n"
         "samples.php_match = ['Acme\\Ai\\X']", "not one of this provider's composer SDKs"),
        ("php_namespaces = { \"acme/ai-client\" = ['Acme\\Ai'] }", "needs samples.php_match"),
        ("php_namespaces = { \"acme/ai-client\" = ['Acme\\Ai'] }\n"
         "samples.php_match = ['Other\\X']", "should resolve to it"),
        ("php_namespaces = { \"acme/ai-client\" = ['Acme\\Ai'] }\n"
         "samples.php_match = ['Acme\\Ai\\X']\nsamples.php_no_match = ['Acme\\Ai\\Y']",
         "resolves to it"),
    ],
)  # fmt: skip
def test_namespace_errors_name_the_provider(extra: str, fragment: str) -> None:
    message = _error(PROVIDERS + VENDOR_SDK + extra + "\n")
    assert message.startswith("acme-ai") and fragment in message


def test_a_good_vendor_sdk_loads() -> None:
    extra = "php_namespaces = { \"acme/ai-client\" = ['Acme\\Ai'] }\n"
    extra += "samples.php_match = ['Acme\\Ai\\Client']\n"
    catalog = catalog_from_toml(providers=PROVIDERS + VENDOR_SDK + extra)
    found = catalog.php_sdk("acme\\ai\\client")
    assert found is not None and found.provider.id == "acme-ai"


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('words = ["Open AI"]', "must be lower-case"),
        ('words = ["open ai"]', "must be lower-case letters"),
        ('words = ["llm"]\nsamples.match = ["acme/shop"]', "is not recognised"),
        ('words = ["llm"]\nsamples.no_match = ["acme/llm"]', "is recognised"),
        ('wordz = ["llm"]', "unknown key"),
    ],
)
def test_package_word_errors_name_the_table(table: str, fragment: str) -> None:
    head, _, _ = PROVIDERS.partition("[ai_package_names]")
    message = _error(head + "[ai_package_names]\n" + table + "\n")
    assert message.startswith("ai_package_names") and fragment in message
