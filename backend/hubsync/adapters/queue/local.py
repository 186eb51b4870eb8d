"""The local queue: hints in a table of the configured database (SQLite or PostgreSQL), so a restart loses nothing
and one machine needs nothing else.

How workers share it:
- Receiving leases up to `max_hints` hints (a token and an expiry) in one short transaction; acknowledging deletes
  them. A lease that expires (a crashed worker) makes its hints receivable again, with their attempt count carried
  on. A group's hints beyond `max_hints` wait for a later receive (their group is in flight until then). A row that
  does not decode as a hint goes DEAD with the reason; the rest of its batch is delivered.
- `attempts` counts the receives that count: `retry_later(..., counted=False)` (the tenant's side was unreachable)
  gives the receive back, so an outage never uses up a hint's attempts.
- PostgreSQL: candidates are picked `FOR UPDATE SKIP LOCKED`, so workers in many processes take disjoint rows
  without waiting on each other. Two workers could still pick different hints of one group in the same instant;
  a transaction-scoped advisory lock on the group, then a re-check that no hint of it is leased, makes sure only
  one of them leases the group. A group with a leased hint is skipped until that lease is settled or expires.
- SQLite: every write transaction begins IMMEDIATE (one writer at a time), which serialises receives outright.
- Most urgent first (`priority`, then arrival). A hint whose (tenant, event id) was taken in during the dedup
  window is dropped on `put`: a redelivered event is a no-op.
- A receiver waits on a condition that `put` in the same process signals, and polls the table meanwhile (other
  processes, delayed retries coming due).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from hubsync.adapters.queue.port import decode_hint, encode_hint
from hubsync.adapters.store.database import SQLITE_BEGIN_OPTION
from hubsync.adapters.store.models import QueuedHintRow, QueueEventRow
from hubsync.domain.hint import SyncHint
from hubsync.domain.ports import Delivery, QueueUnavailable

log = logging.getLogger(__name__)

READY = "READY"
DEAD = "DEAD"
DEFAULT_LEASE = timedelta(seconds=10)  # kept alive every third of it while a sync runs; a crashed worker's hints
# are back within this
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_DEDUP_WINDOW = timedelta(hours=24)  # EventBridge retries a delivery for up to 24 hours
POLL_SECONDS = 0.5
PRUNE_EVERY = timedelta(minutes=1)
_GROUP_LOCK_CLASS = 0x68627131  # "hbq1": the advisory-lock key space of queue groups (two-int form)

# `__table__` is typed as a FromClause; the declarative models' tables are Tables.
_hints = cast(sa.Table, QueuedHintRow.__table__)
_events = cast(sa.Table, QueueEventRow.__table__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class LocalQueue:
    """`HintQueue` and `HintConsumer` on the database. Thread-safe; share one per process."""

    counts_every_receive = False  # an uncounted retry takes its receive back

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        dedup_window: timedelta = DEFAULT_DEDUP_WINDOW,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._postgres = engine.dialect.name == "postgresql"
        self._clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self._dedup_window = dedup_window
        self._poll_seconds = poll_seconds
        self._arrivals = threading.Condition()
        self._closed = threading.Event()
        self._pruned_at: datetime | None = None

    @property
    def lease_seconds(self) -> float:
        return self.lease.total_seconds()

    # -- producing ------------------------------------------------------------------------------------------
    def put(self, hints: Sequence[SyncHint]) -> None:
        """Commit the hints (on return they survive a crash); hints of an event id seen before are dropped."""
        if not hints:
            return
        now = self._clock()
        rows: list[dict[str, Any]] = []
        with self._transaction() as connection:
            self._prune(connection, now)
            for hint in hints:
                if hint.event_id is not None and not self._first_sight(connection, hint, now):
                    continue
                rows.append(
                    {
                        "tenant_id": hint.tenant_id,
                        "group_key": hint.group_key,
                        "event_id": hint.event_id,
                        "body": encode_hint(hint),
                        "priority": int(hint.priority),
                        "state": READY,
                        "enqueued_at": now,
                        "available_at": now,
                        "attempts": 0,
                    }
                )
            if rows:
                connection.execute(sa.insert(_hints), rows)
        if rows:
            with self._arrivals:
                self._arrivals.notify_all()

    def _first_sight(self, connection: sa.Connection, hint: SyncHint, now: datetime) -> bool:
        dialect = postgresql if self._postgres else sqlite
        statement = dialect.insert(_events).values(tenant_id=hint.tenant_id, event_id=hint.event_id, seen_at=now)
        inserted = statement.on_conflict_do_nothing().returning(_events.c.event_id)
        return connection.execute(inserted).first() is not None

    def _prune(self, connection: sa.Connection, now: datetime) -> None:
        """Forget event ids older than the dedup window (at most once a minute per process)."""
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        connection.execute(sa.delete(_events).where(_events.c.seen_at < now - self._dedup_window))

    # -- consuming ------------------------------------------------------------------------------------------
    def receive(self, max_hints: int, wait_seconds: float) -> list[Delivery]:
        deadline = time.monotonic() + wait_seconds
        while not self._closed.is_set():
            deliveries = self._lease(max_hints)
            remaining = deadline - time.monotonic()
            if deliveries or remaining <= 0:
                return deliveries
            with self._arrivals:
                self._arrivals.wait(min(remaining, self._poll_seconds))
        return []

    def close(self) -> None:
        """Stop handing out work: waiting receivers return at once (a worker shutting down)."""
        self._closed.set()
        with self._arrivals:
            self._arrivals.notify_all()

    def extend(self, deliveries: Sequence[Delivery], seconds: float) -> None:
        until = self._clock() + timedelta(seconds=seconds)
        self._settle(deliveries, {"leased_until": until}, releases=False)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        self._settle(deliveries, None)

    def retry_later(
        self, deliveries: Sequence[Delivery], delay_seconds: float, error: str, *, counted: bool = True
    ) -> None:
        available = self._clock() + timedelta(seconds=delay_seconds)
        values: dict[str, Any] = {"available_at": available, "leased_until": None, "lease_token": None,
                                  "last_error": error}
        if not counted:
            values["attempts"] = _hints.c.attempts - 1
        self._settle(deliveries, values)

    def dead_letter(self, deliveries: Sequence[Delivery], error: str) -> None:
        self._settle(deliveries, {"state": DEAD, "leased_until": None, "lease_token": None, "last_error": error})

    # -- looking in (health, metrics, tests) ------------------------------------------------------------------
    def ready(self) -> bool:
        """The queue's table answers (for /readyz)."""
        with self._engine.connect() as connection:
            connection.execute(sa.select(_hints.c.id).limit(1))
        return True

    def depth(self) -> int:
        """Hints waiting or in flight."""
        with self._engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).where(_hints.c.state == READY)).scalar_one()

    def oldest_age(self) -> float:
        """Seconds the oldest hint waiting or in flight has been on the queue (0 when there is none)."""
        with self._engine.connect() as connection:
            oldest = connection.execute(
                sa.select(sa.func.min(_hints.c.enqueued_at)).where(_hints.c.state == READY)
            ).scalar_one()
        return 0.0 if oldest is None else max(0.0, (self._clock() - oldest).total_seconds())

    def dead(self, limit: int = 100) -> list[tuple[SyncHint | None, str | None]]:
        """Dead-lettered hints with their last error, oldest first (None for a row that is no hint)."""
        statement = (
            sa.select(_hints.c.body, _hints.c.last_error).where(_hints.c.state == DEAD).order_by(_hints.c.id)
        ).limit(limit)
        with self._engine.connect() as connection:
            return [(_decoded(row.body), row.last_error) for row in connection.execute(statement)]

    # -- internals ------------------------------------------------------------------------------------------
    def _lease(self, max_hints: int) -> list[Delivery]:
        now = self._clock()
        token = uuid.uuid4().hex
        with self._transaction() as connection:
            groups = self._free_groups(connection, now, max_hints)
            if not groups:
                return []
            mine = (
                sa.select(_hints.c.id)
                .where(_hints.c.group_key.in_(groups), *_ready(now))
                .order_by(_hints.c.priority, _hints.c.id)
                .limit(max_hints)
                .with_for_update(skip_locked=True)
            )
            leased = sorted(
                connection.execute(
                    sa.update(_hints)
                    .where(_hints.c.id.in_(mine.scalar_subquery()))
                    .values(leased_until=now + self.lease, lease_token=token, attempts=_hints.c.attempts + 1)
                    .returning(_hints.c.id, _hints.c.body, _hints.c.attempts, _hints.c.enqueued_at, _hints.c.priority)
                ).all(),
                key=lambda row: (row.priority, row.id),
            )
            deliveries = []
            for row in leased:
                try:
                    hint = decode_hint(row.body)
                except ValueError as exc:  # written by another version, or damaged: parked, not retried for ever
                    log.error("queued row %s is not a hint hubsync can read (%s): dead-lettered", row.id, exc)
                    connection.execute(
                        sa.update(_hints)
                        .where(_hints.c.id == row.id)
                        .values(state=DEAD, leased_until=None, lease_token=None, last_error=f"undecodable: {exc}")
                    )
                    continue
                deliveries.append(Delivery(hint, f"{row.id}:{token}", row.attempts, row.enqueued_at))
        return deliveries

    def _free_groups(self, connection: sa.Connection, now: datetime, max_hints: int) -> list[str]:
        """Groups with a receivable hint and none in flight, most urgent first; on PostgreSQL, each one locked
        for this transaction so no other receiver leases it at the same time."""
        candidates = (
            sa.select(_hints.c.id, _hints.c.group_key)
            .where(*_ready(now), ~_in_flight(_hints.c.group_key, now))
            .order_by(_hints.c.priority, _hints.c.id)
            .limit(max_hints)
            .with_for_update(skip_locked=True)
        )
        groups = list(dict.fromkeys(row.group_key for row in connection.execute(candidates)))
        if not groups or not self._postgres:
            return groups
        locked = connection.execute(
            sa.text(
                "SELECT g FROM unnest(CAST(:groups AS text[])) AS g "
                "WHERE pg_try_advisory_xact_lock(CAST(:lock_class AS integer), hashtext(g))"
            ),
            {"groups": groups, "lock_class": _GROUP_LOCK_CLASS},
        ).scalars()
        locked_groups = set(locked)
        # Another receiver may have leased one of them after our snapshot and released its group lock on commit.
        busy = set(
            connection.execute(
                sa.select(_hints.c.group_key).where(
                    _hints.c.group_key.in_(locked_groups), _hints.c.state == READY, _hints.c.leased_until >= now
                )
            ).scalars()
        )
        return [group for group in groups if group in locked_groups and group not in busy]

    def _settle(self, deliveries: Sequence[Delivery], values: dict[str, Any] | None, releases: bool = True) -> None:
        """Update (or, with None, delete) the hints still leased under these deliveries' tokens. A hint whose
        lease expired and went to another worker is that worker's now: left alone. `releases`: the group may be
        free now, so wake waiting receivers."""
        if not deliveries:
            return
        by_token: dict[str, list[int]] = defaultdict(list)
        for delivery in deliveries:
            row_id, _, token = delivery.receipt.partition(":")
            by_token[token].append(int(row_id))
        with self._transaction() as connection:
            for token, ids in by_token.items():
                where = (_hints.c.id.in_(ids), _hints.c.lease_token == token)
                if values is None:
                    connection.execute(sa.delete(_hints).where(*where))
                else:
                    connection.execute(sa.update(_hints).where(*where).values(**values))
        if releases:
            with self._arrivals:
                self._arrivals.notify_all()

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """A write transaction; a database that cannot be reached is `QueueUnavailable` (an intake answers 503)."""
        try:
            with self._engine.begin() as connection:
                yield connection
        except (OperationalError, InterfaceError) as exc:
            raise QueueUnavailable(f"the queue's database is unavailable: {exc}") from exc


def _ready(now: datetime) -> tuple[Any, ...]:
    return (
        _hints.c.state == READY,
        _hints.c.available_at <= now,
        sa.or_(_hints.c.leased_until.is_(None), _hints.c.leased_until < now),
    )


def _decoded(body: Any) -> SyncHint | None:
    try:
        return decode_hint(body)
    except ValueError:
        return None


def _in_flight(group_key: Any, now: datetime) -> Any:
    other = _hints.alias("in_flight")
    return sa.exists().where(other.c.group_key == group_key, other.c.state == READY, other.c.leased_until >= now)
