"""The hint's wire format, shared by the queue adapters (the local queue's body column, an SQS message body).

The queue's two sides are ports (`HintQueue`, `HintConsumer`, `WorkQueue` in domain/ports.py): producers `put` hints,
the worker consumes.

The consumer side is five calls, the same on every adapter (local on the database, SQS FIFO):

    deliveries = queue.receive(max_hints=50, wait_seconds=10)  # leased to this worker, none of them twice
    queue.extend(deliveries, seconds=60)                       # still working: keep the lease
    queue.ack(done)                                            # gone for good
    queue.retry_later(failed, delay_seconds=30, error="...")   # back on the queue after the delay
    queue.retry_later(stuck, 300, "...", counted=False)        # not the hint's fault: the attempt is given back
    queue.dead_letter(hopeless, error="...")                   # parked for a person (after `max_attempts`)

A lease that runs out (the worker crashed) hands the hint to another worker: delivery is at least once, which the
level-triggered sync makes harmless. Hints of one `group_key` (one finding, one ticket) are never leased to two
workers at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, Priority, SyncHint

# -- the wire format of a hint (the local queue's body column, an SQS message body) ----------------------------

FORMAT = "hubsync.hint/1"


def encode_hint(hint: SyncHint) -> dict[str, Any]:
    finding = hint.finding
    return {
        "format": FORMAT,
        "tenant_id": hint.tenant_id,
        "source": hint.source.value,
        "finding": None if finding is None else {"id": finding.id, "product_arn": finding.product_arn},
        "ticket_key": hint.ticket_key,
        "event_id": hint.event_id,
        "priority": int(hint.priority),
    }


def decode_hint(data: Mapping[str, Any]) -> SyncHint:
    """The hint `encode_hint` wrote; ValueError for anything else."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError("not a hubsync hint")
    finding = data.get("finding")
    try:
        return SyncHint(
            tenant_id=str(data["tenant_id"]),
            source=HintSource(data["source"]),
            finding=None if finding is None else FindingIdentifier(str(finding["id"]), str(finding["product_arn"])),
            ticket_key=data.get("ticket_key"),
            event_id=data.get("event_id"),
            priority=Priority(int(data.get("priority", Priority.NORMAL))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed hubsync hint: {exc}") from None


def hint_json(hint: SyncHint) -> str:
    return json.dumps(encode_hint(hint), sort_keys=True, separators=(",", ":"))
