"""What `decide()` returns: the actions that bring one finding and its ticket in step, and the link to save."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.link import Link
from hubsync.domain.ticket import Disposition

TICKET = "{ticket}"  # in note texts and field values: replaced by the ticket key when the action is applied


@dataclass(frozen=True)
class CreateTicket:
    """Create the finding's ticket (content rendered from the finding and policy; assignee from routing)."""

    escalated_by_hand: bool = False


@dataclass(frozen=True)
class UpdateFinding:
    """BatchUpdateFindings for one finding. Texts may contain `{ticket}`."""

    workflow: WorkflowStatus | None = None
    note: str | None = None
    user_defined_fields: Mapping[str, str] = field(default_factory=dict)
    verification_state: str | None = None


@dataclass(frozen=True)
class MoveTicket:
    """Walk the ticket's workflow to a status of `disposition`, or to the named `status`, then comment."""

    disposition: Disposition | None = None
    status: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class CommentOnTicket:
    text: str


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
