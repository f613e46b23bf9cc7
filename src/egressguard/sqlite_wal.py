"""Shared SQLite set-up for the gateway's vault and the audit chain."""

from __future__ import annotations

import sqlite3
import time

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
