"""A small, honest simulation of what the service does with a plan, for tests of `decide()`.

Security Hub applies a finding's update as the fake Security Hub does (`tests.fakes.securityhub.updated`: the
provider's UpdatedAt kept; hubsync the note's author in CSPM; only the status and the comment of a finding of the new
Security Hub); a ticket moves to a status of the wanted disposition, or stays put when its workflow has no such
status (the service then comments instead); a created ticket is rendered from the finding; the plan's link is saved
with the new key.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hubsync.domain.finding import Finding
from hubsync.domain.link import Link
from hubsync.domain.plan import CommentOnTicket, CreateTicket, EditTicket, MoveTicket, Plan, UpdateFinding
from hubsync.domain.policy import Policy
from hubsync.domain.rendering import render_ticket
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket
from tests.fakes.securityhub import updated
from tests.unit.domain.domain_values import NOW, POLICY, STATUS_CATEGORIES, STATUS_OF

CREATED_KEY = "SEC-99"
STOCK_STATUSES = {"To Do", "In Progress", "Done"}
STOCK_STATUS_OF = {Disposition.OPEN: "In Progress", Disposition.FIXED: "Done"}


def apply(
    plan: Plan, finding: Finding | None, ticket: Ticket | None, link: Link | None, policy: Policy = POLICY
) -> tuple[Finding | None, Ticket | None, Link | None]:
    """The state both sides and the store are in once the service has carried out `plan`."""
    for action in plan.actions:
        match action:
            case CreateTicket():
                assert finding is not None, "a ticket is only created for a finding that exists"
                rendered = render_ticket(finding, policy)
                ticket = Ticket(
                    key=CREATED_KEY, id="10099", project_key=policy.project_key, status="Open",
                    status_category=StatusCategory.TO_DO, summary=rendered.summary, priority=rendered.priority,
                    labels=rendered.labels, marker=FindingMarker(finding.id, finding.product_arn, finding.key),
                    status_changed_by="hubsync bot", status_changed_at=NOW + timedelta(seconds=1),
                )
            case UpdateFinding():
                assert finding is not None, "Security Hub cannot update a finding it no longer has"
                assert ticket is not None or not (action.note and action.note.names_ticket), (
                    "a note names an existing ticket"
                )
                finding = updated(finding, action.for_ticket(ticket.key if ticket else ""))
            case MoveTicket():
                assert ticket is not None
                ticket = _moved(ticket, action)
            case EditTicket():
                assert ticket is not None
                ticket = replace(ticket, summary=action.summary or ticket.summary,
                                 priority=action.priority or ticket.priority)
            case CommentOnTicket():
                assert ticket is not None
    if plan.link is not None:
        link = plan.link if plan.link.ticket_key or ticket is None else replace(plan.link, ticket_key=ticket.key)
    return finding, ticket, link


def _moved(ticket: Ticket, move: MoveTicket) -> Ticket:
    stock = ticket.status in STOCK_STATUSES
    if move.status is not None:
        target = move.status if (move.status in STOCK_STATUSES) == stock else None
    else:
        target = (STOCK_STATUS_OF if stock else STATUS_OF).get(move.disposition)
    if target is None or target == ticket.status:
        return ticket  # no such status in this workflow: the service comments instead
    return replace(ticket, status=target, status_category=STATUS_CATEGORIES[target],
                   status_changed_by="hubsync bot", status_changed_at=NOW + timedelta(seconds=1))
