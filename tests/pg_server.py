"""A real PostgreSQL server for the tests: initdb in a temporary directory, loopback only.

`EGRESSGUARD_TEST_PG_DSN` points the tests at a server you already run instead. As root
(CI), the server runs as the `postgres` user, which PostgreSQL requires.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_DSN = "EGRESSGUARD_TEST_PG_DSN"


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14"):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin/{name}")
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server(base: Path, *, durable: bool = False) -> Iterator[str]:
    """Start a throwaway server under `base`; yield its DSN; stop it afterwards.

    `durable`: fsync on, as production runs it (benchmarks); the tests run with fsync off."""
    if os.environ.get(ENV_DSN) and not durable:
        yield os.environ[ENV_DSN]
        return
    data, sock = base / "data", base / "sock"
    sock.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(
        _as_owner(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                *([] if durable else ["--no-sync"]),
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    fsync = "" if durable else " -c fsync=off"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock}{fsync} -c max_connections=200"
    subprocess.run(
        _as_owner(
            [
                _bin("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
