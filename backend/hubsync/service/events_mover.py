"""The events mover: raw EventBridge events, delivered to an SQS queue, moved onto the hint queue as the hints of
every enabled tenant watching the event's account and reading its Security Hub (CSPM or the new one: an account
running both sends both kinds of event, and each tenant reads one).

    events queue ─> parse (one message, one or more Security Hub events) ─> tenants watching the account that
        read the event's generation ─> their hints onto the hint queue ─> delete the message

An event only tenants of the other generation watch is no work: counted (`other_generation`), logged once per
batch with their number, and deleted.

A message is deleted only once its hints are queued (a crash in between queues them again: the sync is
level-triggered, so a repeated hint costs reads at most). A message that is not a Security Hub event hubsync takes
is logged and deleted: it is no work, and would only come back.
"""

from __future__ import annotations

import logging
import threading

from hubsync import metrics
from hubsync.domain.ports import EventSource, QueueUnavailable, StorePort, WorkQueue
from hubsync.service.intake import (
    InvalidEvent,
    UnsupportedEvent,
    hints_for,
    parse_event_body,
    reads,
    tenants_watching,
)

log = logging.getLogger(__name__)


class EventsMover:
    def __init__(self, store: StorePort, queue: WorkQueue, events: EventSource) -> None:
        self.store = store
        self.queue = queue
        self.events = events

    def run(self, stop: threading.Event, wait_seconds: float) -> None:
        """Move batches until `stop` is set; an unavailable events queue is waited out."""
        while not stop.is_set():
            try:
                self.move_once(wait_seconds)
            except QueueUnavailable as exc:
                log.warning("events queue unavailable: %s", exc)
                stop.wait(wait_seconds)

    def move_once(self, wait_seconds: float = 0.0) -> int:
        """Move one batch of raw events from the EventBridge → SQS queue onto the hint queue; returns how many
        hints were queued."""
        messages = self.events.receive(10, wait_seconds)
        if not messages:
            return 0
        with self.store.read() as uow:
            tenants = uow.tenants.list(enabled_only=True)
        queued = other_generation = 0
        for message in messages:
            try:
                events = parse_event_body(message.body)
            except (ValueError, InvalidEvent, UnsupportedEvent) as exc:
                log.error("events queue message %s is not a Security Hub event hubsync takes: %s",
                          message.message_id, exc)
                metrics.record_rejected_event("unsupported" if isinstance(exc, UnsupportedEvent) else "invalid")
                continue
            for event in events:
                watching = tenants_watching(event.account, tenants)
                reading = [tenant for tenant in watching if reads(tenant, event)]
                outcome = "queued" if reading else "other_generation" if watching else "unrouted"
                metrics.record_events([event.detail_type], outcome)
                if not watching:
                    log.warning("event %s from account %s: no tenant watches that account", event.id, event.account)
                elif not reading:
                    other_generation += 1
                for tenant in reading:
                    hints = hints_for(tenant.id, [event])
                    self.queue.put(hints)
                    queued += len(hints)
        if other_generation:
            log.info("%d events of a Security Hub generation no tenant watching their account reads: not queued",
                     other_generation)
        self.events.delete(messages)
        return queued
