"""hubsync's store in memory: links with their claim protocol and versions, the audit timeline, tenants, and the
findings' sync locks.

Faithful to the real store (`hubsync.adapters.store`) where the service depends on it:

- `transaction()` commits when its block ends and rolls back if it raises; a unit of work reads what is committed
  plus its own writes (read committed). `read()` is for reading: a write in it raises `WriteInReadUnit` (the
  real store would commit it, but the port says writes do not belong there).
- Links carry a version that every write bumps. A unit of work remembers the version of each link it read or
  wrote; `save` writes only over that version (or `expected_version`), else raises `StaleLink`; with neither, it
  writes over whatever is stored (or inserts).
- `claim_many` takes claims and commits at once (a claim outlives a crash during Jira's create), each claim one
  of: FRESH (no link, or a BROKEN one), EXISTING (LINKED), IN_PROGRESS (a CLAIMED row within `claim_hold` of its
  claim: `live_until` says when it may be taken over) or UNFINISHED (an older CLAIMED row, taken over: a ticket
  may exist, search for it first). `claim_hold` plays the real store's search lag (PostgreSQL, where a claim
  found under the finding's lock was left by an attempt that is over).
- `release_claim` deletes a CLAIMED row only at the version this unit of work claimed (or `expected_version`).
- `serialized` holds the findings' sync locks; a second hold of a held finding raises `SyncLockTimeout` (in one
  thread it would wait forever). `verify()` raises `SyncLockLost` once the test sets `locks_lost`.

Knobs: `leave_claim` (a CLAIMED row an interrupted attempt left), `touch` (another writer bumps a link's
version), `fail_next(method, error, after=n)` (a later `transaction`, `read` or `serialized` raises on entry),
`locks_lost` and `lose_locks_after(n)`, `down` (every call, and `ping`, raises it).
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import hashlib
import hmac
import itertools
import json
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hubsync.domain.audit import AuditEntry
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.link import Claim, ClaimOutcome, Link, LinkState, StaleLink
from hubsync.domain.ports import AuditRepository, LinkRepository, StorePort, TenantRepository, UnitOfWorkPort
from hubsync.domain.sync_locks import HeldLocks, SyncLockLost, SyncLockTimeout
from hubsync.domain.tenant import (
    EVENTS_KEY_GRACE,
    AuthMode,
    JiraFlavour,
    SecurityHubGeneration,
    Tenant,
    TenantConflict,
    TenantNotFound,
)
from tests.fakes.clock import FakeClock
from tests.fakes.errors import FakeOutage

CLAIM_HOLD = timedelta(seconds=15)  # the real store's DEFAULT_SEARCH_LAG

LinkKey = tuple[str, str]  # (tenant id, finding key)


class WriteInReadUnit(RuntimeError):
    """A write in a unit of work from `read()`."""


class StoreDown(FakeOutage):
    """The database does not answer (what `unavailable` recognizes)."""


@dataclass(frozen=True)
class _LinkRow:
    link: Link
    version: int
    claimed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class _TenantRow:
    tenant: Tenant  # without its events key (only the hash is kept)
    key_hash: str
    previous_hash: str | None = None
    previous_until: datetime | None = None


class _Tables:
    """Committed rows, or one unit of work's pending writes (None: deleted)."""

    def __init__(self) -> None:
        self.links: dict[LinkKey, _LinkRow | None] = {}
        self.tenants: dict[str, _TenantRow | None] = {}
        self.audit: list[AuditEntry] = []


class FakeStore:
    def __init__(self, clock: FakeClock, *, claim_hold: timedelta = CLAIM_HOLD) -> None:
        self.clock = clock
        self.claim_hold = claim_hold
        self.locks_lost = False
        self._verifications_left: int | None = None
        self.down: BaseException | None = None
        self.held: set[LinkKey] = set()
        self.serialized_calls: list[tuple[str, tuple[str, ...]]] = []
        self._committed = _Tables()
        self._audit_ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, BaseException]]] = defaultdict(list)

    # -- the test's side --------------------------------------------------------------------------------------
    def link(self, tenant_id: str, finding_key: str) -> Link | None:
        row = self._committed.links.get((tenant_id, finding_key))
        return row.link if row else None

    def links(self, tenant_id: str) -> dict[str, Link]:
        """Every committed link of a tenant, by finding key."""
        return {key: row.link for (tenant, key), row in self._committed.links.items() if tenant == tenant_id and row}

    def version(self, tenant_id: str, finding_key: str) -> int | None:
        row = self._committed.links.get((tenant_id, finding_key))
        return row.version if row else None

    def audit_of(self, tenant_id: str, finding_key: str) -> list[AuditEntry]:
        return [e for e in self._committed.audit if e.tenant_id == tenant_id and e.finding_key == finding_key]

    @property
    def audit_entries(self) -> list[AuditEntry]:
        return list(self._committed.audit)

    def leave_claim(
        self, tenant_id: str, identifier: FindingIdentifier, *, claimed_at: datetime | None = None,
        secondary_key: str | None = None,
    ) -> None:
        """A CLAIMED row as an attempt left it that crashed (or lost Jira's answer) after claiming, at `claimed_at`
        (default now)."""
        key = (tenant_id, identifier.key)
        current = self._committed.links.get(key)
        claimed = Link(identifier.key, identifier.id, identifier.product_arn, LinkState.CLAIMED,
                       secondary_key=secondary_key)
        when = claimed_at or self.clock()
        self._committed.links[key] = _LinkRow(claimed, current.version + 1 if current else 1, when, when)

    def touch(self, tenant_id: str, finding_key: str) -> None:
        """Another writer saves the link as it is: its version moves on under whoever read it before."""
        row = self._committed.links[(tenant_id, finding_key)]
        assert row is not None
        self._committed.links[(tenant_id, finding_key)] = replace(row, version=row.version + 1)

    def fail_next(self, method: str, error: BaseException, *, after: int = 0) -> None:
        """The next `transaction()`, `read()` or `serialized()` (after `after` more that pass) raises `error` on
        entry: the database went away, or the process died there."""
        self._failures[method].append((after, error))

    def lose_locks_after(self, verifications: int) -> None:
        """The sync locks' session ends once `verify()` has passed this many more times (a database restart in
        the middle of a sync)."""
        self._verifications_left = verifications

    # -- StorePort ----------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[UnitOfWorkPort]:
        self._maybe_fail("transaction")
        uow = FakeUnitOfWork(self, writable=True)
        yield uow  # an exception out of the block leaves its writes uncommitted (rolled back)
        uow.commit()

    @contextmanager
    def read(self) -> Iterator[UnitOfWorkPort]:
        self._maybe_fail("read")
        yield FakeUnitOfWork(self, writable=False)

    @contextmanager
    def serialized(self, tenant_id: str, finding_keys: Iterable[str]) -> Iterator[HeldLocks]:
        self._maybe_fail("serialized")
        keys = {(tenant_id, key) for key in finding_keys}
        self.serialized_calls.append((tenant_id, tuple(sorted(key for _, key in keys))))
        if keys & self.held:
            raise SyncLockTimeout(f"{len(keys & self.held)} findings are held by another sync")
        self.held |= keys
        try:
            yield HeldLocks(self._verify_locks)
        finally:
            self.held -= keys

    def iter_links(
        self, tenant_id: str, *, batch: int = 500, states: Sequence[LinkState] | None = None
    ) -> Iterator[Link]:
        rows = sorted((key, row) for (tenant, key), row in self._committed.links.items() if tenant == tenant_id and row)
        for _, row in rows:
            if not states or row.link.state in states:
                yield row.link

    def ping(self) -> None:
        if self.down is not None:
            raise self.down

    def unavailable(self, error: BaseException) -> bool:
        return isinstance(error, StoreDown)

    # -- internals --------------------------------------------------------------------------------------------
    def _verify_locks(self) -> None:
        if self._verifications_left is not None:
            if self._verifications_left == 0:
                self.locks_lost, self._verifications_left = True, None
            else:
                self._verifications_left -= 1
        if self.locks_lost:
            raise SyncLockLost("the sync locks' database session ended")

    def _maybe_fail(self, method: str) -> None:
        if self.down is not None:
            raise self.down
        failures = self._failures[method]
        if failures:
            after, error = failures[0]
            if after == 0:
                failures.pop(0)
                raise error
            failures[0] = (after - 1, error)

    def _apply(self, pending: _Tables) -> None:
        for link_key, link_row in pending.links.items():
            if link_row is None:
                self._committed.links.pop(link_key, None)
            else:
                self._committed.links[link_key] = link_row
        for tenant_id, tenant_row in pending.tenants.items():
            if tenant_row is None:
                self._committed.tenants.pop(tenant_id, None)
            else:
                self._committed.tenants[tenant_id] = tenant_row
        self._committed.audit.extend(pending.audit)


class FakeUnitOfWork:
    def __init__(self, store: FakeStore, *, writable: bool) -> None:
        self._store = store
        self._writable = writable
        self._pending = _Tables()
        self._links = FakeLinks(self)
        self._audit = FakeAudit(self)
        self._tenants = FakeTenants(self)

    @property
    def links(self) -> LinkRepository:
        return self._links

    @property
    def audit(self) -> AuditRepository:
        return self._audit

    @property
    def tenants(self) -> TenantRepository:
        return self._tenants

    def commit(self) -> None:
        """Make everything so far durable and carry on (what a claim does)."""
        self._store._apply(self._pending)
        self._pending = _Tables()

    # -- for the repositories -----------------------------------------------------------------------------
    @property
    def clock(self) -> FakeClock:
        return self._store.clock

    @property
    def claim_hold(self) -> timedelta:
        return self._store.claim_hold

    def writing(self, what: str) -> None:
        if not self._writable:
            raise WriteInReadUnit(f"{what} in a unit of work from store.read(): writes belong in transaction()")

    def link_row(self, key: LinkKey) -> _LinkRow | None:
        if key in self._pending.links:
            return self._pending.links[key]
        return self._store._committed.links.get(key)

    def link_rows(self, tenant_id: str) -> list[_LinkRow]:
        keys = {key for key in (*self._store._committed.links, *self._pending.links) if key[0] == tenant_id}
        return [row for key in sorted(keys) if (row := self.link_row(key)) is not None]

    def put_link(self, key: LinkKey, row: _LinkRow | None) -> None:
        self._pending.links[key] = row

    def tenant_row(self, tenant_id: str) -> _TenantRow | None:
        if tenant_id in self._pending.tenants:
            return self._pending.tenants[tenant_id]
        return self._store._committed.tenants.get(tenant_id)

    def tenant_rows(self) -> list[_TenantRow]:
        ids = dict.fromkeys((*self._store._committed.tenants, *self._pending.tenants))
        return [row for tenant_id in ids if (row := self.tenant_row(tenant_id)) is not None]

    def put_tenant(self, tenant_id: str, row: _TenantRow | None) -> None:
        self._pending.tenants[tenant_id] = row

    def audit_entries(self) -> list[AuditEntry]:
        return [*self._store._committed.audit, *self._pending.audit]

    def add_audit(self, entry: AuditEntry) -> AuditEntry:
        entry = replace(entry, id=next(self._store._audit_ids))
        self._pending.audit.append(entry)
        return entry


class FakeLinks:
    """The links of one unit of work (see the module docstring for the protocol)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow
        self._versions: dict[LinkKey, int] = {}
        self._owned_claims: dict[LinkKey, int] = {}

    def get(self, tenant_id: str, finding_key: str) -> Link | None:
        return self._remember(tenant_id, self._uow.link_row((tenant_id, finding_key)))

    def get_many(self, tenant_id: str, finding_keys: Iterable[str]) -> dict[str, Link]:
        found = {key: self.get(tenant_id, key) for key in set(finding_keys)}
        return {key: link for key, link in found.items() if link is not None}

    def get_by_ticket(self, tenant_id: str, ticket_key: str) -> Link | None:
        return self.get_by_tickets(tenant_id, [ticket_key]).get(ticket_key)

    def get_by_tickets(self, tenant_id: str, ticket_keys: Iterable[str]) -> dict[str, Link]:
        found: dict[str, Link] = {}
        for ticket_key in set(ticket_keys):
            best = self._best([row for row in self._uow.link_rows(tenant_id) if row.link.ticket_key == ticket_key])
            if best is not None:
                found[ticket_key] = best
        return found

    def get_by_secondary_key(self, tenant_id: str, secondary_key: str) -> Link | None:
        rows = [row for row in self._uow.link_rows(tenant_id) if row.link.secondary_key == secondary_key]
        return self._best(rows)

    def claim_many(self, tenant_id: str, findings: Sequence[tuple[FindingIdentifier, str | None]]) -> list[Claim]:
        self._uow.writing("claim_many")
        now = self._uow.clock()
        claims = [self._claim_one(tenant_id, identifier, secondary_key, now) for identifier, secondary_key in findings]
        self._uow.commit()  # a claim outlives a crash during Jira's create
        return claims

    def release_claim(self, tenant_id: str, finding_key: str, *, expected_version: int | None = None) -> bool:
        self._uow.writing("release_claim")
        key = (tenant_id, finding_key)
        expected = expected_version if expected_version is not None else self._owned_claims.get(key)
        row = self._uow.link_row(key)
        if expected is None or row is None or row.link.state is not LinkState.CLAIMED or row.version != expected:
            return False
        self._uow.put_link(key, None)
        self._versions.pop(key, None)
        self._owned_claims.pop(key, None)
        return True

    def save(self, tenant_id: str, link: Link, *, expected_version: int | None = None) -> int:
        self._uow.writing("save")
        key = (tenant_id, link.finding_key)
        expected = expected_version if expected_version is not None else self._versions.get(key)
        row = self._uow.link_row(key)
        now = self._uow.clock()
        if expected is None:
            if row is None:
                claimed_at = now if link.state is LinkState.CLAIMED else None
                self._uow.put_link(key, _LinkRow(link, 1, claimed_at, now))
                self._versions[key] = 1
                return 1
            expected = row.version
        if row is None or row.version != expected:
            raise StaleLink(f"link {link.finding_key} of tenant {tenant_id} changed since version {expected}")
        self._uow.put_link(key, _LinkRow(link, expected + 1, row.claimed_at, now))
        self._versions[key] = expected + 1
        self._owned_claims.pop(key, None)
        return expected + 1

    # -- internals -----------------------------------------------------------------------------------------
    def _claim_one(
        self, tenant_id: str, identifier: FindingIdentifier, secondary_key: str | None, now: datetime
    ) -> Claim:
        key = (tenant_id, identifier.key)
        claimed = Link(identifier.key, identifier.id, identifier.product_arn, LinkState.CLAIMED,
                       secondary_key=secondary_key)
        row = self._uow.link_row(key)
        if row is None:
            self._uow.put_link(key, _LinkRow(claimed, 1, now, now))
            self._versions[key] = self._owned_claims[key] = 1
            return Claim(ClaimOutcome.FRESH, claimed, 1)
        if row.link.state is LinkState.LINKED:
            self._versions[key] = row.version
            return Claim(ClaimOutcome.EXISTING, row.link, row.version)
        if row.link.state is LinkState.CLAIMED and row.claimed_at is not None:
            held_until = row.claimed_at + self._uow.claim_hold
            if held_until > now:
                return Claim(ClaimOutcome.IN_PROGRESS, row.link, row.version, held_until)
        if row.link.state is LinkState.CLAIMED:  # left by an attempt that is over: a ticket may exist
            outcome, taken = ClaimOutcome.UNFINISHED, replace(row.link, secondary_key=secondary_key)
        else:  # BROKEN: its ticket is gone, start afresh
            outcome, taken = ClaimOutcome.FRESH, claimed
        version = row.version + 1
        self._uow.put_link(key, _LinkRow(taken, version, now, now))
        self._versions[key] = self._owned_claims[key] = version
        return Claim(outcome, taken, version)

    def _remember(self, tenant_id: str, row: _LinkRow | None) -> Link | None:
        if row is None:
            return None
        self._versions[(tenant_id, row.link.finding_key)] = row.version
        return row.link

    def _best(self, rows: list[_LinkRow]) -> Link | None:
        """LINKED first, then the most recently written (then by finding key), as the real store orders them."""
        if not rows:
            return None
        rows.sort(key=lambda row: row.link.finding_key)
        rows.sort(key=lambda row: row.updated_at, reverse=True)
        rows.sort(key=lambda row: row.link.state is not LinkState.LINKED)
        return rows[0].link


class FakeAudit:
    """The append-only timeline of one unit of work."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

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
        self._uow.writing("audit.append")
        entry = AuditEntry(
            tenant_id=tenant_id, finding_key=finding_key, at=self._uow.clock() if at is None else at, action=action,
            reason=reason, outcome=outcome, rule=rule, ticket_key=ticket_key, before=_as_json(before),
            after=_as_json(after),
        )
        return self._uow.add_audit(entry)

    def for_finding(self, tenant_id: str, finding_key: str, *, limit: int | None = None) -> list[AuditEntry]:
        entries = [e for e in self._uow.audit_entries() if e.tenant_id == tenant_id and e.finding_key == finding_key]
        entries.sort(key=lambda entry: (entry.at, entry.id or 0))
        return entries if limit is None else entries[len(entries) - limit :] if limit else []


class FakeTenants:
    """Tenants of one unit of work. The events API key is kept as a hash, as the real store keeps it."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def create(
        self,
        *,
        name: str,
        jira_base_url: str,
        jira_flavour: JiraFlavour,
        auth_mode: AuthMode,
        jira_user: str | None = None,
        jira_secret: str | None = None,
        connect_client_key: str | None = None,
        aws_role_arn: str | None = None,
        organizations_role_arn: str | None = None,
        aggregation_region: str | None = None,
        securityhub_generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
        policy: Mapping[str, Any] | None = None,
        enabled: bool = True,
        tenant_id: str | None = None,
        external_id: str | None = None,
        forge_installation_id: str | None = None,
        forge_cloud_id: str | None = None,
        forge_environment_id: str | None = None,
        jira_secret_expires_at: datetime | None = None,
    ) -> Tenant:
        self._uow.writing("tenants.create")
        now = self._uow.clock()
        events_key = secrets.token_urlsafe(32)
        tenant = Tenant(
            id=tenant_id or uuid.uuid4().hex, name=name, jira_base_url=jira_base_url,
            jira_flavour=JiraFlavour(jira_flavour), auth_mode=AuthMode(auth_mode),
            external_id=external_id or secrets.token_urlsafe(24), jira_user=jira_user, jira_secret=jira_secret,
            connect_client_key=connect_client_key, aws_role_arn=aws_role_arn,
            organizations_role_arn=organizations_role_arn, aggregation_region=aggregation_region,
            securityhub_generation=SecurityHubGeneration(securityhub_generation), events_api_key=events_key,
            policy=dict(policy or {}), enabled=enabled, created_at=now, updated_at=now,
            forge_installation_id=forge_installation_id, forge_cloud_id=forge_cloud_id,
            forge_environment_id=forge_environment_id, jira_secret_expires_at=jira_secret_expires_at,
        )
        clash = self._uow.tenant_row(tenant.id) is not None or (
            connect_client_key is not None and self.get_by_client_key(connect_client_key) is not None
        ) or (forge_installation_id is not None and self.get_by_forge_installation(forge_installation_id) is not None)
        if clash:
            raise TenantConflict(f"a tenant with this id or client key exists: {name}")
        self._uow.put_tenant(tenant.id, _TenantRow(replace(tenant, events_api_key=None), _hash(events_key)))
        return tenant

    def get(self, tenant_id: str, *, for_update: bool = False) -> Tenant | None:
        row = self._uow.tenant_row(tenant_id)
        return row.tenant if row else None

    def get_by_client_key(self, client_key: str, *, for_update: bool = False) -> Tenant | None:
        return next((row.tenant for row in self._uow.tenant_rows() if row.tenant.connect_client_key == client_key),
                    None)

    def get_by_forge_installation(self, installation_id: str, *, for_update: bool = False) -> Tenant | None:
        return next((row.tenant for row in self._uow.tenant_rows()
                     if row.tenant.forge_installation_id == installation_id), None)

    def find_forge_site(
        self, cloud_id: str, environment_id: str | None, *, for_update: bool = False
    ) -> Tenant | None:
        found = [row.tenant for row in self._uow.tenant_rows() if row.tenant.auth_mode is AuthMode.FORGE
                 and row.tenant.forge_cloud_id == cloud_id and row.tenant.forge_environment_id == environment_id]
        return max(found, key=lambda tenant: tenant.updated_at or self._uow.clock(), default=None)

    def list(self, *, enabled_only: bool = False) -> builtins.list[Tenant]:
        tenants = [row.tenant for row in self._uow.tenant_rows() if row.tenant.enabled or not enabled_only]
        return sorted(tenants, key=lambda tenant: (tenant.created_at or self._uow.clock(), tenant.id))

    def update(self, tenant: Tenant) -> Tenant:
        self._uow.writing("tenants.update")
        if tenant.uninstalled_at is not None and (tenant.enabled or tenant.jira_secret is not None):
            raise ValueError(f"tenant {tenant.id} is uninstalled: only a reinstall may enable it or store a secret")
        row = self._uow.tenant_row(tenant.id)
        if row is None:
            raise TenantNotFound(tenant.id)
        stored = replace(tenant, external_id=row.tenant.external_id, created_at=row.tenant.created_at,
                         events_api_key=None, updated_at=self._uow.clock())
        self._uow.put_tenant(tenant.id, replace(row, tenant=stored))
        return replace(tenant, updated_at=stored.updated_at)

    def uninstall(self, tenant_id: str) -> Tenant:
        self._uow.writing("tenants.uninstall")
        row = self._uow.tenant_row(tenant_id)
        if row is None:
            raise TenantNotFound(tenant_id)
        now = self._uow.clock()
        tenant = replace(row.tenant, enabled=False, jira_secret=None, jira_secret_expires_at=None, uninstalled_at=now,
                         updated_at=now)
        self._uow.put_tenant(tenant_id, replace(row, tenant=tenant))
        return tenant

    def regenerate_events_api_key(self, tenant_id: str, *, grace: timedelta = EVENTS_KEY_GRACE) -> str:
        self._uow.writing("tenants.regenerate_events_api_key")
        row = self._uow.tenant_row(tenant_id)
        if row is None:
            raise TenantNotFound(tenant_id)
        key = secrets.token_urlsafe(32)
        keep = grace > timedelta(0)
        self._uow.put_tenant(tenant_id, replace(
            row, key_hash=_hash(key), previous_hash=row.key_hash if keep else None,
            previous_until=self._uow.clock() + grace if keep else None,
        ))
        return key

    def has_events_api_key(self, tenant_id: str) -> bool:
        row = self._uow.tenant_row(tenant_id)
        return row is not None and bool(row.key_hash)

    def delete(self, tenant_id: str) -> bool:
        """The tenant and its links (the real store's cascade; the fake keeps audit entries, which no test of a
        removal reads)."""
        self._uow.writing("tenants.delete")
        if self._uow.tenant_row(tenant_id) is None:
            return False
        for row in self._uow.link_rows(tenant_id):
            self._uow.put_link((tenant_id, row.link.finding_key), None)
        self._uow.put_tenant(tenant_id, None)
        return True

    def verify_events_api_key(self, tenant_id: str, presented: str) -> bool:
        row = self._uow.tenant_row(tenant_id)
        if row is None or not presented:
            return False
        digest = _hash(presented)
        previous_valid = row.previous_until is not None and row.previous_until > self._uow.clock()
        return hmac.compare_digest(digest, row.key_hash) or (
            previous_valid and row.previous_hash is not None and hmac.compare_digest(digest, row.previous_hash)
        )


def _hash(key: str) -> str:
    return "sha256$" + hashlib.sha256(key.encode()).hexdigest()


def _as_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The value as the real audit log reads it back: datetimes as ISO strings, enums as values, dataclasses as
    objects."""
    if value is None:
        return None
    result: dict[str, Any] = json.loads(json.dumps(value, default=_json_default))
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _conforms(store: FakeStore, uow: FakeUnitOfWork) -> tuple[StorePort, UnitOfWorkPort]:
    return store, uow  # mypy checks the fakes against the ports
