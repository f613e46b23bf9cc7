"""Every packaged pattern compiles in Hyperscan, and hs_verified.toml lists exactly those."""

from __future__ import annotations

from importlib import resources

from egressguard.catalog import Catalog
from egressguard.catalog.hs_check import VERIFIED_FILE, compiles, digest
from egressguard.catalog.loader import hyperscan_patterns, parse_toml, verified_digests

from .update_hs_verified import render


def test_every_packaged_pattern_compiles_in_hyperscan(catalog: Catalog) -> None:
    failing = [(eid, what) for eid, what, p in hyperscan_patterns(catalog) if not compiles(p)]
    assert failing == []


def test_verified_digests_are_current(catalog: Catalog) -> None:
    expected = {digest(p) for _, _, p in hyperscan_patterns(catalog)}
    assert verified_digests() == expected, (
        "hs_verified.toml is stale: run .venv/bin/python tests/catalog/update_hs_verified.py"
    )
    packaged = resources.files("egressguard.catalog").joinpath(VERIFIED_FILE).read_text("utf-8")
    assert packaged == render()
    assert parse_toml(None, VERIFIED_FILE)["digests"] == sorted(expected)
