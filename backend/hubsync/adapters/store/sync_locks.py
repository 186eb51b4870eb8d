"""Sync locks: syncs of one finding run one after the other, whichever worker, event or reconcile started them.

A sync reads both sides, decides, then writes to Jira and Security Hub for seconds; two syncs of one finding
interleaving there could both decide on the same stale state (two comments, a move undone). So a batch of syncs
holds the lock of each of its findings from the first read to the last save.

- PostgreSQL: session-level advisory locks (`pg_advisory_lock`) on a connection of their own, one per finding.
  Unlike a row lock they exist before the finding has a link row (its first sync creates the ticket), and they
  hold no transaction open while Jira and Security Hub are called. Keys are taken in sorted order, so two batches
  sharing findings never deadlock; `lock_timeout` bounds the wait, after which the batch fails and its hints are
  retried.
- SQLite: a lock per finding inside this process. SQLite is the single-node default; several worker processes
  need PostgreSQL (the claim still keeps ticket creation single across processes).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.domain.sync_locks import HeldLocks, SyncLockLost, SyncLockTimeout

DEFAULT_LOCK_TIMEOUT_S = 300.0


def lock_id(tenant_id: str, finding_key: str) -> int:
    """A finding's advisory lock number: 64 bits of sha256, signed as PostgreSQL's bigint wants."""
    digest = hashlib.sha256(f"{tenant_id}\n{finding_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SyncLocks:
    def __init__(self, engine: Engine, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._local = _process_locks(str(engine.url)) if engine.dialect.name == "sqlite" else None

    @contextmanager
    def hold(self, tenant_id: str, finding_keys: Iterable[str]) -> Iterator[HeldLocks]:
        """Hold these findings' locks until the block ends."""
        ids = sorted({lock_id(tenant_id, key) for key in finding_keys})
        if not ids:
            yield HeldLocks()
        elif self._local is not None:
            with self._local.hold(ids, self._timeout_s):
                yield HeldLocks()  # a process's own locks end only with it
        else:
            with self._advisory(ids) as held:
                yield held

    @contextmanager
    def _advisory(self, ids: list[int]) -> Iterator[HeldLocks]:
        with self._engine.connect() as connection:
            try:
                connection.execute(sa.text("SELECT set_config('lock_timeout', :t, false)"),
                                   {"t": f"{int(self._timeout_s * 1000)}ms"})
                for number in ids:
                    try:
                        connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": number})
                    except sa.exc.OperationalError as exc:
                        if not _lock_timeout(exc):
                            raise
                        raise SyncLockTimeout(f"a finding stayed locked by another sync for {self._timeout_s:g} s") \
                            from exc
                connection.commit()  # session locks outlive the transaction: do not sit "idle in transaction"
                yield HeldLocks(lambda: _verify_advisory(connection, len(ids)))
            finally:
                _unlock_all(connection)


def _lock_timeout(error: sa.exc.OperationalError) -> bool:
    """PostgreSQL's lock_not_available (55P03), as opposed to a connection that failed."""
    return getattr(error.orig, "sqlstate", None) == "55P03"


def _verify_advisory(connection: sa.Connection, expected: int) -> None:
    """The session still answers and still holds every lock it took."""
    try:
        held = connection.execute(
            sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND granted")
        ).scalar_one()
        connection.commit()
    except sa.exc.DBAPIError as exc:
        raise SyncLockLost(f"the database session holding the findings' sync locks is gone: {exc}") from exc
    if held < expected:
        raise SyncLockLost(f"the findings' sync locks were lost ({held} of {expected} held)")


def _unlock_all(connection: sa.Connection) -> None:
    """Give the locks back. A session the database already ended holds none: nothing to do, nothing to report."""
    try:
        connection.rollback()
        connection.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        connection.execute(sa.text("RESET lock_timeout"))
        connection.commit()
    except sa.exc.DBAPIError:
        connection.invalidate()


class _ProcessLocks:
    """Per-finding locks for one SQLite database inside this process; entries vanish when nobody holds them."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, ids: list[int], timeout_s: float) -> Iterator[None]:
        with ExitStack() as held:
            for number in ids:
                lock = self._enter(number)
                held.callback(self._leave, number)
                if not lock.acquire(timeout=timeout_s):
                    raise SyncLockTimeout(f"a finding stayed locked by another sync for {timeout_s:g} s")
                held.callback(lock.release)
            yield

    def _enter(self, number: int) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(number, (None, 0))
            lock = lock or threading.Lock()
            self._locks[number] = (lock, users + 1)
            return lock

    def _leave(self, number: int) -> None:
        with self._guard:
            lock, users = self._locks[number]
            if users == 1:
                del self._locks[number]
            else:
                self._locks[number] = (lock, users - 1)


_registry_guard = threading.Lock()
_registry: dict[str, _ProcessLocks] = {}


def _process_locks(database: str) -> _ProcessLocks:
    """One lock table per SQLite database, shared by every Store of the process that opens it."""
    with _registry_guard:
        return _registry.setdefault(database, _ProcessLocks())
