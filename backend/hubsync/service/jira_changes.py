"""A Jira issue changed (a webhook, or the "Sync with Security Hub" post function): queue a hint for its pair.

The hint names the finding when the issue carries hubsync's `hubsync.finding` property (Jira embeds it in the
payload), else the ticket; the worker then syncs the pair from its current state. Its `event_id` is the delivery's
own (the same on every retry), so a redelivery is dropped by the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.ports import HintQueue
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker
from hubsync.service.intake import bounded_event_id


def accept_issue_change(
    queue: HintQueue, tenant_id: str, source: HintSource, issue: Mapping[str, Any], event_id: str | None
) -> SyncHint:
    """Queue the hint for a changed issue (`issue`: the payload's issue object, its `key` checked by the caller);
    durable on return. Raises the queue's `QueueUnavailable` when it cannot take it (the caller answers 503)."""
    finding = finding_of(issue.get("properties"))
    hint = SyncHint(
        tenant_id=tenant_id,
        source=source,
        finding=finding,
        ticket_key=None if finding is not None else issue["key"],
        event_id=bounded_event_id(f"{source.value}:{event_id}") if event_id else None,
    )
    queue.put([hint])
    return hint


def finding_of(properties: Any) -> FindingIdentifier | None:
    """The finding named by the issue's `hubsync.finding` property, as Jira embedded it in the payload (a list of
    {key, value} in webhooks, a mapping elsewhere)."""
    value = None
    if isinstance(properties, list):
        value = next(
            (p.get("value") for p in properties if isinstance(p, Mapping) and p.get("key") == MARKER_PROPERTY), None
        )
    elif isinstance(properties, Mapping):
        value = properties.get(MARKER_PROPERTY)
    marker = FindingMarker.from_property(value)
    return None if marker is None else FindingIdentifier(marker.finding_id, marker.product_arn)
