"""The audit timeline: append-only, one entry per thing hubsync did (or decided not to do) to a pair."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubsync.adapters.store.database import dumps_json
from hubsync.adapters.store.models import AuditRow
from hubsync.domain.audit import AuditEntry


class AuditLog:
    """Appends and reads the timeline in the current unit of work. There is no update and no delete: the
    timeline goes only with its tenant."""

    def __init__(self, connection: sa.Connection, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._clock = clock

    def append(
        self,
        *,
        tenant_id: str,
        finding_key: str,
        action: str,
        reason: str,
        outcome: str,
        rule: int | None = None,
        ticket_key: str | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Add an entry (at `at`, default now) and return it with its id. Entries of one finding read back in
        (`at`, insertion) order."""
        entry = AuditEntry(
            tenant_id=tenant_id,
            finding_key=finding_key,
            at=self._clock() if at is None else at,
            action=action,
            reason=reason,
            outcome=outcome,
            rule=rule,
            ticket_key=ticket_key,
            before=_as_json(before),
            after=_as_json(after),
        )
        values = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry) if f.name != "id"}
        entry_id = self._connection.execute(sa.insert(AuditRow).values(**values).returning(AuditRow.id)).scalar_one()
        return dataclasses.replace(entry, id=entry_id)

    def for_finding(self, tenant_id: str, finding_key: str, *, limit: int | None = None) -> list[AuditEntry]:
        """The finding's timeline, oldest first; with `limit`, only the latest `limit` entries (still oldest first)."""
        where = (AuditRow.tenant_id == tenant_id, AuditRow.finding_key == finding_key)
        if limit is None:
            statement = sa.select(AuditRow).where(*where).order_by(AuditRow.at, AuditRow.id)
            return [_entry(row) for row in self._connection.execute(statement).mappings()]
        statement = sa.select(AuditRow).where(*where).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        return [_entry(row) for row in reversed(self._connection.execute(statement).mappings().all())]


def _as_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The value as it will read back (datetimes as ISO strings, enums as values, dataclasses as objects)."""
    return None if value is None else json.loads(dumps_json(value))


def _entry(row: sa.RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        tenant_id=row["tenant_id"],
        finding_key=row["finding_key"],
        ticket_key=row["ticket_key"],
        at=row["at"],
        rule=row["rule"],
        action=row["action"],
        reason=row["reason"],
        before=row["before"],
        after=row["after"],
        outcome=row["outcome"],
    )
