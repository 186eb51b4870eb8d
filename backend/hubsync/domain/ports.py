"""The ports the service layer talks through, owned by the domain: adapters implement them (and import nothing of the
service); tests may use the sandbox or fakes behind them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hubsync.domain.finding import Finding, FindingIdentifier
from hubsync.domain.hint import SyncHint
from hubsync.domain.plan import MoveTicket, UpdateFinding
from hubsync.domain.rendering import Document, Lozenge
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket


class SecurityHubPort(Protocol):
    invalid_keys: set[str]  # keys of findings Security Hub returned that could not be parsed (not "deleted")
    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        """Every finding matching the GetFindings `filters`, paged 100 at a time, in constant memory."""

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """Current findings by key (absent: Security Hub no longer has it), batched into few GetFindings calls."""

    def update(self, updates: Sequence[tuple[FindingIdentifier, UpdateFinding]]) -> list[UpdateFailure]:
        """BatchUpdateFindings, 100 identifiers a call (identical updates grouped); texts already final."""


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
