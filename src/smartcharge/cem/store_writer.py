"""The CEM's one store-writer thread: session data group-committed, spooled when the database is down.

* Every write of the CEM goes through this one thread (SQLite allows one writer; a second thread
  would race it for the lock and fail with "database is locked").
* Session writes (transaction events, meter values) waiting together are committed in ONE
  transaction (group commit): one fsync for many stations' messages. Per-message commits capped
  the CEM at a few hundred messages a second on SQLite, and 1,000 reconnecting stations timed out
  behind them (issue 15).
* When the database cannot be reached (``OperationalError``/``InterfaceError``: server stopped,
  restarting, connection lost), session writes go to the local :class:`~smartcharge.store.spool.Spool`
  and are acknowledged only once fsync'd there; the spool is replayed in order as soon as the
  database answers, and on start. While the spool holds anything, new session writes queue
  behind it, so their order is kept.
* Besides session writes, the other durable kinds a station's message can bring while the
  database is down (boot details, connector status, security events) are registered with
  :meth:`StoreWriter.register` and go the same way: stored, or spooled and replayed in order.
  While the database was down the CEM answered a station's handshake with HTTP 500 and dropped
  its boot details and security events (issue 15).
* The queue is bounded (``max_pending``): handlers wait for room instead of growing memory.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from smartcharge.store.session_repo import SessionRepository
from smartcharge.store.spool import Spool, SpooledWrite

logger = logging.getLogger(__name__)

#: Most session writes committed in one transaction.
MAX_BATCH = 500
#: Writes waiting for the writer before submitters wait for room (bounded memory).
DEFAULT_MAX_PENDING = 20_000
#: How often a non-empty spool is retried while the database stays down.
RETRY_S = 1.0
#: Errors that mean "the database cannot be reached now" (server stopped, restarting, link lost).
UNREACHABLE = (OperationalError, InterfaceError)
_UNREACHABLE = UNREACHABLE
#: Kinds stored by :meth:`SessionRepository.record_batch` in one transaction.
SESSION_KINDS = frozenset({"event", "meter"})


@dataclass
class _Job:
    future: Future[Any]
    session_write: SpooledWrite | None = None
    call: Callable[[], Any] | None = None
    done: bool = field(default=False)


def _settle(future: Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    """Give a job its outcome unless its caller stopped waiting (a handler cancelled when its
    connection closed): setting a cancelled future raises and would end the writer thread."""
    if future.done():
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # cancelled between the check and the set
        pass


class StoreWriter:
    """Run store writes on one thread; ``submit_session`` / ``submit_call`` return futures."""

    def __init__(
        self, sessions: SessionRepository, spool: Spool | None, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        self._sessions = sessions
        self.spool = spool
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self.batches = 0
        self.spooled = 0
        self.replayed = 0
        #: Writes the spool held that could not be stored for a reason other than the database
        #: being unreachable (logged with the reason; counted so a drill can see none).
        self.replay_failed = 0
        self._handlers: dict[str, Callable[[Any], Any]] = {}
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # ---- submitting (event loop side) -------------------------------------------------------

    async def _submit(self, job: _Job) -> Any:
        while True:
            try:
                self._queue.put_nowait(job)
                break
            except queue.Full:
                await asyncio.sleep(0.01)  # back-pressure: the handler waits, memory stays bounded
        return await asyncio.wrap_future(job.future)

    def register(self, kind: str, store: Callable[[Any], Any]) -> None:
        """Make ``kind`` a durable write: ``store(item)`` runs on the writer thread, and when the
        database cannot be reached the item is spooled and replayed like session writes."""
        if kind in SESSION_KINDS:
            raise ValueError(f"{kind} is a session kind")
        self._handlers[kind] = store

    async def session_write(self, kind: str, item: Any) -> Any:
        """A durable write (session data, or a kind given to :meth:`register`): acknowledged once
        it is committed or spooled."""
        return await self._submit(_Job(Future(), session_write=(kind, item)))

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._submit(_Job(Future(), call=lambda: fn(*args)))

    def submit_nowait(self, fn: Callable[[], Any]) -> None:
        """Queue ``fn`` without waiting for it (the security log's deferred count flush)."""
        self._queue.put(_Job(Future(), call=fn))

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    # ---- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        # The first replay waits one interval: the owner registers its kinds right after start.
        last_try = time.monotonic()
        while True:
            jobs: list[_Job] = []
            try:
                first = self._queue.get(timeout=RETRY_S)
                if first is None:
                    return
                jobs.append(first)
            except queue.Empty:
                pass  # idle: only the spool to retry
            while len(jobs) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._execute(jobs)
                    return
                jobs.append(job)
            if self.spool is not None and len(self.spool) and time.monotonic() - last_try >= RETRY_S:
                last_try = time.monotonic()
                self._replay()
            self._execute(jobs)

    def _execute(self, jobs: list[_Job]) -> None:
        writes = [j for j in jobs if j.session_write is not None]
        if writes:
            self._commit_session_writes(writes)
        for job in jobs:
            if job.call is not None:
                try:
                    _settle(job.future, result=job.call())
                except Exception as error:  # handed to the awaiting coroutine, which decides
                    _settle(job.future, error=error)

    @staticmethod
    def _groups(kinds: list[str]) -> list[list[int]]:
        """Indices of the writes to store together: every session write in ONE group (group
        commit: one transaction for many stations' messages, in their order), then each other
        write alone (they go to other tables through their own repositories, and their order
        relative to session writes does not matter: different rows)."""
        session = [i for i, kind in enumerate(kinds) if kind in SESSION_KINDS]
        return ([session] if session else []) + [
            [i] for i, kind in enumerate(kinds) if kind not in SESSION_KINDS
        ]

    def _store(self, items: list[SpooledWrite]) -> list[Any]:
        """Store ``items`` (all session kinds, or one registered kind); raises what the store raises."""
        kind = items[0][0]
        if kind in SESSION_KINDS:
            return self._sessions.record_batch(items)
        handler = self._handlers.get(kind)
        if handler is None:
            raise LookupError(f"no store for durable write kind {kind!r}")
        return [handler(items[0][1])]

    def _commit_session_writes(self, jobs: list[_Job]) -> None:
        items = [j.session_write for j in jobs if j.session_write is not None]
        if self.spool is not None and len(self.spool):
            self._spool(jobs, items)  # keep the order: behind what is spooled already
            return
        groups = self._groups([kind for kind, _ in items])
        for n, group in enumerate(groups):
            try:
                results = self._store([items[i] for i in group])
            except _UNREACHABLE as error:
                rest = [i for g in groups[n:] for i in g]
                if self.spool is None:
                    for i in rest:
                        _settle(jobs[i].future, error=error)
                    return
                logger.warning(
                    "database unreachable (%s): spooling %d write(s)", type(error).__name__, len(rest)
                )
                self._spool([jobs[i] for i in rest], [items[i] for i in rest])
                return
            except Exception as error:
                if len(group) == 1:
                    _settle(jobs[group[0]].future, error=error)
                    continue
                # One bad write must not sink the others: commit them one by one.
                for i in group:
                    self._commit_one(jobs[i])
                continue
            if items[group[0]][0] in SESSION_KINDS:
                self.batches += 1
            for i, result in zip(group, results, strict=True):
                _settle(jobs[i].future, result=result)

    def _commit_one(self, job: _Job) -> None:
        assert job.session_write is not None
        try:
            _settle(job.future, result=self._store([job.session_write])[0])
        except Exception as error:
            _settle(job.future, error=error)

    def _spool(self, jobs: list[_Job], items: list[SpooledWrite]) -> None:
        assert self.spool is not None
        try:
            self.spool.append(items)
        except OSError as error:
            for job in jobs:
                _settle(job.future, error=error)
            return
        self.spooled += len(items)
        for job in jobs:
            _settle(job.future, result=True)

    def _replay(self) -> None:
        """Move the spool into the database, in order, in batches; stop at the first write the
        database cannot take now. A write refused for another reason (it can never be stored:
        e.g. boot details of a station erased meanwhile) is logged and passed over, so it does
        not hold up the rest for ever."""
        assert self.spool is not None
        writes = self.spool.read()
        done = 0
        try:
            for first in range(0, len(writes), MAX_BATCH):
                chunk = writes[first : first + MAX_BATCH]
                if any(k not in SESSION_KINDS and k not in self._handlers for k, _ in chunk):
                    return  # an owner has not registered its kind yet: retried at the next interval
                for group in self._groups([kind for kind, _ in chunk]):
                    batch = [chunk[i] for i in group]
                    try:
                        self._store(batch)
                    except _UNREACHABLE:
                        raise
                    except Exception:
                        self._replay_one_by_one(batch)
                done = first + len(chunk)
        except _UNREACHABLE:
            pass
        finally:
            if done:
                self.spool.clear(done)
                self.replayed += done
                logger.info("spool: %d write(s) replayed into the database, %d left", done, len(self.spool))

    def _replay_one_by_one(self, batch: list[SpooledWrite]) -> None:
        for write in batch:
            try:
                self._store([write])
            except _UNREACHABLE:
                raise
            except Exception as error:
                self.replay_failed += 1
                logger.error("spool: a %s write cannot be stored, passed over: %s", write[0], error)


__all__ = ["DEFAULT_MAX_PENDING", "MAX_BATCH", "SESSION_KINDS", "UNREACHABLE", "StoreWriter"]
