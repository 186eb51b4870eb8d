"""The store's entry point: units of work (explicit transactions) over links, audit and tenants.

    store = Store.from_environment()                       # HUBSYNC_DATABASE_URL, HUBSYNC_SECRET_KEY
    upgrade(store.engine)                                  # migrations; the schema is never made any other way
    with store.locked(tenant.id, finding.key) as uow:      # one sync of one finding
        link = uow.links.get(tenant.id, finding.key)
        ...decide, apply...
        uow.links.save(tenant.id, new_link)
        uow.audit.append(entry)
    # leaving the block commits; an exception rolls back

How `locked` serialises concurrent syncs of one finding:
- PostgreSQL: `SELECT … FOR UPDATE` on the link row at the start of the transaction; a second locker of the same
  finding waits until the first commits or rolls back, while syncs of other findings run in parallel. A finding
  with no link yet has no row to lock: there the claim (unique key) is what keeps creation single.
- SQLite: `BEGIN IMMEDIATE`, SQLite's one database-wide write lock, so every write transaction (not only the same
  finding's) runs one at a time; others wait up to the busy timeout. SQLite has no row locks; this is the
  honest equivalent, and right for the single-node default. Run several workers on PostgreSQL.
Every write unit of work on SQLite begins IMMEDIATE for the same reason; `read()` does not, so the web pages
keep reading while a worker writes (WAL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.store.audit import AuditLog
from hubsync.adapters.store.crypto import SecretBox
from hubsync.adapters.store.database import SQLITE_BEGIN_OPTION, create_engine, database_url, is_sqlite
from hubsync.adapters.store.links import DEFAULT_CLAIM_LEASE, LinkStore
from hubsync.adapters.store.models import LinkRow
from hubsync.adapters.store.tenants import TenantStore
from hubsync.domain.link import Link, LinkState


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Transaction:
    """The connection's transaction, and the finding lock it takes again after every commit."""

    def __init__(self, connection: sa.Connection, lock: tuple[str, str] | None) -> None:
        self.connection = connection
        self._lock = lock

    def begin(self) -> None:
        self.connection.begin()
        if self._lock is not None and not is_sqlite(self.connection):
            tenant_id, finding_key = self._lock
            self.connection.execute(
                sa.select(LinkRow.version)
                .where(LinkRow.tenant_id == tenant_id, LinkRow.finding_key == finding_key)
                .with_for_update()
            )

    def commit_and_continue(self) -> None:
        self.connection.commit()
        self.begin()


class UnitOfWork:
    """One transaction (and, from `Store.locked`, one finding's lock) shared by the three repositories."""

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
        """Make everything so far durable, and carry on in a new transaction that takes the same lock again.
        (`LinkStore.claim` does this so a claim outlives a crash during Jira's create.)"""
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

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, sandbox: bool = False) -> Store:
        """The store named by HUBSYNC_DATABASE_URL (default: ./var/hubsync.sqlite3) with secrets encrypted under
        HUBSYNC_SECRET_KEY; missing that key is an error unless `sandbox` (sandbox and demo only)."""
        secret_box = SecretBox.from_environment(environ, sandbox=sandbox)
        return cls(create_engine(database_url(environ)), secret_box)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A write unit of work: commits when the block ends, rolls back if it raises."""
        with self._unit(self._writer, lock=None) as uow:
            yield uow

    @contextmanager
    def locked(self, tenant_id: str, finding_key: str) -> Iterator[UnitOfWork]:
        """A write unit of work that holds the finding's lock until it ends (see the module docstring)."""
        with self._unit(self._writer, lock=(tenant_id, finding_key)) as uow:
            yield uow

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A unit of work for reading (panels, listings): never waits for a writer. Writes do not belong here."""
        with self._unit(self._reader, lock=None) as uow:
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

    def unfinished_claims(self, tenant_id: str, *, limit: int = 500) -> list[Link]:
        """Claims left by crashed attempts (lease expired), for the reconciler to resolve in a batch."""
        with self.read() as uow:
            return uow.links.unfinished_claims(tenant_id, limit=limit)

    def dispose(self) -> None:
        """Close pooled connections (on shutdown, and in tests)."""
        self.engine.dispose()

    @contextmanager
    def _unit(self, engine: Engine, lock: tuple[str, str] | None) -> Iterator[UnitOfWork]:
        with engine.connect() as connection:
            transaction = _Transaction(connection, lock)
            transaction.begin()
            uow = UnitOfWork(transaction, self._secret_box, self._clock, self._claim_lease)
            try:
                yield uow
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
