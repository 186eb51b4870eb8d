"""Deliver emitted events to EventBridge-style targets: an API destination (HTTP POST with an API-key header)
and an SQS queue, each on its own background thread, in emission order.

Like EventBridge, a target only receives events emitted after it was added; a failed delivery (HTTP 429 or
5xx, a connection error, an SQS throttle or server error) is retried with exponential backoff a bounded number
of times and then kept in a dead-letter list, as a rule's DLQ would keep it. Other failures (HTTP 4xx) go to the
dead-letter list at once. Each target has a rule's detail-types: CSPM's two by default, "Findings Imported V2" when
asked. `flush()` waits until everything emitted so far has been delivered or given up on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

Event = dict[str, Any]
# What a target receives unless its rule says otherwise: the CSPM events, as hubsync's EventBridge rules match them.
CSPM_DETAIL_TYPES = ("Security Hub Findings - Imported", "Security Hub Findings - Custom Action")
RETRIED_SQS_ERRORS = {"ThrottlingException", "RequestThrottled", "ServiceUnavailable", "InternalFailure"}


class DeliveryFailed(Exception):
    """The target refused the event; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Target(Protocol):
    id: str

    def send(self, event: Event) -> None: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class HttpTarget:
    """An EventBridge API destination with an API-key connection: POST the event JSON with the key header."""

    id: str
    url: str
    header_name: str
    header_value: str
    timeout_s: float = 5.0
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    def send(self, event: Event) -> None:
        headers = {"Content-Type": "application/json", self.header_name: self.header_value}
        try:
            response = self._session.post(self.url, data=json.dumps(event), headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryFailed(f"HTTP {response.status_code}", retryable=True)
        if response.status_code >= 300:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}", retryable=False)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "type": "http", "url": self.url, "header_name": self.header_name}


@dataclass
class SqsTarget:
    """An SQS queue target; FIFO queues get the finding as message group and the event id as deduplication id."""

    id: str
    queue_url: str
    client: Any

    @property
    def fifo(self) -> bool:
        return self.queue_url.endswith(".fifo")

    def send(self, event: Event) -> None:
        message: dict[str, Any] = {"QueueUrl": self.queue_url, "MessageBody": json.dumps(event)}
        if self.fifo:
            message["MessageGroupId"] = finding_key(event["detail"]["findings"][0])
            message["MessageDeduplicationId"] = event["id"]
        try:
            self.client.send_message(**message)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            raise DeliveryFailed(f"{code}: {exc}", retryable=code in RETRIED_SQS_ERRORS or status >= 500) from None
        except BotoCoreError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True) from None

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "type": "sqs", "queue_url": self.queue_url}


def finding_key(finding: dict[str, Any]) -> str:
    """sha256 of `ProductArn + "\\n" + Id`: the finding's identity, short enough for an SQS message group. An OCSF
    finding's `metadata.uid` is already such a digest."""
    if "ProductArn" not in finding:
        return str(finding["metadata"]["uid"])
    return hashlib.sha256(f"{finding['ProductArn']}\n{finding['Id']}".encode()).hexdigest()


@dataclass
class Delivery:
    status: str = "pending"  # pending, delivered, failed or cancelled
    attempts: int = 0
    error: str | None = None


@dataclass
class EventRecord:
    event: Event
    deliveries: dict[str, Delivery]

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "deliveries": {target: vars(delivery).copy() for target, delivery in self.deliveries.items()},
        }


class EventBus:
    """Emitted events, their targets and delivery state. Thread-safe."""

    def __init__(
        self,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        log_size: int = 20000,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._lock = threading.Condition()
        self._log: deque[EventRecord] = deque(maxlen=log_size)
        self._dead_letter: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._workers: dict[str, _Worker] = {}
        self._pending = 0
        self._ids = itertools.count(1)

    # -- targets ---------------------------------------------------------------------------------
    def add_http_target(
        self, url: str, header_name: str = "x-api-key", header_value: str = "",
        detail_types: Iterable[str] = CSPM_DETAIL_TYPES,
    ) -> str:
        """Deliver to an API destination; returns the target id."""
        return self._add(HttpTarget(self._new_id("http"), url, header_name, header_value), detail_types)

    def add_sqs_target(
        self,
        queue_url: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        credentials: dict[str, str] | None = None,
        detail_types: Iterable[str] = CSPM_DETAIL_TYPES,
    ) -> str:
        """Deliver to an SQS queue through a boto3 client (e.g. moto's server); returns the target id.

        `credentials` holds boto3's keyword names: aws_access_key_id, aws_secret_access_key, aws_session_token.
        """
        client = boto3.session.Session().client(
            "sqs",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            **(credentials or {}),
        )
        return self._add(SqsTarget(self._new_id("sqs"), queue_url, client), detail_types)

    def remove_target(self, target_id: str) -> None:
        with self._lock:
            worker = self._workers.pop(target_id, None)
        if worker is None:
            raise KeyError(target_id)
        worker.stop()

    def targets(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**worker.target.describe(), "detail_types": sorted(worker.detail_types)}
                    for worker in self._workers.values()]

    # -- events ----------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Record `event` and queue it for every current target whose rule matches its detail-type."""
        with self._lock:
            workers = [worker for worker in self._workers.values() if event["detail-type"] in worker.detail_types]
            record = EventRecord(event, {worker.target.id: Delivery() for worker in workers})
            self._log.append(record)
            self._pending += len(workers)
            for worker in workers:
                worker.queue.put(record)

    def events(self) -> list[dict[str, Any]]:
        """Every recorded event with its delivery state per target, oldest first."""
        with self._lock:
            return [record.as_dict() for record in self._log]

    def emitted(self) -> list[Event]:
        with self._lock:
            return [record.event for record in self._log]

    def dead_letter(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._dead_letter)

    def clear(self) -> None:
        """Forget recorded events and dead letters (deliveries in flight continue)."""
        with self._lock:
            self._log.clear()
            self._dead_letter.clear()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued delivery has finished; TimeoutError if that takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} event deliveries still pending after {timeout}s")
                self._lock.wait(remaining)

    def stop(self) -> None:
        """Stop every delivery thread; undelivered events are marked cancelled."""
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()

    # -- internals -------------------------------------------------------------------------------
    def _new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def _add(self, target: Target, detail_types: Iterable[str]) -> str:
        worker = _Worker(target, self, frozenset(detail_types))
        with self._lock:
            self._workers[target.id] = worker
        worker.start()
        return target.id

    def _finish(self, record: EventRecord, target: Target, delivery: Delivery) -> None:
        with self._lock:
            if delivery.status == "failed":
                self._dead_letter.append(
                    {"target": target.id, "event": record.event, "error": delivery.error, "attempts": delivery.attempts}
                )
            self._pending -= 1
            self._lock.notify_all()

    def _delay(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))


class _Worker:
    """Delivers one target's events in order on a daemon thread."""

    def __init__(self, target: Target, bus: EventBus, detail_types: frozenset[str]) -> None:
        self.target = target
        self.detail_types = detail_types
        self.queue: queue.Queue[EventRecord | None] = queue.Queue()
        self._bus = bus
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"securityhub-events-{target.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            record = self.queue.get()
            if record is None:
                return
            delivery = record.deliveries[self.target.id]
            if self._stopping.is_set():
                delivery.status = "cancelled"
            else:
                self._deliver(record.event, delivery)
            self._bus._finish(record, self.target, delivery)

    def _deliver(self, event: Event, delivery: Delivery) -> None:
        while True:
            delivery.attempts += 1
            try:
                self.target.send(event)
            except DeliveryFailed as exc:
                delivery.error = str(exc)
                if not exc.retryable or delivery.attempts >= self._bus.max_attempts:
                    delivery.status = "failed"
                    return
                if self._stopping.wait(self._bus._delay(delivery.attempts)):
                    delivery.status = "cancelled"
                    return
            else:
                delivery.status = "delivered"
                delivery.error = None
                return
