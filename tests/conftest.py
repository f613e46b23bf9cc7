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


# --- PostgreSQL -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_dsn() -> object:
    """A real PostgreSQL server on loopback for the session (tests/pg_server.py); its DSN is
    also put in $EGRESSGUARD_TEST_PG_DSN for child processes."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from tests.pg_server import ENV_DSN, postgres_server

    base = Path(tempfile.mkdtemp(prefix="eg-pg-"))
    base.chmod(0o755)  # the server runs as `postgres` when the tests run as root
    try:
        with postgres_server(base / "pg") as dsn:
            os.environ[ENV_DSN] = dsn
            yield dsn
    finally:
        shutil.rmtree(base, ignore_errors=True)
