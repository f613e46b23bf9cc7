"""Custom providers from .egressguard.toml: same schema, merged, same id overrides."""

from __future__ import annotations

import pytest

from egressguard.catalog import Catalog, load_catalog
from egressguard.errors import CatalogError
from egressguard.model import Region

ACME = {
    "id": "acme-llm",
    "name": "ACME LLM gateway",
    "jurisdiction": "DE",
    "region": "eu",
    "eu_option": True,
    "eu_remediation": "Already in the EU.",
    "hosts": [
        {"host": "llm.acme.example"},
        {"pattern": r"[a-z0-9-]+\.us\.llm\.acme\.example", "region": "us"},
    ],
    "sdks": {"composer": ["acme/llm-client"]},
    "keywords": ["acme-llm"],
    "samples": {
        "match": [{"host": "gpu1.us.llm.acme.example", "region": "us"}],
        "no_match": ["llm.acme.example.evil.example"],
    },
}


def test_a_new_provider_is_added(catalog: Catalog) -> None:
    merged = load_catalog([ACME])
    assert [p.id for p in merged.providers] == [p.id for p in catalog.providers] + ["acme-llm"]
    found = merged.classify_host("llm.acme.example:8443")
    assert found is not None and (found.provider.id, found.region) == ("acme-llm", Region.EU)
    sdk = merged.sdk_provider("composer", "acme/llm-client")
    assert sdk is not None and sdk.id == "acme-llm"
    assert ("ai", b"acme-llm", True) in merged.prefilter_literals()


def test_same_id_overrides_the_packaged_provider(catalog: Catalog) -> None:
    override = {**ACME, "id": "openai", "name": "OpenAI via ACME proxy", "samples": {}}
    override["hosts"] = [{"host": "openai-proxy.acme.example", "region": "eu"}]
    merged = load_catalog([override])
    assert len(merged.providers) == len(catalog.providers)
    assert merged.provider("openai").name == "OpenAI via ACME proxy"
    assert merged.classify_host("api.openai.com") is None
    found = merged.classify_host("openai-proxy.acme.example")
    assert found is not None and found.provider.id == "openai"


def test_extras_do_not_touch_the_cached_default(catalog: Catalog) -> None:
    load_catalog([ACME])
    assert load_catalog() is catalog
    assert catalog.classify_host("llm.acme.example") is None


def test_custom_samples_run_at_load() -> None:
    broken = {**ACME, "samples": {"match": [{"host": "llm.acme.example", "region": "us"}]}}
    with pytest.raises(CatalogError, match=r"^acme-llm: sample 'llm.acme.example'"):
        load_catalog([broken])


def test_duplicate_custom_ids() -> None:
    with pytest.raises(CatalogError, match=r"^acme-llm: duplicate id"):
        load_catalog([ACME, ACME])


def test_custom_provider_schema_is_validated() -> None:
    with pytest.raises(CatalogError, match=r"^acme-llm: unknown key\(s\) 'hostz'"):
        load_catalog([{**ACME, "hostz": []}])
    with pytest.raises(CatalogError, match=r"does not compile in Hyperscan"):
        load_catalog([{**ACME, "hosts": [{"pattern": r"llm(?!x)\.acme\.example"}], "samples": {}}])
