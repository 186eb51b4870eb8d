"""The ports the service layer talks through, owned by the domain: adapters implement them (and import nothing of the
service); `bootstrap` hands the service the real ones, tests hand it fakes.

Security Hub, Jira and the owner directory are the outside world; the store (units of work over links, the audit
timeline and tenants, and the findings' sync locks) and the hint queue are hubsync's own memory."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from hubsync.domain.audit import AuditEntry
from hubsync.domain.document import Document
from hubsync.domain.finding import Finding, FindingIdentifier
from hubsync.domain.hint import SyncHint
from hubsync.domain.link import Claim, Link, LinkState
from hubsync.domain.plan import FindingUpdate, MoveTicket
from hubsync.domain.rendering import Lozenge
from hubsync.domain.sync_locks import HeldLocks
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket


class SecurityHubPort(Protocol):
    invalid_keys: set[str]  # keys of findings Security Hub returned that could not be parsed (not "deleted")
    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        """Every finding matching the GetFindings `filters`, paged 100 at a time, in constant memory."""

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """Current findings by key (absent: Security Hub no longer has it), batched into few GetFindings calls."""

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        """BatchUpdateFindings, 100 identifiers a call (identical updates grouped)."""


@dataclass(frozen=True)
class UpdateFailure:
    identifier: FindingIdentifier
    error_code: str
    message: str


class OwnerDirectoryPort(Protocol):
    def owner_of(self, account_id: str) -> str | None:
        """The value of the owner tag (e.g. `SecurityContactID`) of an AWS account, or None; cached."""


@dataclass(frozen=True)
class TicketDraft:
    project_key: str
    issue_type: str
    summary: str
    description: Document
    priority: str | None
    labels: tuple[str, ...]
    assignee: str | None  # Cloud accountId / Data Center user name; None: unassigned
    properties: Mapping[str, Any] = field(default_factory=dict)  # issue properties set in the create call
    lozenge: Lozenge | None = None  # the finding's status for the issue glance, set in the create call too


@dataclass(frozen=True)
class CreatedTicket:
    draft_index: int
    key: str | None  # None when Jira refused this one
    error: str | None = None


class JiraPort(Protocol):
    def get_tickets(self, keys: Sequence[str]) -> dict[str, Ticket]:
        """Current tickets by key; a deleted ticket is absent."""

    def create_tickets(
        self, drafts: Sequence[TicketDraft], guard: Callable[[], None] | None = None
    ) -> list[CreatedTicket]:
        """Bulk create, 50 a request. `guard` runs before each request is sent and raises to stop the rest (the
        caller lost the right to create)."""

    def find_by_markers(self, labels: Sequence[str]) -> dict[str, Ticket]:
        """Tickets carrying any of these marker labels, by label (batched `labels in (...)` searches)."""

    def move(
        self, ticket: Ticket, move: MoveTicket, disposition_of_status: Callable[[str, StatusCategory], Disposition]
    ) -> None:
        """Walk the shortest path of transitions from the ticket's status (as just read) to `move.status` or a
        status of `move.disposition`, with the comment on the last step."""

    def comment(self, key: str, text: Document | str) -> None: ...

    def set_marker(self, key: str, marker: FindingMarker) -> None:
        """Point the ticket's `hubsync.finding` issue property at `marker`'s finding."""

    def edit(self, key: str, summary: str | None = None, priority: str | None = None) -> None: ...

    def show_lozenge(self, key: str, lozenge: Lozenge) -> None:
        """Show the finding's status on the issue glance (Connect apps only; elsewhere nothing is sent)."""

    def find_user(self, query: str) -> str | None:
        """An assignable user's accountId (Cloud) or name (Data Center) for an email, id or name."""

    def linked_tickets(self, project_key: str) -> Iterator[Ticket]:
        """Every ticket carrying hubsync's marker in a project, paged with nextPageToken."""


class NoTransitionPath(Exception):
    """The ticket's workflow has no way to the wanted status: the service falls back to a comment."""


class HintQueue(Protocol):
    def put(self, hints: Sequence[SyncHint]) -> None:
        """Durably enqueue (on return the hints survive a crash); a hint whose `event_id` was seen is dropped."""


class LinkRepository(Protocol):
    """Links in a unit of work; `save` checks the version this unit of work last saw (optimistic concurrency), and
    `claim_many` commits, so a claim outlives a crash during Jira's create (see the store's `links`)."""

    def get(self, tenant_id: str, finding_key: str) -> Link | None: ...

    def get_many(self, tenant_id: str, finding_keys: Iterable[str]) -> dict[str, Link]: ...

    def get_by_ticket(self, tenant_id: str, ticket_key: str) -> Link | None: ...

    def get_by_tickets(self, tenant_id: str, ticket_keys: Iterable[str]) -> dict[str, Link]: ...

    def get_by_secondary_key(self, tenant_id: str, secondary_key: str) -> Link | None: ...

    def claim_many(self, tenant_id: str, findings: Sequence[tuple[FindingIdentifier, str | None]]) -> list[Claim]: ...

    def release_claim(self, tenant_id: str, finding_key: str, *, expected_version: int | None = None) -> bool: ...

    def save(self, tenant_id: str, link: Link, *, expected_version: int | None = None) -> int: ...


class AuditRepository(Protocol):
    """The append-only timeline: no update, no delete."""

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
    ) -> AuditEntry: ...

    def for_finding(self, tenant_id: str, finding_key: str, *, limit: int | None = None) -> list[AuditEntry]: ...


class TenantRepository(Protocol):
    """Tenants, secrets decrypted on the way out and encrypted on the way in."""

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
        policy: Mapping[str, Any] | None = None,
        enabled: bool = True,
        tenant_id: str | None = None,
        external_id: str | None = None,
    ) -> Tenant: ...

    def get(self, tenant_id: str, *, for_update: bool = False) -> Tenant | None: ...

    def get_by_client_key(self, client_key: str, *, for_update: bool = False) -> Tenant | None: ...

    def list(self, *, enabled_only: bool = False) -> builtins.list[Tenant]: ...

    def update(self, tenant: Tenant) -> Tenant: ...

    def uninstall(self, tenant_id: str) -> Tenant: ...

    def regenerate_events_api_key(self, tenant_id: str, *, grace: timedelta = ...) -> str: ...

    def verify_events_api_key(self, tenant_id: str, presented: str) -> bool: ...


class UnitOfWorkPort(Protocol):
    """One transaction over the three repositories."""

    @property
    def links(self) -> LinkRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def tenants(self) -> TenantRepository: ...


class StorePort(Protocol):
    """hubsync's memory. `transaction()` commits when its block ends and rolls back if it raises; `read()` never
    waits for a writer; `serialized()` holds the findings' sync locks, so two syncs of one finding never
    interleave."""

    def transaction(self) -> AbstractContextManager[UnitOfWorkPort]: ...

    def read(self) -> AbstractContextManager[UnitOfWorkPort]: ...

    def serialized(self, tenant_id: str, finding_keys: Iterable[str]) -> AbstractContextManager[HeldLocks]: ...

    def iter_links(
        self, tenant_id: str, *, batch: int = 500, states: Sequence[LinkState] | None = None
    ) -> Iterator[Link]: ...


class TimersPort(Protocol):
    """Named timers every worker shares, so a periodic job (a tenant's reconcile) runs once per interval across
    them all: one caller gets a timer's turn, holds it with a lease while the job runs, and sets the next turn."""

    def claim(self, name: str, lease: timedelta) -> bool:
        """True for the one caller whose turn it is (the timer was due, or new); it holds the turn for `lease`."""

    def renew(self, name: str, lease: timedelta) -> None:
        """Still running: hold the turn for `lease` from now."""

    def finish(self, name: str, every: timedelta) -> None:
        """Done (or failed, which waits for the next turn too): the next turn is `every` from now."""


class FindingParser(Protocol):
    """A wire format's findings read into the domain's `Finding`: an anti-corruption layer (ASFF today, in the
    Security Hub adapter; OCSF beside it later)."""

    def parse(self, data: Mapping[str, Any]) -> Finding:
        """The finding `data` describes; raises `finding.InvalidFinding` naming every problem at once."""
