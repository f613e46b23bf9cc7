"""``ChainSink``: the gateway's ``AuditSink`` backed by a chain store.

Two modes.

``durable=True`` (the gateway's): ``emit`` appends the event in the caller's thread and returns
only once its transaction has committed (SQLite: a WAL commit, ``synchronous=NORMAL``), so an
event ``emit`` acknowledged survives the process being killed (SIGKILL, OOM kill) at any later
moment. A failed append raises ``ChainError`` and ``error`` stays set until an append succeeds
(the gateway refuses requests with 503 meanwhile; the refusal's own record is the probe that
clears it). A background thread checkpoints the WAL every ``sync_interval_s`` when something
was written, which fsyncs it: a power loss or kernel crash can lose at most the records of the
last interval. The cost is one small transaction per exchange on the request path
(docs/gateway.md, "Audit durability").

``durable=False``: ``emit`` only puts the event on a bounded queue (microseconds); one worker
thread appends queued events in batches, one transaction per batch. A batch that fails is
retried (with backoff) until it succeeds, or, once the sink is closing, ``close_retries`` more
times; ``close`` drains the queue and raises ``ChainError`` naming how many events could not be
written. Once the store has failed, or when the queue stays full for ``put_timeout_s``, ``emit``
raises ``ChainError`` instead of dropping events. The limit: events still queued when the
process is killed are lost. The worker syncs the store at most every ``sync_interval_s`` too.

Body digests are keyed with ``digest_key`` (``audit_events.to_payload``); without one they are
left out of the trail.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from egressguard.errors import ChainError
from egressguard.gateway.audit_events import AuditEvent, DigestKey, to_payload
from egressguard.sqlite_wal import SyncAfterWrites
from egressguard.store.backend import ChainStore
from egressguard.store.chain import EncodedPayload

_STOP: Final = object()


class ChainSink:
    """An ``AuditSink`` that appends to a ``ChainStore`` (see the module docstring)."""

    def __init__(
        self,
        chain: ChainStore,
        *,
        digest_key: DigestKey | None = None,
        durable: bool = True,
        sync_interval_s: float = 1.0,
        max_queue: int = 10_000,
        max_batch: int = 256,
        put_timeout_s: float = 5.0,
        retry_delays_s: tuple[float, ...] = (0.01, 0.05, 0.2, 1.0),
        close_retries: int = 5,
        payload: Callable[[AuditEvent], dict[str, Any]] | None = None,
    ) -> None:
        self._chain = chain
        self._durable = durable
        self._sync_interval = sync_interval_s
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._max_batch = max_batch
        self._put_timeout = put_timeout_s
        self._delays = retry_delays_s
        self._close_retries = close_retries
        self._payload = payload or (lambda event: to_payload(event, digest_key))
        self._closing = threading.Event()
        self._error: ChainError | None = None
        self._unwritten = 0
        # durable: a thread that syncs what was committed; queued: the worker that appends
        self._syncer = SyncAfterWrites(
            chain.sync, sync_interval_s, name="audit-chain-sync", retry_on=(ChainError,)
        )
        self._worker = threading.Thread(target=self._run, name="audit-chain-sink", daemon=True)
        (self._syncer if durable else self._worker).start()

    @property
    def error(self) -> ChainError | None:
        """The last append failure still unresolved, if any."""
        return self._error

    def emit(self, event: AuditEvent) -> None:
        if self._closing.is_set():
            raise ChainError("the audit sink is closed")
        if self._durable:
            self._append_now(event)
            return
        if self._error is not None:
            raise ChainError(f"the audit store is failing: {self._error}")
        try:
            self._queue.put(event, timeout=self._put_timeout)
        except queue.Full as exc:
            raise ChainError("the audit queue stayed full; the store is too slow") from exc

    def _append_now(self, event: AuditEvent) -> None:
        try:
            payload = EncodedPayload(self._payload(event))  # encoded once, here
        except (TypeError, ValueError) as exc:
            raise ChainError(f"an audit payload cannot be encoded: {exc}") from exc
        try:
            self._chain.append_many([payload])
        except ChainError as exc:
            self._error = exc
            raise
        self._error = None
        self._syncer.wrote()

    def flush(self) -> None:
        """Wait until every event emitted so far is stored (or has failed for good)."""
        self._queue.join()

    def close(self) -> None:
        """Drain the queue, stop the worker; raise if any acknowledged event was not stored."""
        if not self._closing.is_set():
            self._closing.set()
            if self._durable:
                self._syncer.stop()  # it syncs once more and stops
            else:
                self._queue.put(_STOP)
                self._worker.join()
        if self._unwritten:
            raise ChainError(f"{self._unwritten} audit event(s) could not be stored: {self._error}")

    # -- worker ------------------------------------------------------------------------------
    def _next_batch(self) -> tuple[list[AuditEvent], bool]:
        first = self._queue.get()
        batch: list[AuditEvent] = []
        stop = first is _STOP
        if not stop:
            batch.append(first)  # type: ignore[arg-type]  # only events and _STOP are queued
        while not stop and len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
            else:
                batch.append(item)  # type: ignore[arg-type]
        return batch, stop

    def _encodable(self, batch: list[AuditEvent]) -> list[EncodedPayload]:
        """Payloads of the batch; one that cannot be encoded is counted, never retried."""
        payloads = []
        for event in batch:
            try:
                payloads.append(EncodedPayload(self._payload(event)))
            except (TypeError, ValueError) as exc:
                self._error = ChainError(f"an audit payload cannot be encoded: {exc}")
                self._unwritten += 1
        return payloads

    def _store(self, batch: list[AuditEvent]) -> None:
        payloads = self._encodable(batch)
        if not payloads:
            return
        attempt, after_close = 0, 0
        while True:
            try:
                self._chain.append_many(payloads)
                self._error = None
                return
            except ChainError as exc:
                self._error = exc
                if self._closing.is_set():
                    after_close += 1
                    if after_close > self._close_retries:
                        self._unwritten += len(payloads)
                        return
                time.sleep(self._delays[min(attempt, len(self._delays) - 1)])
                attempt += 1

    def _run(self) -> None:
        stop = False
        synced = time.monotonic()
        while not stop:
            batch, stop = self._next_batch()
            if batch:
                self._store(batch)
            if stop or time.monotonic() - synced >= self._sync_interval:
                synced = time.monotonic()
                try:
                    self._chain.sync()
                except ChainError:  # retried after the next batch
                    synced = 0.0
            for _ in range(len(batch) + (1 if stop else 0)):
                self._queue.task_done()
