"""Hints: what an event says happened. Every event source (EventBridge "Findings - Imported" and "Custom Action",
Jira webhooks and Forge's product events, workflow post functions) only names a finding or a ticket; the entry
point turns it into a `SyncHint` and queues it, and a worker later syncs the pair from its current state
(`service/hints.process`).
A late, repeated or reordered hint therefore costs reads at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from hubsync.domain.finding import FindingIdentifier, Severity


class HintSource(StrEnum):
    SECURITYHUB_IMPORTED = "securityhub.imported"
    SECURITYHUB_CUSTOM_ACTION = "securityhub.custom-action"  # escalate by hand, whatever the rules say
    JIRA_WEBHOOK = "jira.webhook"  # a Connect app's webhook
    JIRA_ADMIN_WEBHOOK = "jira.admin-webhook"  # the admin webhook hubsync registered on a Data Center or API-token site
    JIRA_FORGE_EVENT = "jira.forge-event"  # a product event Forge delivered to the app's remote
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
