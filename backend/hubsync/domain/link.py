"""The link between one finding and one ticket: the primary record, and the memory the rules need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hubsync.domain.finding import FindingIdentifier, WorkflowStatus
from hubsync.domain.ticket import Disposition


class LinkState(StrEnum):
    CLAIMED = "CLAIMED"  # a creation is under way (or was interrupted): resolve it before creating again
    LINKED = "LINKED"
    BROKEN = "BROKEN"  # the ticket was deleted; the finding may be escalated again


@dataclass(frozen=True)
class Link:
    """What was last seen and written, per pair. Saved after every applied plan."""

    finding_key: str
    finding_id: str
    product_arn: str
    state: LinkState
    ticket_key: str | None = None
    secondary_key: str | None = None
    # The finding's provider UpdatedAt when the link last looked at it: an echo of our own write keeps it.
    seen_updated_at: datetime | None = None
    # The provider UpdatedAt at the moment the ticket was first seen FIXED: a later one means it recurred.
    fixed_at_updated_at: datetime | None = None
    written_workflow: WorkflowStatus | None = None  # the workflow status hubsync last wrote
    seen_disposition: Disposition | None = None
    accepted_until: datetime | None = None  # when a risk acceptance expires (rule 13)
    rendered_severity: str | None = None  # what the ticket shows, for rule 12
    rendered_title: str | None = None
    # When hubsync turned a suppression made outside Jira into a risk-acceptance request (rule 8): asked once, and
    # a ticket moved on to an open status after this moment means the request was not approved (rule 9).
    risk_requested_at: datetime | None = None

    @property
    def identifier(self) -> FindingIdentifier:
        """The linked finding, as Security Hub's update and lookup APIs name it."""
        return FindingIdentifier(self.finding_id, self.product_arn)


class ClaimOutcome(StrEnum):
    FRESH = "FRESH"  # this caller owns a new claim (or one on a BROKEN link): create the ticket
    UNFINISHED = "UNFINISHED"  # this caller took over a claim an earlier attempt left: search the marker, then create
    IN_PROGRESS = "IN_PROGRESS"  # a claim within its lease: do not create; try again at `Claim.live_until`
    EXISTING = "EXISTING"  # the finding is already linked to `link.ticket_key`


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    link: Link
    version: int  # the row version this claim saw or wrote; `save` and `release` check it
    live_until: datetime | None = None  # IN_PROGRESS: when the claim may be taken over

    @property
    def owned(self) -> bool:
        """True when this caller, and no one else, may create the finding's ticket."""
        return self.outcome in (ClaimOutcome.FRESH, ClaimOutcome.UNFINISHED)


class StaleLink(RuntimeError):
    """The link changed since this unit of work read or claimed it; re-read and decide again."""
