"""Hints the queue tests put."""

from __future__ import annotations

from hubsync.domain.hint import HintSource, Priority, SyncHint
from tests.integration.store.builders import finding


def hint(
    tenant_id: str,
    number: int,
    event: str | None = None,
    source: HintSource = HintSource.SECURITYHUB_IMPORTED,
    priority: Priority = Priority.NORMAL,
) -> SyncHint:
    return SyncHint(tenant_id, source, finding=finding(number), event_id=event, priority=priority)


def ticket_hint(tenant_id: str, key: str, event: str | None = None) -> SyncHint:
    return SyncHint(tenant_id, HintSource.JIRA_WEBHOOK, ticket_key=key, event_id=event)
