"""Many writers on one chain (threads, real processes): no fork, nothing lost, verify ok."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections import Counter
from pathlib import Path

from tests.store.backends import Backend, append_from_worker


def _check(backend: Backend, tmp_path: Path, writers: int, per_writer: int) -> None:
    store = backend.open(tmp_path)
    try:
        records = list(store.records())
        report = store.verify()
    finally:
        store.close()
    assert report.ok, report.reason
    assert report.count == writers * per_writer
    assert [r.seq for r in records] == list(range(1, writers * per_writer + 1))
    per_worker = Counter(r.payload()["tenant"] for r in records)
    assert per_worker == {f"w{w}": per_writer for w in range(writers)}
    for w in range(writers):  # each writer's own records stay in its order
        mine = [r.payload()["n"] for r in records if r.payload()["tenant"] == f"w{w}"]
        assert mine == list(range(per_writer))


def test_threads_sharing_one_store(backend: Backend, tmp_path: Path) -> None:
    store = backend.open(tmp_path)
    writers, per_writer = 8, 50

    def work(worker: int) -> None:
        for n in range(per_writer):
            store.append({"tenant": f"w{worker}", "n": n})

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    _check(backend, tmp_path, writers, per_writer)


def test_threads_with_their_own_stores(backend: Backend, tmp_path: Path) -> None:
    backend.open(tmp_path).close()  # create the schema first
    writers, per_writer = 6, 40
    threads = [
        threading.Thread(
            target=append_from_worker, args=(backend.name, str(tmp_path), w, per_writer)
        )
        for w in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _check(backend, tmp_path, writers, per_writer)


def test_processes_appending_to_one_file(backend: Backend, tmp_path: Path) -> None:
    """Writers pause 1 ms between appends: in a tight loop SQLite's busy handler (sleep and
    retry, no queue) lets one process starve the others, so they would not interleave."""
    writers, per_writer = 4, 100
    context = multiprocessing.get_context("spawn")  # no fork of a threaded pytest process
    start = context.Event()
    processes = [
        context.Process(
            target=append_from_worker,
            args=(backend.name, str(tmp_path), w, per_writer, start, 0.001),
        )
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let every child open the store, then release them together
    start.set()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * writers
    _check(backend, tmp_path, writers, per_writer)
    store = backend.open(tmp_path)
    tenants = [r.payload()["tenant"] for r in store.records()]
    store.close()
    switches = sum(a != b for a, b in itertools.pairwise(tenants))
    assert switches > writers, "the writers did not overlap; the test proved nothing"
