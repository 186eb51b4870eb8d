"""Forge's asynchronous calls to a remote (product events, lifecycle events, the post function, scheduled triggers,
pre-uninstall), sent from a background thread so that Jira's own request never waits on the app.

Forge's delivery contract (docs/forge.md §4): POST, 5 s timeout, any 2xx is done; otherwise up to 4 attempts in
all, each retry carrying `retryContext {retryCount, retryReason, retryData: null}` where `retryReason` is
`INVALID_FORGE_INVOCATION_TOKEN` after a 401, `TIMEOUT_ERROR` after a timeout, and
`INVALID_REMOTE_INVOCATION_ERROR` after any other answer or a network error. A retry waits in the queue without
holding back other deliveries (so a retried event may arrive after later ones, as on Forge); first attempts go out
in the order the events happened, one at a time.

Every call is recorded, attempt by attempt, for tests (`records()`).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger(__name__)

INVALID_FORGE_INVOCATION_TOKEN = "INVALID_FORGE_INVOCATION_TOKEN"
INVALID_REMOTE_INVOCATION_ERROR = "INVALID_REMOTE_INVOCATION_ERROR"
TIMEOUT_ERROR = "TIMEOUT_ERROR"


@dataclass
class Attempt:
    status: int | None  # None: no answer (network error or timeout)
    error: str | None
    retry_reason: str | None  # why this attempt failed, as the next attempt's retryContext says; None if it passed
    retry_context: dict[str, Any] | None  # what this attempt carried (None on the first)
    at: float  # epoch seconds

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "retryReason": self.retry_reason,
                "retryContext": self.retry_context, "at": self.at}


@dataclass
class Delivery:
    """One call Forge makes to a remote, with every attempt it took."""

    id: str
    kind: str  # product-event | lifecycle | post-function | scheduled | pre-uninstall
    event_type: str | None  # the event's eventType (product and lifecycle events)
    module_key: str  # the trigger, post function, scheduled trigger or preUninstall module
    endpoint_key: str
    installation_id: str
    url: str
    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = "pending"  # pending | delivered | failed

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "eventType": self.event_type,
            "moduleKey": self.module_key,
            "endpointKey": self.endpoint_key,
            "installationId": self.installation_id,
            "url": self.url,
            "status": self.status,
            "outcome": self.outcome,
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


# What the platform supplies for each attempt: fresh headers (a new FIT each time).
HeadersFactory = Callable[[], dict[str, str]]


@dataclass
class _Job:
    delivery: Delivery
    body: dict[str, Any]
    headers: HeadersFactory
    on_done: Callable[[Delivery], None] | None = None


@dataclass
class DeliveryTiming:
    timeout_s: float
    retry_interval_s: float
    max_attempts: int
    delay_s: float


class DeliveryWorker:
    """One background thread over a queue ordered by due time; `timing()` is read at each step (knobs apply at
    once)."""

    def __init__(self, timing: Callable[[], DeliveryTiming]) -> None:
        self._timing = timing
        self._state = threading.Condition()
        self._queue: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._records: list[Delivery] = []
        self._pending = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def submit(self, delivery: Delivery, body: dict[str, Any], headers: HeadersFactory,
               on_done: Callable[[Delivery], None] | None = None) -> Delivery:
        job = _Job(delivery, body, headers, on_done)
        due = time.monotonic() + self._timing().delay_s
        with self._state:
            if self._stopped:
                raise RuntimeError("the Forge delivery worker is stopped")
            self._records.append(delivery)
            self._pending += 1
            heapq.heappush(self._queue, (due, next(self._order), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="forge-deliveries", daemon=True)
                self._thread.start()
            self._state.notify_all()
        return delivery

    def records(self) -> list[Delivery]:
        with self._state:
            return list(self._records)

    def records_json(self) -> list[dict[str, Any]]:
        with self._state:
            return [record.to_json() for record in self._records]

    def forget(self) -> None:
        with self._state:
            self._records = [record for record in self._records if record.outcome == "pending"]

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every submitted call is delivered or given up; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def stop(self) -> None:
        with self._state:
            self._stopped = True
            self._state.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._state:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._state.wait(timeout=wait)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._queue)
            try:
                finished = self._attempt(job)
            except Exception:  # a bug here must not kill the thread and strand every later delivery
                log.exception("Forge delivery %s failed unexpectedly", job.delivery.id)
                finished = True
                job.delivery.outcome = "failed"
            if finished:
                self._finish(job)
            else:
                with self._state:
                    due = time.monotonic() + self._timing().retry_interval_s
                    heapq.heappush(self._queue, (due, next(self._order), job))
                    self._state.notify_all()

    def _attempt(self, job: _Job) -> bool:
        """Send one attempt; True when the delivery is over (delivered, or out of attempts)."""
        timing = self._timing()
        delivery = job.delivery
        previous = delivery.attempts[-1] if delivery.attempts else None
        body = dict(job.body)
        retry_context = None
        if previous is not None:
            retry_context = {"retryCount": len(delivery.attempts), "retryReason": previous.retry_reason,
                             "retryData": None}
            body["retryContext"] = retry_context
        status, error, reason = self._post(delivery.url, body, job.headers(), timing.timeout_s)
        attempt = Attempt(status, error, reason, retry_context, time.time())
        with self._state:
            delivery.attempts.append(attempt)
            if reason is None:
                delivery.outcome = "delivered"
            elif len(delivery.attempts) >= timing.max_attempts:
                delivery.outcome = "failed"
        return delivery.outcome != "pending"

    def _post(self, url: str, body: dict[str, Any], headers: dict[str, str], timeout_s: float
              ) -> tuple[int | None, str | None, str | None]:
        """(status, error, retry reason): the reason is None when the remote answered 2xx."""
        try:
            response = self._session.post(url, data=json.dumps(body), headers=headers, timeout=timeout_s,
                                          allow_redirects=False)
        except requests.exceptions.ConnectTimeout as exc:
            return None, str(exc), INVALID_REMOTE_INVOCATION_ERROR
        except requests.Timeout as exc:
            return None, str(exc), TIMEOUT_ERROR
        except requests.RequestException as exc:
            return None, str(exc), INVALID_REMOTE_INVOCATION_ERROR
        response.close()
        if 200 <= response.status_code < 300:
            return response.status_code, None, None
        if response.status_code == 401:
            return response.status_code, None, INVALID_FORGE_INVOCATION_TOKEN
        return response.status_code, None, INVALID_REMOTE_INVOCATION_ERROR

    def _finish(self, job: _Job) -> None:
        if job.on_done is not None:
            try:
                job.on_done(job.delivery)
            except Exception:
                log.exception("Forge delivery %s: completion hook failed", job.delivery.id)
        with self._state:
            self._pending -= 1
            self._state.notify_all()


def new_delivery_id() -> str:
    return str(uuid.uuid4())
