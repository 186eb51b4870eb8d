"""The work queue: hints in, leased to workers, settled. Local (the configured database) or SQS FIFO.

    queue = LocalQueue(store.engine)  or  SqsQueue.from_url(url, region)   # bootstrap.open_queue chooses
    queue.put(hints)                                     # intake: durable on return, redeliveries dropped
    deliveries = queue.receive(50, wait_seconds=10)      # worker: see port.py for the consumer side

`HUBSYNC_EVENTS_QUEUE_URL` (optional) names the queue of an EventBridge rule's SQS target, whose raw Security Hub
events the worker moves onto the hint queue (`SqsEventSource`).
"""

from __future__ import annotations

from hubsync.adapters.queue.local import LocalQueue
from hubsync.adapters.queue.port import decode_hint, encode_hint
from hubsync.adapters.queue.sqs import SqsEventSource, SqsQueue
from hubsync.adapters.queue.timers import WorkerTimers
from hubsync.domain.ports import QueueMisconfigured, QueueUnavailable

__all__ = [
    "EVENTS_QUEUE_URL_VARIABLE",
    "QUEUE_URL_VARIABLE",
    "LocalQueue",
    "QueueMisconfigured",
    "QueueUnavailable",
    "SqsEventSource",
    "SqsQueue",
    "WorkerTimers",
    "decode_hint",
    "encode_hint",
]
