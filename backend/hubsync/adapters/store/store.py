"""The store's entry point: units of work (explicit transactions) over links, audit and tenants.

    store = Store(create_engine(url), SecretBox(keys))     # built by bootstrap.open_store from the settings
    upgrade(store.engine)                                  # migrations; the schema is never made any other way
    with store.serialized(tenant.id, keys):                # syncs of these findings wait for each other
        with store.read() as uow:
            links = uow.links.get_many(tenant.id, keys)
        ...decide, call Jira and Security Hub...
        with store.transaction() as uow:                   # commits when the block ends; rolls back if it raises
            uow.links.save(tenant.id, new_link)
            uow.audit.append(...)

Every write unit of work on SQLite begins IMMEDIATE (SQLite's one write lock, taken up front so two writers never
deadlock on an upgrade); `read()` does not, so the web pages keep reading while a worker writes (WAL). How
`serialized` works on each database is told in `sync_locks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.faults import database_unavailable
from hubsync.adapters.store.audit import AuditLog
from hubsync.adapters.store.crypto import SecretBox
from hubsync.adapters.store.database import SQLITE_BEGIN_OPTION
from hubsync.adapters.store.links import DEFAULT_CLAIM_LEASE, LinkStore
from hubsync.adapters.store.sync_locks import SyncLocks
from hubsync.adapters.store.tenants import TenantStore
from hubsync.domain.link import Link, LinkState
from hubsync.domain.sync_locks import HeldLocks


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Transaction:
    """The connection's transaction, which a claim commits and carries on (see `UnitOfWork.commit`)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def commit_and_continue(self) -> None:
        self.connection.commit()
        self.connection.begin()


class UnitOfWork:
    """One transaction shared by the three repositories."""

    def __init__(
        self,
        transaction: _Transaction,
        secret_box: SecretBox | None,
        clock: Callable[[], datetime],
        claim_lease: timedelta,
    ) -> None:
        self._transaction = transaction
        connection = transaction.connection
        self.links = LinkStore(connection, clock, claim_lease, commit=transaction.commit_and_continue)
        self.audit = AuditLog(connection, clock)
        self.tenants = TenantStore(connection, secret_box, clock)

    def commit(self) -> None:
        """Make everything so far durable and carry on in a new transaction (`LinkStore.claim` does this so a
        claim outlives a crash during Jira's create)."""
        self._transaction.commit_and_continue()


class Store:
    """Links, audit and tenants on one database. Thread-safe: each unit of work has its own connection."""

    def __init__(
        self,
        engine: Engine,
        secret_box: SecretBox | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        claim_lease: timedelta = DEFAULT_CLAIM_LEASE,
    ) -> None:
        self.engine = engine
        self._secret_box = secret_box
        self._clock = clock
        self._claim_lease = claim_lease
        self._writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._reader = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        self._sync_locks = SyncLocks(engine)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A write unit of work: commits when the block ends, rolls back if it raises."""
        with self._unit(self._writer) as uow:
            yield uow

    @contextmanager
    def serialized(self, tenant_id: str, finding_keys: Iterable[str]) -> Iterator[HeldLocks]:
        """Hold these findings' sync locks until the block ends: a second sync of any of them waits for this one
        and then reads what it wrote. Syncs of other findings do not wait. `verify()` the locks before a step
        that must not run twice."""
        with self._sync_locks.hold(tenant_id, finding_keys) as held:
            yield held

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A unit of work for reading (panels, listings): never waits for a writer. Writes do not belong here."""
        with self._unit(self._reader) as uow:
            yield uow

    def iter_links(
        self, tenant_id: str, *, batch: int = 500, states: Sequence[LinkState] | None = None
    ) -> Iterator[Link]:
        """Every link of a tenant in finding-key order, `batch` rows at a time, each page in its own short read
        transaction: constant memory, and no transaction held open while the caller works on the links."""
        after: str | None = None
        while True:
            with self.read() as uow:
                page = uow.links.page(tenant_id, after=after, limit=batch, states=states)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].finding_key

    @staticmethod
    def unavailable(error: BaseException) -> bool:
        return database_unavailable(error)

    def ping(self) -> None:
        """Raise unless the database answers a query now (the readiness probe)."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        """Close pooled connections (on shutdown, and in tests)."""
        self.engine.dispose()

    @contextmanager
    def _unit(self, engine: Engine) -> Iterator[UnitOfWork]:
        with engine.connect() as connection:
            transaction = _Transaction(connection)
            connection.begin()
            uow = UnitOfWork(transaction, self._secret_box, self._clock, self._claim_lease)
            try:
                yield uow
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
