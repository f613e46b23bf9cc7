"""SyncAfterWrites: syncs soon after a write, retries a failed sync, syncs once more on stop."""

from __future__ import annotations

import threading
import time

from egressguard.sqlite_wal import SyncAfterWrites


class Store:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.syncs = 0
        self.synced = threading.Event()

    def sync(self) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("busy")
        self.syncs += 1
        self.synced.set()


def test_no_write_no_sync_and_a_write_is_synced_within_the_interval() -> None:
    store = Store()
    syncer = SyncAfterWrites(store.sync, 0.05, name="t", retry_on=(OSError,))
    syncer.start()
    time.sleep(0.15)
    assert store.syncs == 0  # nothing written: no sync
    syncer.wrote()
    assert store.synced.wait(2)
    syncer.stop()


def test_a_failed_sync_is_retried() -> None:
    store = Store(failures=2)
    syncer = SyncAfterWrites(store.sync, 0.02, name="t", retry_on=(OSError,))
    syncer.start()
    syncer.wrote()
    assert store.synced.wait(2) and store.failures == 0
    syncer.stop()


def test_stop_syncs_once_more_and_is_idempotent() -> None:
    store = Store()
    syncer = SyncAfterWrites(store.sync, 60.0, name="t", retry_on=(OSError,))
    syncer.start()
    syncer.wrote()
    syncer.stop()  # does not wait the interval: the last sync runs at once
    assert store.syncs == 1
    syncer.stop()
    assert store.syncs == 1


def test_stop_before_start_does_nothing() -> None:
    store = Store()
    syncer = SyncAfterWrites(store.sync, 0.01, name="t", retry_on=(OSError,))
    syncer.wrote()
    syncer.stop()
    assert store.syncs == 0
