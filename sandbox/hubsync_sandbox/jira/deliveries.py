"""What Jira's asynchronous calls to other servers share: one background thread sending them in order, each with
the retries Jira makes, a record of every attempt for the control API, and a wait until all are sent (tests and
the demo wait on it rather than sleep). Connect's calls to apps (`connect.DeliveryWorker`) and admin webhooks
(`admin_webhooks.Deliverer`) say how one job is sent."""

from __future__ import annotations

import queue
import threading
from typing import Any, Generic, Protocol, TypeVar

MAX_RETRIES = 20
MAX_DELAY_S = 300


class Recorded(Protocol):
    def to_json(self) -> dict[str, Any]: ...


JobT = TypeVar("JobT")


class BackgroundDeliveries(Generic[JobT]):
    """Jobs sent from one daemon thread, in submission order; `_deliver` sends one, its retries included."""

    thread_name = "jira-deliveries"

    def __init__(self, retry_delays_s: tuple[float, ...]) -> None:
        self._retry_delays_s = retry_delays_s
        self._jobs: queue.Queue[JobT] = queue.Queue()
        self._state = threading.Condition()  # guards the records and the count of jobs not yet sent
        self._records: list[Recorded] = []
        self._pending = 0
        self._thread: threading.Thread | None = None

    @property
    def retry_delays_s(self) -> tuple[float, ...]:
        return self._retry_delays_s

    def set_retry_delays(self, delays_s: tuple[float, ...]) -> None:
        """The pauses before each retry of a failed delivery, from the next delivery on."""
        if len(delays_s) > MAX_RETRIES or any(not 0 <= delay <= MAX_DELAY_S for delay in delays_s):
            raise ValueError(f"at most {MAX_RETRIES} retries, each after 0 to {MAX_DELAY_S} seconds")
        self._retry_delays_s = tuple(delays_s)

    def records(self) -> list[dict[str, Any]]:
        with self._state:
            return [record.to_json() for record in self._records]

    def forget(self) -> None:
        with self._state:
            self._records.clear()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every submitted job has been delivered or given up; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def _enqueue(self, record: Recorded, job: JobT) -> None:
        with self._state:
            self._records.append(record)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                self._deliver(job)
            finally:
                with self._state:
                    self._pending -= 1
                    self._state.notify_all()

    def _deliver(self, job: JobT) -> None:
        raise NotImplementedError
