"""Shared pytest configuration. Several areas add to this file: append, don't rewrite."""

from __future__ import annotations

import pytest


# --- golden files (tests/golden/) -------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with --update-golden."""
    return bool(request.config.getoption("--update-golden"))


# --- scan history -----------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Scans the tests run record their history here, never in the user's state directory."""
    import os

    os.environ["EGRESSGUARD_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
