"""Hints: what an event says happened, and the one place that turns hints into syncs.

Every event source (EventBridge "Findings - Imported" and "Custom Action", Jira webhooks, workflow post
functions) only names a finding or a ticket. The entry point turns it into a `SyncHint`, puts it on the queue
and answers; a worker later hands a batch of hints to `process`, which syncs the pairs from their current state.
A late, repeated or reordered hint therefore costs reads at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from hubsync.domain.finding import FindingIdentifier, Severity
from hubsync.service.sync import Outcome, SyncContext, sync_hints, sync_tickets


class HintSource(StrEnum):
    SECURITYHUB_IMPORTED = "securityhub.imported"
    SECURITYHUB_CUSTOM_ACTION = "securityhub.custom-action"  # escalate by hand, whatever the rules say
    JIRA_WEBHOOK = "jira.webhook"
    JIRA_POST_FUNCTION = "jira.post-function"


class Priority(IntEnum):
    """Lower goes first when a backlog forms (the local queue orders by it; SQS FIFO by arrival)."""

    BY_HAND = 0  # a person pressed "Send to Jira" and is waiting
    CRITICAL = 1
    HIGH = 2
    NORMAL = 3  # medium findings, Jira events, anything unranked
    LOW = 4
    INFORMATIONAL = 5


SEVERITY_PRIORITY = {
    Severity.CRITICAL: Priority.CRITICAL,
    Severity.HIGH: Priority.HIGH,
    Severity.MEDIUM: Priority.NORMAL,
    Severity.LOW: Priority.LOW,
    Severity.INFORMATIONAL: Priority.INFORMATIONAL,
}


@dataclass(frozen=True)
class SyncHint:
    """One finding or one ticket of one tenant to sync. `event_id` (the EventBridge or webhook delivery id) makes
    a redelivered event a no-op on the queue; `priority` orders a backlog."""

    tenant_id: str
    source: HintSource
    finding: FindingIdentifier | None = None
    ticket_key: str | None = None
    event_id: str | None = None
    priority: Priority = Priority.NORMAL

    def __post_init__(self) -> None:
        if (self.finding is None) == (self.ticket_key is None):
            raise ValueError("a hint names either a finding or a ticket")

    @property
    def by_hand(self) -> bool:
        return self.source is HintSource.SECURITYHUB_CUSTOM_ACTION

    @property
    def group_key(self) -> str:
        """What a queue orders by (SQS FIFO MessageGroupId): hints of one finding or ticket never run at once."""
        subject = self.finding.key if self.finding is not None else f"ticket:{self.ticket_key}"
        return f"{self.tenant_id}:{subject}"


class HintQueue(Protocol):
    def put(self, hints: Sequence[SyncHint]) -> None:
        """Durably enqueue (on return the hints survive a crash); a hint whose `event_id` was seen is dropped."""


def process(ctx: SyncContext, hints: Sequence[SyncHint]) -> list[Outcome]:
    """Sync what a batch of one tenant's hints names: findings by identifier (escalating the custom action's by
    hand), tickets by key."""
    foreign = {hint.tenant_id for hint in hints} - {ctx.tenant_id}
    if foreign:
        raise ValueError(f"hints of tenants {sorted(foreign)} given to tenant {ctx.tenant_id}'s sync")
    identifiers = [hint.finding for hint in hints if hint.finding is not None]
    by_hand = frozenset(hint.finding.key for hint in hints if hint.finding is not None and hint.by_hand)
    ticket_keys = list(dict.fromkeys(hint.ticket_key for hint in hints if hint.ticket_key is not None))
    outcomes = sync_hints(ctx, identifiers, by_hand=by_hand) if identifiers else []
    if ticket_keys:
        outcomes += sync_tickets(ctx, ticket_keys)
    return outcomes
