"""The default catalogue is loaded once per process (load time is measured in bench/, not here)."""

from __future__ import annotations

from egressguard.catalog import load_catalog


def test_default_catalogue_is_cached() -> None:
    assert load_catalog() is load_catalog()
