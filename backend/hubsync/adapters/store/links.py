"""Links: one finding, one ticket, exactly once.

Creating a ticket is a two-step protocol around Jira's create, which no database transaction can cover:

1. `claim()` inserts a CLAIMED row and commits it. The primary key (tenant, finding key) decides races: exactly one
   caller gets FRESH; the others see the winner's row.
2. The caller creates the ticket and saves the link as LINKED.

Claims are taken only by a sync that holds the finding's sync lock (`Store.serialized`), right before Jira's
create, and an attempt that fails before the create reaches Jira releases them. So a CLAIMED row that another
sync finds (holding that lock now) was left by an attempt that is over, a crash or a lost answer, whose create
may have reached Jira. It is held only until Jira's search shows what that create made (`DEFAULT_SEARCH_LAG`);
then the first caller takes the claim over and gets UNFINISHED, meaning "a ticket may already exist: search Jira
for the finding's marker before creating". One case is held longer: PostgreSQL restarted since the claim, so its
holder lost the lock without dying and its create may still be under way (`DEFAULT_CLAIM_LEASE`: longer than one
create request, which is no longer sent once the lock is gone). Before the hold runs out, `claim()` answers
IN_PROGRESS with the moment it does (retry then; not the hint's fault).

Every write bumps `version`; `save()` refuses to overwrite a version it has not seen (optimistic concurrency), so a
slow owner whose claim was taken over cannot clobber the new owner's link.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hubsync.adapters.store.models import LinkRow
from hubsync.domain.finding import FindingIdentifier, WorkflowStatus
from hubsync.domain.link import Claim, ClaimOutcome, Link, LinkState, StaleLink
from hubsync.domain.ticket import Disposition

# How long Jira's search index may lag behind its writes: a taken-over claim's marker search then finds the ticket
# an interrupted create made.
DEFAULT_SEARCH_LAG = timedelta(seconds=15)
# Longer than one create request can take (the Jira client's timeout) plus the search lag: for a claim whose holder
# may still be sending its create (it lost its lock to a database restart).
DEFAULT_CLAIM_LEASE = timedelta(seconds=45)
_CLOCK_SKEW = timedelta(seconds=30)  # between this machine's clock and the database server's
_IN_CLAUSE_CHUNK = 500
_CLAIM_ATTEMPTS = 5


class _VersionMemory:
    """The versions of the links a unit of work read or wrote, most recent `capacity` only: a reconcile that walks
    every link keeps constant memory, and a save still checks the version of anything read moments before."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._versions: OrderedDict[tuple[str, str], int] = OrderedDict()

    def get(self, key: tuple[str, str]) -> int | None:
        return self._versions.get(key)

    def __setitem__(self, key: tuple[str, str], version: int) -> None:
        self._versions[key] = version
        self._versions.move_to_end(key)
        if len(self._versions) > self._capacity:
            self._versions.popitem(last=False)

    def pop(self, key: tuple[str, str]) -> None:
        self._versions.pop(key, None)


class LinkStore:
    """Links in the current unit of work. It remembers the version of every link it reads or writes, so `save`
    after `get` (or after `claim`) only succeeds if no one else wrote the link in between."""

    def __init__(
        self,
        connection: sa.Connection,
        clock: Callable[[], datetime],
        claim_lease: timedelta,
        commit: Callable[[], None],
        search_lag: timedelta = DEFAULT_SEARCH_LAG,
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._claim_lease = claim_lease
        self._search_lag = min(search_lag, claim_lease)
        self._commit = commit
        self._versions = _VersionMemory()
        self._owned_claims: dict[tuple[str, str], int] = {}  # claims this unit of work took, by version

    # -- reads ---------------------------------------------------------------------------------------------
    def get(self, tenant_id: str, finding_key: str) -> Link | None:
        return self._one(sa.select(LinkRow).where(_primary_key(tenant_id, finding_key)))

    def get_many(self, tenant_id: str, finding_keys: Iterable[str]) -> dict[str, Link]:
        """Links by finding key, for a page of findings at a time (absent keys have no link)."""
        found: dict[str, Link] = {}
        keys = sorted(set(finding_keys))
        for start in range(0, len(keys), _IN_CLAUSE_CHUNK):
            chunk = keys[start : start + _IN_CLAUSE_CHUNK]
            statement = sa.select(LinkRow).where(LinkRow.tenant_id == tenant_id, LinkRow.finding_key.in_(chunk))
            for row in self._connection.execute(statement).mappings():
                found[row["finding_key"]] = self._remember(row)
        return found

    def get_by_ticket(self, tenant_id: str, ticket_key: str) -> Link | None:
        """The finding linked to a ticket (a webhook names only the ticket). LINKED first, then the newest."""
        return self.get_by_tickets(tenant_id, [ticket_key]).get(ticket_key)

    def get_by_tickets(self, tenant_id: str, ticket_keys: Iterable[str]) -> dict[str, Link]:
        """`get_by_ticket` for a page of tickets at a time (absent keys have no link)."""
        found: dict[str, Link] = {}
        keys = sorted(set(ticket_keys))
        for start in range(0, len(keys), _IN_CLAUSE_CHUNK):
            chunk = keys[start : start + _IN_CLAUSE_CHUNK]
            statement = _best(sa.select(LinkRow).where(LinkRow.tenant_id == tenant_id, LinkRow.ticket_key.in_(chunk)))
            for row in self._connection.execute(statement).mappings():
                if row["ticket_key"] not in found:  # the best one comes first
                    found[row["ticket_key"]] = self._remember(row)
        return found

    def get_by_secondary_key(self, tenant_id: str, secondary_key: str) -> Link | None:
        """The link of an earlier finding for the same control, resource and account, whose ticket a re-issued
        finding adopts. LINKED first, then the newest."""
        statement = sa.select(LinkRow).where(LinkRow.tenant_id == tenant_id, LinkRow.secondary_key == secondary_key)
        return self._one(_best(statement))

    def iter_links(
        self, tenant_id: str, *, batch: int = 500, states: Sequence[LinkState] | None = None
    ) -> Iterator[Link]:
        """Every link of a tenant in finding-key order, read `batch` rows at a time inside this unit of work
        (constant memory). Outside a unit of work, `Store.iter_links` reads each page in its own transaction."""
        after: str | None = None
        while True:
            page = self.page(tenant_id, after=after, limit=batch, states=states)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].finding_key

    def page(
        self, tenant_id: str, *, after: str | None, limit: int, states: Sequence[LinkState] | None = None
    ) -> list[Link]:
        """Up to `limit` links ordered by finding key, starting after `after` (keyset paging; see Store.iter_links)."""
        statement = sa.select(LinkRow).where(LinkRow.tenant_id == tenant_id)
        if after is not None:
            statement = statement.where(LinkRow.finding_key > after)
        if states:
            statement = statement.where(LinkRow.state.in_([state.value for state in states]))
        statement = statement.order_by(LinkRow.finding_key).limit(limit)
        return [self._remember(row) for row in self._connection.execute(statement).mappings()]

    # -- claims --------------------------------------------------------------------------------------------
    def claim(self, tenant_id: str, identifier: FindingIdentifier, secondary_key: str | None = None) -> Claim:
        """Claim the right to create the finding's ticket, then COMMIT the unit of work so far: a claim must
        survive a crash that happens after Jira's create. The unit of work carries on in a new transaction
        (re-taking its lock, if it holds one)."""
        return self.claim_many(tenant_id, [(identifier, secondary_key)])[0]

    def claim_many(self, tenant_id: str, findings: Sequence[tuple[FindingIdentifier, str | None]]) -> list[Claim]:
        """`claim` for a batch (a bulk create of up to 50 tickets), in one commit; claims in the order given."""
        now = self._clock()
        database_started = self._database_started_at()
        # A fixed order keeps two workers claiming overlapping batches from deadlocking on PostgreSQL.
        order = sorted(range(len(findings)), key=lambda index: findings[index][0].key)
        claims: dict[int, Claim] = {}
        for index in order:
            identifier, secondary_key = findings[index]
            claims[index] = self._claim_one(tenant_id, identifier, secondary_key, now, database_started)
        self._commit()
        return [claims[index] for index in range(len(findings))]

    def release_claim(self, tenant_id: str, finding_key: str, *, expected_version: int | None = None) -> bool:
        """Give a claim up when Jira refused the create (so no ticket exists): the next attempt starts FRESH at
        once instead of waiting out the lease. Only a CLAIMED row at the version this unit of work claimed (or
        `expected_version`) goes; False when the claim was no longer this caller's."""
        key = (tenant_id, finding_key)
        expected = expected_version if expected_version is not None else self._owned_claims.get(key)
        if expected is None:
            return False
        statement = sa.delete(LinkRow).where(
            _primary_key(tenant_id, finding_key),
            LinkRow.state == LinkState.CLAIMED.value,
            LinkRow.version == expected,
        )
        released = self._connection.execute(statement).rowcount == 1
        if released:
            self._versions.pop(key)
            self._owned_claims.pop(key, None)
        return released

    # -- writes --------------------------------------------------------------------------------------------
    def save(self, tenant_id: str, link: Link, *, expected_version: int | None = None) -> int:
        """Write `link` and return its new version. The write only happens if the row is still at
        `expected_version`, or else at the version this unit of work last read or wrote; with neither (the caller
        holds the finding's lock, or is rebuilding a link from the markers), it applies to whatever is stored.
        Raises StaleLink when someone else got there first."""
        key = (tenant_id, link.finding_key)
        expected = expected_version if expected_version is not None else self._versions.get(key)
        now = self._clock()
        if expected is None:
            current = self._connection.execute(
                sa.select(LinkRow.version).where(_primary_key(tenant_id, link.finding_key))
            ).scalar()
            if current is None:
                return self._insert(tenant_id, link, now)
            expected = current
        statement = (
            sa.update(LinkRow)
            .where(_primary_key(tenant_id, link.finding_key), LinkRow.version == expected)
            .values(**_values(link), updated_at=now, version=expected + 1)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise StaleLink(f"link {link.finding_key} of tenant {tenant_id} changed since version {expected}")
        self._versions[key] = expected + 1
        self._owned_claims.pop(key, None)
        return expected + 1

    # -- internals -----------------------------------------------------------------------------------------
    def _claim_one(
        self, tenant_id: str, identifier: FindingIdentifier, secondary_key: str | None, now: datetime,
        database_started: datetime | None,
    ) -> Claim:
        claimed = Link(
            finding_key=identifier.key,
            finding_id=identifier.id,
            product_arn=identifier.product_arn,
            state=LinkState.CLAIMED,
            secondary_key=secondary_key,
        )
        for _ in range(_CLAIM_ATTEMPTS):
            if self._insert_if_absent(tenant_id, claimed, now, claimed_at=now):
                self._owned_claims[(tenant_id, identifier.key)] = 1
                return Claim(ClaimOutcome.FRESH, claimed, 1)
            row = (
                self._connection.execute(sa.select(LinkRow).where(_primary_key(tenant_id, identifier.key)))
                .mappings()
                .first()
            )
            if row is None:
                continue  # released between our insert and our read: insert again
            stored, version = _link(row), row["version"]
            if stored.state is LinkState.LINKED:
                self._versions[(tenant_id, identifier.key)] = version
                return Claim(ClaimOutcome.EXISTING, stored, version)
            held_until = self._held_until(row["claimed_at"], database_started)
            if stored.state is LinkState.CLAIMED and held_until is not None and held_until > now:
                return Claim(ClaimOutcome.IN_PROGRESS, stored, version, held_until)
            # An expired claim is taken over (a ticket may exist); a BROKEN link's ticket is gone: start afresh.
            if stored.state is LinkState.CLAIMED:
                outcome, taken = ClaimOutcome.UNFINISHED, dataclasses.replace(stored, secondary_key=secondary_key)
            else:
                outcome, taken = ClaimOutcome.FRESH, claimed
            statement = (
                sa.update(LinkRow)
                .where(_primary_key(tenant_id, identifier.key), LinkRow.version == version)
                .values(**_values(taken), claimed_at=now, updated_at=now, version=version + 1)
            )
            if self._connection.execute(statement).rowcount == 1:
                self._versions[(tenant_id, identifier.key)] = version + 1
                self._owned_claims[(tenant_id, identifier.key)] = version + 1
                return Claim(outcome, taken, version + 1)
        raise StaleLink(f"link {identifier.key} of tenant {tenant_id} kept changing while being claimed")

    def _held_until(self, claimed_at: datetime | None, database_started: datetime | None) -> datetime | None:
        """Until when a claim found under the finding's lock is left alone (see the module's docstring)."""
        if claimed_at is None:
            return None
        if database_started is not None and database_started < claimed_at - _CLOCK_SKEW:
            return claimed_at + self._search_lag  # its holder's lock ended with the holder: no create under way
        return claimed_at + self._claim_lease

    def _database_started_at(self) -> datetime | None:
        """When the PostgreSQL server started; None on SQLite, whose locks are a process's own (another process's
        claim may be under way there, so it is always held for the whole lease)."""
        if self._connection.dialect.name != "postgresql":
            return None
        started: datetime = self._connection.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar_one()
        return started

    def _insert(self, tenant_id: str, link: Link, now: datetime) -> int:
        claimed_at = now if link.state is LinkState.CLAIMED else None
        if not self._insert_if_absent(tenant_id, link, now, claimed_at=claimed_at):
            raise StaleLink(f"link {link.finding_key} of tenant {tenant_id} was created by someone else")
        return 1

    def _insert_if_absent(self, tenant_id: str, link: Link, now: datetime, *, claimed_at: datetime | None) -> bool:
        """INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a concurrent insert of the same key waits for the other
        transaction and then yields, without aborting ours."""
        insert = _dialect_insert(self._connection)(LinkRow).values(
            tenant_id=tenant_id,
            **_values(link),
            claimed_at=claimed_at,
            created_at=now,
            updated_at=now,
            version=1,
        )
        statement = insert.on_conflict_do_nothing(index_elements=["tenant_id", "finding_key"]).returning(
            LinkRow.version
        )
        inserted = self._connection.execute(statement).first() is not None
        if inserted:
            self._versions[(tenant_id, link.finding_key)] = 1
        return inserted

    def _one(self, statement: sa.Select[Any]) -> Link | None:
        row = self._connection.execute(statement.limit(1)).mappings().first()
        return None if row is None else self._remember(row)

    def _remember(self, row: sa.RowMapping) -> Link:
        self._versions[(row["tenant_id"], row["finding_key"])] = row["version"]
        return _link(row)


def _primary_key(tenant_id: str, finding_key: str) -> sa.ColumnElement[bool]:
    return sa.and_(LinkRow.tenant_id == tenant_id, LinkRow.finding_key == finding_key)


def _best(statement: sa.Select[Any]) -> sa.Select[Any]:
    linked_first = sa.case((LinkRow.state == LinkState.LINKED.value, 0), else_=1)
    return statement.order_by(linked_first, LinkRow.updated_at.desc(), LinkRow.finding_key)


def _dialect_insert(connection: sa.Connection) -> Callable[..., Any]:
    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    try:
        return inserts[connection.dialect.name]
    except KeyError:
        raise RuntimeError(f"hubsync supports SQLite and PostgreSQL, not {connection.dialect.name}") from None


def _values(link: Link) -> dict[str, Any]:
    """The link's own fields as column values (the store adds tenant, timestamps and version)."""
    return {
        "finding_key": link.finding_key,
        "finding_id": link.finding_id,
        "product_arn": link.product_arn,
        "state": LinkState(link.state).value,
        "ticket_key": link.ticket_key,
        "secondary_key": link.secondary_key,
        "seen_updated_at": link.seen_updated_at,
        "fixed_at_updated_at": link.fixed_at_updated_at,
        "written_workflow": None if link.written_workflow is None else WorkflowStatus(link.written_workflow).value,
        "seen_disposition": None if link.seen_disposition is None else Disposition(link.seen_disposition).value,
        "accepted_until": link.accepted_until,
        "rendered_severity": link.rendered_severity,
        "rendered_title": link.rendered_title,
        "risk_requested_at": link.risk_requested_at,
    }


def _link(row: sa.RowMapping) -> Link:
    return Link(
        finding_key=row["finding_key"],
        finding_id=row["finding_id"],
        product_arn=row["product_arn"],
        state=LinkState(row["state"]),
        ticket_key=row["ticket_key"],
        secondary_key=row["secondary_key"],
        seen_updated_at=row["seen_updated_at"],
        fixed_at_updated_at=row["fixed_at_updated_at"],
        written_workflow=None if row["written_workflow"] is None else WorkflowStatus(row["written_workflow"]),
        seen_disposition=None if row["seen_disposition"] is None else Disposition(row["seen_disposition"]),
        accepted_until=row["accepted_until"],
        rendered_severity=row["rendered_severity"],
        rendered_title=row["rendered_title"],
        risk_requested_at=row["risk_requested_at"],
    )
