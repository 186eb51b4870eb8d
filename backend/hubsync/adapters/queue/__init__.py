"""The work queue: hints in, leased to workers, settled. Local (the configured database) or SQS FIFO.

    queue = queue_from_environment(os.environ, store)   # HUBSYNC_QUEUE_URL empty: local; an SQS FIFO URL: SQS
    queue.put(hints)                                     # intake: durable on return, redeliveries dropped
    deliveries = queue.receive(50, wait_seconds=10)      # worker: see port.py for the consumer side

`HUBSYNC_EVENTS_QUEUE_URL` (optional) names the queue of an EventBridge rule's SQS target, whose raw Security Hub
events the worker moves onto the hint queue (`events_source_from_environment`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hubsync.adapters.queue.local import LocalQueue
from hubsync.adapters.queue.port import (
    Delivery,
    HintConsumer,
    QueueMisconfigured,
    QueueUnavailable,
    WorkQueue,
    decode_hint,
    encode_hint,
)
from hubsync.adapters.queue.sqs import SqsEventSource, SqsQueue
from hubsync.adapters.queue.timers import WorkerTimers
from hubsync.adapters.store import Store

QUEUE_URL_VARIABLE = "HUBSYNC_QUEUE_URL"
EVENTS_QUEUE_URL_VARIABLE = "HUBSYNC_EVENTS_QUEUE_URL"


def queue_from_environment(environ: Mapping[str, str] | None, store: Store) -> WorkQueue:
    """The local queue on `store`'s database, or the SQS FIFO queue named by HUBSYNC_QUEUE_URL."""
    environ = os.environ if environ is None else environ
    url = environ.get(QUEUE_URL_VARIABLE, "").strip()
    if not url:
        return LocalQueue(store.engine)
    return SqsQueue.from_url(url, environ)


def events_source_from_environment(environ: Mapping[str, str] | None = None) -> SqsEventSource | None:
    """The EventBridge → SQS events queue named by HUBSYNC_EVENTS_QUEUE_URL, if any."""
    environ = os.environ if environ is None else environ
    url = environ.get(EVENTS_QUEUE_URL_VARIABLE, "").strip()
    return SqsEventSource.from_url(url, environ) if url else None


__all__ = [
    "EVENTS_QUEUE_URL_VARIABLE",
    "QUEUE_URL_VARIABLE",
    "Delivery",
    "HintConsumer",
    "LocalQueue",
    "QueueMisconfigured",
    "QueueUnavailable",
    "SqsEventSource",
    "SqsQueue",
    "WorkQueue",
    "WorkerTimers",
    "decode_hint",
    "encode_hint",
    "events_source_from_environment",
    "queue_from_environment",
]
