"""PostgreSQL specifics beyond the shared contract: errors never show the password; the
schema is applied once however many instances start; two instances write one chain."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from egressguard.errors import ChainError
from egressguard.store.postgres import PostgresChain
from tests.store.backends import pg_dsn_for


def test_unreachable_server_error_hides_the_password() -> None:
    dsn = "postgresql://eg:s3cret-pw@127.0.0.1:1/egressguard?connect_timeout=1"
    with pytest.raises(ChainError) as caught:
        PostgresChain(dsn, timeout_s=2)
    assert "s3cret-pw" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_instances_start_together_and_share_one_chain(pg_dsn: str, tmp_path: Path) -> None:
    dsn = pg_dsn_for(tmp_path)
    stores: list[PostgresChain] = []
    lock = threading.Lock()

    def start() -> None:
        store = PostgresChain(dsn)  # every instance runs the migration at start
        with lock:
            stores.append(store)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        writers = [
            threading.Thread(
                target=lambda s=s, i=i: [s.append({"tenant": f"i{i}", "n": n}) for n in range(25)]
            )
            for i, s in enumerate(stores)
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        report = stores[0].verify()
        assert report.ok and report.count == 100
        assert stores[3].head() == stores[1].head()
    finally:
        for s in stores:
            s.close()


def test_failed_open_leaves_no_pool_behind() -> None:
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ChainError):
            PostgresChain("postgresql://eg@127.0.0.1:1/x?connect_timeout=1", timeout_s=1)
        gc.collect()
