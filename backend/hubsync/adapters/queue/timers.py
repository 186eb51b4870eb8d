"""Periodic jobs shared by every worker process: whoever moves a timer's due time on runs the job, once.

Each worker asks `claim("reconcile:<tenant>", lease)` on its own schedule; the conditional UPDATE (due time in the
past → now + lease) succeeds for exactly one of them, on SQLite and PostgreSQL alike. The winner `renew`s the lease
while the job runs and, when it ends, `finish`es it: the next turn is due an interval later. So four workers do not
reconcile a tenant four times, and a worker that crashes mid-run stops renewing: its turn falls to the next asker
once the lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hubsync.adapters.store.database import SQLITE_BEGIN_OPTION
from hubsync.adapters.store.models import WorkerTimerRow

# `__table__` is typed as a FromClause; the declarative models' tables are Tables.
_timers = cast(sa.Table, WorkerTimerRow.__table__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class WorkerTimers:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._clock = clock

    def claim(self, name: str, lease: timedelta) -> bool:
        """True for the one caller whose turn it is (the timer was due, or new); it holds the turn for `lease`
        (renew it while the job runs, finish it when done)."""
        now = self._clock()
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        with self._engine.begin() as connection:
            created = connection.execute(
                dialect.insert(_timers)
                .values(name=name, due_at=now + lease)
                .on_conflict_do_nothing()
                .returning(_timers.c.name)
            ).first()
            if created is not None:
                return True
            moved = connection.execute(
                sa.update(_timers)
                .where(_timers.c.name == name, _timers.c.due_at <= now)
                .values(due_at=now + lease)
                .returning(_timers.c.name)
            ).first()
            return moved is not None

    def renew(self, name: str, lease: timedelta) -> None:
        """Still running: hold the turn for `lease` from now."""
        self._move(name, self._clock() + lease)

    def finish(self, name: str, every: timedelta) -> None:
        """Done (or failed, which waits for the next turn too): the next turn is `every` from now."""
        self._move(name, self._clock() + every)

    def _move(self, name: str, due_at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(sa.update(_timers).where(_timers.c.name == name).values(due_at=due_at))
