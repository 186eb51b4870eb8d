"""The work queue's two sides: producers `put` hints (the `HintQueue` of domain/ports.py), the worker consumes.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, Priority, SyncHint


class QueueUnavailable(Exception):
    """The queue could not take or give work right now (database or SQS unreachable, throttled). Retry later; an
    intake answers 503 so that EventBridge retries."""


class QueueMisconfigured(Exception):
    """The queue is set up in a way hubsync cannot run on; the message says what to change."""


@dataclass(frozen=True)
class Delivery:
    """One hint leased to this worker. `receipt` is the adapter's handle for settling it; `attempts` counts the
    receives so far, this one included."""

    hint: SyncHint
    receipt: str
    attempts: int
    enqueued_at: datetime | None = None


class HintConsumer(Protocol):
    @property
    def max_attempts(self) -> int:
        """Receives after which a failing hint is dead-lettered."""

    @property
    def lease_seconds(self) -> float:
        """How long a receive leases its hints (extend before it runs out)."""

    @property
    def counts_every_receive(self) -> bool:
        """True when every receive counts toward `max_attempts` whatever the worker says (SQS: its receive count
        drives the redrive); False when `retry_later(..., counted=False)` gives the attempt back (local)."""

    def receive(self, max_hints: int, wait_seconds: float) -> list[Delivery]:
        """Up to `max_hints` hints, waiting up to `wait_seconds` for the first; most urgent first."""

    def extend(self, deliveries: Sequence[Delivery], seconds: float) -> None:
        """Keep these leased for `seconds` more (a long sync)."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Done: remove them."""

    def retry_later(
        self, deliveries: Sequence[Delivery], delay_seconds: float, error: str, *, counted: bool = True
    ) -> None:
        """Failed this time: deliver again after `delay_seconds`. `counted=False`: the failure was not the hints'
        own (the tenant's side was unreachable), so this attempt does not count toward `max_attempts` where the
        queue can take it back (see `counts_every_receive`)."""

    def dead_letter(self, deliveries: Sequence[Delivery], error: str) -> None:
        """Give up on them: park them where a person can look (the local DEAD state, the SQS dead-letter queue)."""


class WorkQueue(HintConsumer, Protocol):
    """Both sides: what `queue_from_environment` returns."""

    def put(self, hints: Sequence[SyncHint]) -> None:
        """Durably enqueue; a hint whose (tenant, `event_id`) was seen is dropped."""


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
