"""Shared SQLite set-up for the gateway's vault and the audit chain, and the thread both use to
checkpoint (and so fsync) their WAL shortly after a write instead of on the writer's path."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

_ATTEMPTS = 50


def enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a connection's database to WAL, retrying while another process holds it:
    `PRAGMA journal_mode` does not wait on the busy handler."""
    for attempt in range(_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.02)


class SyncAfterWrites:
    """A daemon thread that runs `sync` at most `interval_s` after `wrote()` and once more when
    stopped. A `sync` failure of a type in `retry_on` is retried at the next interval; writes
    go on meanwhile (their commits survive a killed process; the sync bounds what a power loss
    can take)."""

    def __init__(
        self,
        sync: Callable[[], None],
        interval_s: float,
        *,
        name: str,
        retry_on: tuple[type[Exception], ...],
    ) -> None:
        self._sync = sync
        self._interval = interval_s
        self._retry_on = retry_on
        self._written = threading.Event()  # written since the last sync
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wrote(self) -> None:
        """Something was committed: sync within `interval_s` (may be called before `start`)."""
        self._written.set()

    def stop(self) -> None:
        """Sync once more and end the thread (idempotent)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._written.set()
        if self._thread.ident is not None:
            self._thread.join()

    def _loop(self) -> None:
        while True:
            self._written.wait()
            closing = self._closing.wait(self._interval)
            self._written.clear()
            try:
                self._sync()
            except self._retry_on:
                self._written.set()
            if closing:
                return
