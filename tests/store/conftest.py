from __future__ import annotations

import pytest

from tests.store.backends import BACKENDS, Backend


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every chain backend; the contract suite runs once per backend (PostgreSQL: a real
    server started once per session)."""
    if request.param.name == "postgresql":
        request.getfixturevalue("pg_dsn")
    return request.param  # type: ignore[no-any-return]
