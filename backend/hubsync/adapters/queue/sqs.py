"""SQS: the hint queue on an SQS FIFO queue (many machines), and the raw EventBridge events an SQS target delivers.

The FIFO queue does the distribution: `MessageGroupId` is the hint's group (tenant and finding, or ticket), so SQS
never hands two messages of one finding to two workers at once; `MessageDeduplicationId` comes from the event id
(a redelivery within SQS's 5-minute window is dropped; a later one costs a sync that finds nothing to do), and is
random for a hint without one (two post functions on a ticket are two hints); long polling; the visibility timeout
is the lease, extended while a sync runs. The queue must have a redrive policy: its `maxReceiveCount` is how many
receives hubsync tries, and SQS itself moves a message received that often to the dead-letter queue (the worker
writes the audit entry when it gives up). SQS counts every receive, an outage's included: `maxReceiveCount` times
the worker's capped backoff is how long a tenant may be unreachable before its hints are parked (the template's
default of 300 gives about a day; see `hubsync.service.worker.outage_window`). Priorities are carried as a message
attribute but SQS FIFO serves by arrival: run more workers rather than expect critical findings to jump a backlog.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hubsync.adapters.queue.port import decode_hint, hint_json
from hubsync.domain.hint import SyncHint
from hubsync.domain.ports import Delivery, QueueMisconfigured, QueueUnavailable, RawMessage

log = logging.getLogger(__name__)

SQS_BATCH = 10  # SQS's limit per batch call
LONG_POLL_MAX = 20  # seconds, SQS's limit
DEFAULT_VISIBILITY_SECONDS = 60
MAX_VISIBILITY = 43200  # seconds (12 hours), SQS's limit
ID_LIMIT = 128  # MessageGroupId and MessageDeduplicationId
_REGION_IN_URL = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)


def sqs_client(queue_url: str, region: str | None = None) -> Any:
    """A client for the queue's Region (from an AWS queue URL, else `region`: AWS_REGION); the endpoint and
    credentials come from boto3's own AWS_* lookup (AWS_ENDPOINT_URL_SQS points it at moto in the sandbox)."""
    match = _REGION_IN_URL.match(queue_url)
    region = match.group(1) if match else region
    return boto3.session.Session().client(
        "sqs", region_name=region, config=Config(retries={"max_attempts": 5, "mode": "standard"})
    )


class SqsQueue:
    """`HintQueue` and `HintConsumer` on an SQS FIFO queue with a redrive policy."""

    counts_every_receive = True  # ApproximateReceiveCount climbs whatever the worker does

    def __init__(self, queue_url: str, client: Any, *, visibility_seconds: int = DEFAULT_VISIBILITY_SECONDS) -> None:
        if not queue_url.endswith(".fifo"):
            raise QueueMisconfigured(
                f"{queue_url} is not an SQS FIFO queue: hubsync needs one (its name ends in .fifo) so that one "
                "finding is never synced by two workers at once"
            )
        self.queue_url = queue_url
        self._client = client
        self.visibility_seconds = visibility_seconds
        self._max_attempts: int | None = None

    @classmethod
    def from_url(cls, queue_url: str, region: str | None = None) -> SqsQueue:
        return cls(queue_url, sqs_client(queue_url, region))

    @property
    def lease_seconds(self) -> float:
        return float(self.visibility_seconds)

    @property
    def max_attempts(self) -> int:
        """The redrive policy's `maxReceiveCount` (read once, when the worker first needs it)."""
        if self._max_attempts is None:
            attributes = self._call("get_queue_attributes", AttributeNames=["RedrivePolicy"]).get("Attributes", {})
            policy = json.loads(attributes.get("RedrivePolicy") or "null")
            if not policy or "maxReceiveCount" not in policy:
                raise QueueMisconfigured(
                    f"{self.queue_url} has no redrive policy: give it a dead-letter queue (maxReceiveCount 300, say: "
                    "every receive counts, an outage's too) so that a hint that keeps failing is parked instead of "
                    "retried for ever"
                )
            self._max_attempts = int(policy["maxReceiveCount"])
        return self._max_attempts

    def ready(self) -> bool:
        """SQS answers for the queue (for /readyz)."""
        self._call("get_queue_attributes", AttributeNames=["ApproximateNumberOfMessages"])
        return True

    def depth(self) -> int:
        """Messages waiting, in flight and delayed (SQS's approximate counts, for /metrics). How long the oldest
        has waited is no queue attribute: CloudWatch's `ApproximateAgeOfOldestMessage` metric for the queue says
        it, so this adapter has no `oldest_age`."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        attributes = self._call("get_queue_attributes", AttributeNames=names).get("Attributes", {})
        return sum(int(attributes.get(name, 0)) for name in names)

    # -- producing ------------------------------------------------------------------------------------------
    def put(self, hints: Sequence[SyncHint]) -> None:
        """Send in batches of 10; on return SQS has stored every hint (a partial failure raises, and sending all
        again is safe: hints of an event keep their deduplication ids, and a repeated hint without one costs a sync
        that finds nothing to do)."""
        entries = []
        for index, hint in enumerate(hints):
            body = hint_json(hint)
            entries.append(
                {
                    "Id": str(index),
                    "MessageBody": body,
                    "MessageGroupId": _short(hint.group_key),
                    "MessageDeduplicationId": deduplication_id(hint),
                    "MessageAttributes": {"priority": {"DataType": "Number", "StringValue": str(int(hint.priority))}},
                }
            )
        for start in range(0, len(entries), SQS_BATCH):
            response = self._call("send_message_batch", Entries=entries[start : start + SQS_BATCH])
            failed = response.get("Failed") or []
            if failed:
                first = failed[0]
                raise QueueUnavailable(
                    f"SQS refused {len(failed)} hints: {first.get('Code')} {first.get('Message', '')}".strip()
                )

    # -- consuming ------------------------------------------------------------------------------------------
    def receive(self, max_hints: int, wait_seconds: float) -> list[Delivery]:
        """Long-poll for the first messages, then take what is there at once, up to `max_hints`. A message that
        is not a hint is logged and left alone: the redrive policy moves it to the dead-letter queue."""
        messages: list[dict[str, Any]] = []
        wait = max(0, min(LONG_POLL_MAX, round(wait_seconds)))
        while len(messages) < max_hints:
            response = self._call(
                "receive_message",
                MaxNumberOfMessages=min(SQS_BATCH, max_hints - len(messages)),
                WaitTimeSeconds=0 if messages else wait,
                VisibilityTimeout=self.visibility_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
            batch = response.get("Messages") or []
            messages += batch
            if len(batch) < SQS_BATCH:
                break
        deliveries = []
        for message in messages:
            attributes = message.get("Attributes", {})
            try:
                hint = decode_hint(json.loads(message["Body"]))
            except ValueError as exc:
                log.error("SQS message %s is not a hubsync hint (%s): left for the dead-letter queue",
                          message.get("MessageId"), exc)
                continue
            sent = attributes.get("SentTimestamp")
            deliveries.append(
                Delivery(
                    hint=hint,
                    receipt=message["ReceiptHandle"],
                    attempts=int(attributes.get("ApproximateReceiveCount", "1")),
                    enqueued_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
                )
            )
        return deliveries

    def extend(self, deliveries: Sequence[Delivery], seconds: float) -> None:
        self._change_visibility(deliveries, int(seconds))

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        for start in range(0, len(deliveries), SQS_BATCH):
            chunk = deliveries[start : start + SQS_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": d.receipt} for i, d in enumerate(chunk)]
            self._log_failures("delete", self._call("delete_message_batch", Entries=entries))

    def retry_later(
        self, deliveries: Sequence[Delivery], delay_seconds: float, error: str, *, counted: bool = True
    ) -> None:
        """`counted` changes nothing here: SQS has counted the receive (see the module docstring)."""
        self._change_visibility(deliveries, min(MAX_VISIBILITY, int(delay_seconds)))

    def dead_letter(self, deliveries: Sequence[Delivery], error: str) -> None:
        """Make them visible again at once: their receive count has reached `maxReceiveCount`, so SQS moves them
        to the dead-letter queue on the next receive (the queue's own redrive, not a copy of ours)."""
        self._change_visibility(deliveries, 0)

    # -- internals ------------------------------------------------------------------------------------------
    def _change_visibility(self, deliveries: Sequence[Delivery], seconds: int) -> None:
        for start in range(0, len(deliveries), SQS_BATCH):
            chunk = deliveries[start : start + SQS_BATCH]
            entries = [
                {"Id": str(i), "ReceiptHandle": d.receipt, "VisibilityTimeout": seconds} for i, d in enumerate(chunk)
            ]
            self._log_failures("change the visibility of", self._call("change_message_visibility_batch",
                                                                      Entries=entries))

    def _log_failures(self, what: str, response: Mapping[str, Any]) -> None:
        """A receipt that expired (the message went to another worker) cannot be settled: that worker owns it."""
        for failure in response.get("Failed") or []:
            log.warning("could not %s SQS message: %s %s", what, failure.get("Code"), failure.get("Message"))

    def _call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._client, operation)(QueueUrl=self.queue_url, **parameters)
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"SQS {operation} failed: {exc}") from exc
        return response


class SqsEventSource:
    """The queue of an EventBridge rule's SQS target: each message body is one raw Security Hub event. The worker
    turns them into hints on the hint queue, then deletes them (`delete` only after the hints are queued)."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self.queue_url = queue_url
        self._client = client

    @classmethod
    def from_url(cls, queue_url: str, region: str | None = None) -> SqsEventSource:
        return cls(queue_url, sqs_client(queue_url, region))

    def receive(self, max_messages: int, wait_seconds: float) -> list[RawMessage]:
        try:
            response = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(SQS_BATCH, max_messages)),
                WaitTimeSeconds=max(0, min(LONG_POLL_MAX, round(wait_seconds))),
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"SQS receive_message failed: {exc}") from exc
        return [RawMessage(m["Body"], m["ReceiptHandle"], m["MessageId"]) for m in response.get("Messages") or []]

    def delete(self, messages: Sequence[RawMessage]) -> None:
        for start in range(0, len(messages), SQS_BATCH):
            chunk = messages[start : start + SQS_BATCH]
            try:
                self._client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(chunk)],
                )
            except (ClientError, BotoCoreError) as exc:
                raise QueueUnavailable(f"SQS delete_message_batch failed: {exc}") from exc


def deduplication_id(hint: SyncHint) -> str:
    """From the tenant and event id (one event may name several tenants' findings). A hint without an event id is
    its own: a random id, so SQS never drops it as a copy of an identical-bodied one within its 5-minute window."""
    if not hint.event_id:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{hint.tenant_id}\n{hint.event_id}".encode()).hexdigest()


def _short(value: str) -> str:
    """SQS ids are at most 128 characters: longer group keys go by their hash."""
    return value if len(value) <= ID_LIMIT else hashlib.sha256(value.encode()).hexdigest()
