"""docs/providers.md is generated from the catalogue and must be current."""

from __future__ import annotations

from egressguard.catalog import Catalog

from .providers_doc import render, target


def test_providers_doc_is_current(catalog: Catalog) -> None:
    assert target().read_text("utf-8") == render(catalog), (
        "docs/providers.md is stale: run .venv/bin/python tests/catalog/providers_doc.py"
    )


def test_every_provider_is_documented(catalog: Catalog) -> None:
    text = target().read_text("utf-8")
    ids = [p.id for p in catalog.providers] + [w.id for w in catalog.widgets]
    for entry_id in ids:
        assert f"(`{entry_id}`)" in text
