"""What `decide()` returns: the actions that bring one finding and its ticket in step, and the link to save."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.link import Link
from hubsync.domain.ticket import Disposition


@dataclass(frozen=True, repr=False)
class TicketKey:
    """Where a plan names the finding's ticket: its key, known only once the plan is applied (a ticket the plan
    creates has none before). A value of its own, not a placeholder in a string, so nothing a finding or a ticket
    says (a title reading "{ticket}", say) is ever taken for it. `TICKET_KEY` is the one instance."""

    def render(self, ticket_key: str) -> str:
        return ticket_key

    def __repr__(self) -> str:
        return "TICKET_KEY"


TICKET_KEY = TicketKey()


@dataclass(frozen=True)
class TicketText:
    """A text that may name the ticket: literal parts, written as they are, and `TICKET_KEY`s, which `render`
    writes as the key. `TicketText.of("Tracked in ", TICKET_KEY)`."""

    parts: tuple[str | TicketKey, ...]

    @classmethod
    def of(cls, *parts: str | TicketKey) -> TicketText:
        return cls(parts)

    @property
    def names_ticket(self) -> bool:
        return any(isinstance(part, TicketKey) for part in self.parts)

    def render(self, ticket_key: str) -> str:
        return "".join(part if isinstance(part, str) else part.render(ticket_key) for part in self.parts)


@dataclass(frozen=True)
class CreateTicket:
    """Create the finding's ticket (content rendered from the finding and policy; assignee from routing)."""

    escalated_by_hand: bool = False


@dataclass(frozen=True)
class UpdateFinding:
    """BatchUpdateFindings for one finding. The note and field values may name the ticket (`TicketText`,
    `TICKET_KEY`): `for_ticket` gives the update to write once its key is known."""

    workflow: WorkflowStatus | None = None
    note: TicketText | None = None
    user_defined_fields: Mapping[str, str | TicketKey] = field(default_factory=dict)
    verification_state: str | None = None

    def for_ticket(self, ticket_key: str) -> FindingUpdate:
        return FindingUpdate(
            workflow=self.workflow,
            note=self.note.render(ticket_key) if self.note else None,
            user_defined_fields={
                name: value if isinstance(value, str) else value.render(ticket_key)
                for name, value in self.user_defined_fields.items()
            },
            verification_state=self.verification_state,
        )


@dataclass(frozen=True)
class FindingUpdate:
    """What BatchUpdateFindings writes for one finding (the `SecurityHubPort` takes it): an `UpdateFinding` with
    the ticket's key in place, every text final."""

    workflow: WorkflowStatus | None = None
    note: str | None = None
    user_defined_fields: Mapping[str, str] = field(default_factory=dict)
    verification_state: str | None = None


@dataclass(frozen=True)
class MoveTicket:
    """Walk the ticket's workflow to a status of `disposition`, or to the named `status`, then comment (a final
    text: it is on the ticket, so it never names the ticket)."""

    disposition: Disposition | None = None
    status: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class CommentOnTicket:
    text: str  # final, written as it is


@dataclass(frozen=True)
class EditTicket:
    summary: str | None = None
    priority: str | None = None


Action = CreateTicket | UpdateFinding | MoveTicket | CommentOnTicket | EditTicket


@dataclass(frozen=True)
class Plan:
    """`rule` is the row of the rules table that matched (None: nothing matched, nothing to do)."""

    rule: int | None
    reason: str
    actions: tuple[Action, ...] = ()
    link: Link | None = None  # the link as it must be saved once the actions are applied; None: unchanged

    @property
    def is_empty(self) -> bool:
        return not self.actions and self.link is None
