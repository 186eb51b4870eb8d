"""The worker: takes hints off the queue and syncs them, and runs the events mover and the periodic reconcile
beside it.

    receive a batch ─> group by tenant ─> the tenant's SyncContext (cached a few minutes per thread)
        ─> hints.process ─> ack what synced; retry later what failed (backoff); dead-letter after N attempts (audit)

No hint is dropped for a while's trouble. A whole batch that cannot be synced (AWS or Jira unreachable: the
context cannot be built, or the sync raises) is not the hints' fault: they are retried for as long as it lasts, at a
backoff that grows with how long they have waited up to `retry_max_seconds`, and the attempt does not count toward
`max_attempts` (the local queue gives it back). Only a hint whose own sync fails (an `Outcome` with an error) uses
up its attempts and is dead-lettered, with an audit entry. SQS counts every receive whatever we say, so there its
`maxReceiveCount` bounds the outage a hint survives: `outage_window` (about a day for the template's 300). Those
decisions, and the delays, are `retry_policy`'s; this module carries them out.

Many workers (threads here, processes on other machines) share one queue: the queue leases each finding's hints
to one of them at a time, and the store's locks and claims keep a finding to one ticket whatever the timing.

Beside the consumers: `events_mover` (raw EventBridge events from an SQS queue onto the hint queue) and
`periodic_reconcile` (every tenant once per interval, one worker per turn, through the injected `timers`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hubsync import metrics
from hubsync.domain.hint import SyncHint
from hubsync.domain.ports import Delivery, EventSource, QueueUnavailable, StorePort, TimersPort, WorkQueue
from hubsync.domain.tenant import TenantNotReady, TenantWaiting
from hubsync.service.background import every
from hubsync.service.events_mover import EventsMover
from hubsync.service.hints import process
from hubsync.service.periodic_reconcile import PeriodicReconcile, Reconcile, TenantContexts
from hubsync.service.reconcile import reconcile
from hubsync.service.retry_policy import Failures, Fate, RetryPolicy, fate, gives_up
from hubsync.service.sync import Outcome, SyncContext

log = logging.getLogger(__name__)

Sync = Callable[[SyncContext, Sequence[SyncHint]], list[Outcome]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 1  # threads taking hints
    batch_size: int = 50  # hints per receive
    wait_seconds: float = 5.0  # long poll; also how long a stop may take to be noticed
    reconcile_interval: timedelta | None = timedelta(minutes=15)  # None: no periodic reconcile
    # A tenant whose Jira webhook works waits this long instead (`periodic_reconcile.next_turn`); None: no longer.
    webhook_reconcile_interval: timedelta | None = timedelta(hours=1)
    context_ttl: timedelta = timedelta(minutes=5)  # a tenant's settings changes reach the worker within this
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    transient_max_seconds: float = 30.0  # the longest wait after one pair's passing failure
    reconcile_lease: timedelta = timedelta(minutes=2)  # a crashed worker's reconcile falls to another after this

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retry_base_seconds, self.retry_max_seconds, self.transient_max_seconds)


@dataclass
class BatchReport:
    """What one batch came to, by delivery."""

    acked: int = 0
    retried: int = 0
    dead: int = 0
    dropped: int = 0  # acked without a sync: the tenant is gone, disabled or not configured
    outcomes: list[Outcome] = field(default_factory=list)


class _Settling:
    """One batch's deliveries on their way to being settled. Acks, retries and dead letters go through here, so the
    lease keeper extends only the deliveries still open: on SQS an extension after `retry_later` would cut its
    delay short, and after `dead_letter` hide the message from its redrive."""

    def __init__(
        self, queue: WorkQueue, deliveries: Sequence[Delivery], is_transient: Callable[[BaseException], bool]
    ) -> None:
        self._queue = queue
        self._is_transient = is_transient
        self._open = {delivery.receipt: delivery for delivery in deliveries}
        self._lock = threading.Lock()  # an extension never interleaves with a settlement

    def extend(self, seconds: float) -> None:
        with self._lock:
            if self._open:
                self._queue.extend(list(self._open.values()), seconds)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        self._settle(deliveries, lambda: self._queue.ack(deliveries))

    def retry_later(self, deliveries: Sequence[Delivery], delay: float, error: str, *, counted: bool) -> None:
        self._settle(deliveries, lambda: self._queue.retry_later(deliveries, delay, error, counted=counted))

    def dead_letter(self, deliveries: Sequence[Delivery], error: str) -> None:
        self._settle(deliveries, lambda: self._queue.dead_letter(deliveries, error))

    def _settle(self, deliveries: Sequence[Delivery], settle: Callable[[], None]) -> None:
        """Settle, or if the queue cannot be reached, leave the deliveries to their leases: they come back to a
        worker once those run out (the sync is level-triggered, so doing one again costs reads at most)."""
        if not deliveries:
            return
        with self._lock:
            try:
                settle()
            except Exception as exc:
                if not (isinstance(exc, QueueUnavailable) or self._is_transient(exc)):
                    raise
                log.warning("could not settle %d hints (they come back when their leases run out): %s",
                            len(deliveries), exc)
            for delivery in deliveries:
                self._open.pop(delivery.receipt, None)


def outage_window(max_receives: int, settings: WorkerSettings) -> timedelta:
    """How long a tenant may stay unreachable before a queue that counts every receive (SQS, `maxReceiveCount`
    = `max_receives`) parks its hints (`RetryPolicy.outage_window`)."""
    return settings.retry_policy.outage_window(max_receives)


def pool_size_for(concurrency: int) -> int:
    """Connections a worker process keeps: a sync holds one for its locks while it needs another for its reads
    and writes; plus the events mover, the periodic reconcile and the lease keeper's queue calls."""
    return 2 * concurrency + 3


class Worker:
    def __init__(
        self,
        store: StorePort,
        queue: WorkQueue,
        *,
        contexts: TenantContexts,
        is_transient: Callable[[BaseException], bool],
        settings: WorkerSettings | None = None,
        events: EventSource | None = None,
        timers: TimersPort | None = None,
        sync: Sync = process,
        reconcile_tenant: Reconcile | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`contexts` gives each tenant's sync context (`bootstrap.TenantClients`: each thread its own, rebuilt
        when the tenant changes); `is_transient` says which failures are a side's "not now". `sync` and
        `reconcile_tenant` are the engine's (tests give their own). `events`: the EventBridge events queue to move
        onto `queue` (None: no events mover). `timers`: the shared timers the periodic reconcile takes its turns
        by; a worker without them has no periodic reconcile (`run` refuses a `reconcile_interval` then)."""
        self.store = store
        self.queue = queue
        self.settings = settings or WorkerSettings()
        self.events = events
        self._contexts = contexts
        self._is_transient = is_transient
        self._sync = sync
        self._clock = clock
        self._reconcile = reconcile_tenant or (lambda ctx: reconcile(ctx, progress=None))
        self._timers = timers
        self._retry_policy = self.settings.retry_policy

    # -- running ------------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: `concurrency` threads on the queue, one on the events queue (if any), one for the
        periodic reconcile. A batch under way is finished before a thread stops."""
        if self.settings.reconcile_interval and self._timers is None:
            raise ValueError("a worker with a reconcile_interval needs the timers its periodic reconcile takes turns "
                             "by (timers=...)")
        loops: list[tuple[str, Callable[[threading.Event], None]]] = [
            (f"hubsync-worker-{n + 1}", self._consume) for n in range(self.settings.concurrency)
        ]
        if self.events is not None:
            loops.append(("hubsync-events", self._move_events))
        if self.settings.reconcile_interval:
            loops.append(("hubsync-reconcile", self._reconcile_periodically))
        threads = [threading.Thread(target=self._guarded, args=(loop, stop), name=name) for name, loop in loops]
        for thread in threads:
            thread.start()
        stop.wait()
        close = getattr(self.queue, "close", None)
        if callable(close):  # wake receivers waiting on the local queue (SQS's long poll just runs out)
            close()
        for thread in threads:
            thread.join()

    def run_once(self, wait_seconds: float = 0.0) -> BatchReport:
        """Receive one batch and handle it (tests, and draining a queue by hand)."""
        return self.handle(self.queue.receive(self.settings.batch_size, wait_seconds))

    def handle(self, deliveries: Sequence[Delivery]) -> BatchReport:
        report = BatchReport()
        by_tenant: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            by_tenant[delivery.hint.tenant_id].append(delivery)
        batch = _Settling(self.queue, deliveries, self._is_transient)
        with every(self.queue.lease_seconds / 3, lambda: batch.extend(self.queue.lease_seconds),
                   "extend the leases of a batch", enabled=bool(deliveries)):
            for tenant_id, mine in by_tenant.items():
                self._handle_tenant(tenant_id, mine, report, batch)
        metrics.record_settled(report)
        return report

    def move_events_once(self, wait_seconds: float = 0.0) -> int:
        """Move one batch from the events queue onto the hint queue (`EventsMover.move_once`)."""
        return self._events_mover().move_once(wait_seconds)

    def reconcile_due(self, interval: timedelta) -> list[str]:
        """Reconcile every enabled tenant whose turn it is (`PeriodicReconcile.reconcile_due`)."""
        return self._periodic_reconcile().reconcile_due(interval)

    def _events_mover(self) -> EventsMover:
        assert self.events is not None
        return EventsMover(self.store, self.queue, self.events)

    def _periodic_reconcile(self) -> PeriodicReconcile:
        assert self._timers is not None, "a periodic reconcile needs the worker's timers"
        return PeriodicReconcile(self.store, self._timers, contexts=self._contexts,
                                 reconcile_tenant=self._reconcile, lease=self.settings.reconcile_lease,
                                 webhook_interval=self.settings.webhook_reconcile_interval)

    # -- one tenant's share of a batch --------------------------------------------------------------------------
    def _handle_tenant(
        self, tenant_id: str, deliveries: list[Delivery], report: BatchReport, batch: _Settling
    ) -> None:
        try:
            ctx = self._context(tenant_id)
        except TenantNotReady as exc:  # nothing to do until an admin configures it; the reconcile catches up then
            log.warning("dropping %d hints of tenant %s: %s", len(deliveries), tenant_id, exc)
            ctx = None
        except TenantWaiting as exc:  # it will be syncable without anyone acting: the hints wait, never dropped
            log.info("%d hints of tenant %s wait: %s", len(deliveries), tenant_id, exc)
            metrics.record_hints_waiting("forge_token", len(deliveries))
            self._unreachable(tenant_id, deliveries, f"waiting: {exc}", report, batch)
            return
        except Exception as exc:  # assuming the role failed, the database hiccuped: try again later
            log.warning("cannot sync tenant %s now: %s", tenant_id, exc)
            self._unreachable(tenant_id, deliveries, f"cannot sync tenant now: {exc}", report, batch)
            return
        if ctx is None:
            batch.ack(deliveries)
            report.dropped += len(deliveries)
            return
        started = time.monotonic()
        try:
            outcomes = self._sync(ctx, [delivery.hint for delivery in deliveries])
        except Exception as exc:  # a side was unreachable for the whole batch
            log.warning("sync of %d hints of tenant %s failed: %s", len(deliveries), tenant_id, exc)
            self._contexts.forget(tenant_id)  # the next batch builds its clients afresh (a new role session)
            self._unreachable(tenant_id, deliveries, f"sync failed: {exc}", report, batch)
            return
        metrics.record_syncs(outcomes, time.monotonic() - started)
        report.outcomes += outcomes
        failures = Failures.of(outcomes)
        done: list[Delivery] = []
        failed: dict[str, list[Delivery]] = defaultdict(list)
        held_up: dict[float, list[Delivery]] = defaultdict(list)
        held_up_errors: list[str] = []
        for delivery in deliveries:
            outcome = failures.for_hint(delivery.hint)
            verdict = fate(outcome)
            if verdict is Fate.DONE:
                done.append(delivery)
                continue
            assert outcome is not None and outcome.error is not None  # what a fate other than DONE means
            if verdict is Fate.HELD_UP:  # a side said "not now", or another sync holds the finding: soon, uncounted
                delay = self._retry_policy.transient_backoff(delivery.enqueued_at, outcome.retry_at, self._clock())
                held_up[delay].append(delivery)
                held_up_errors.append(outcome.error)
            else:
                failed[outcome.error].append(delivery)
        batch.ack(done)
        metrics.record_hints_synced(done, self._clock())
        report.acked += len(done)
        if held_up:
            log.info("%d hints of tenant %s wait for a side or another sync (%s)", sum(map(len, held_up.values())),
                     tenant_id, held_up_errors[0])
            self._retry_uncounted(tenant_id, held_up, "; ".join(dict.fromkeys(held_up_errors))[:1000], report, batch)
        for error, mine in failed.items():
            self._failed(tenant_id, mine, error, report, batch)

    def _failed(
        self, tenant_id: str, deliveries: list[Delivery], error: str, report: BatchReport, batch: _Settling
    ) -> None:
        """The hints' own syncs failed: retry later with exponential backoff; after the queue's `max_attempts`,
        dead-letter with an audit entry."""
        hopeless = [d for d in deliveries if self._gives_up(d, counted=True)]
        by_delay: dict[float, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            if not self._gives_up(delivery, counted=True):
                by_delay[self._retry_policy.backoff(delivery.attempts)].append(delivery)
        self._retry(by_delay, error, report, batch, counted=True)
        self._dead_letter(tenant_id, hopeless, error, report, batch)

    def _unreachable(
        self, tenant_id: str, deliveries: list[Delivery], error: str, report: BatchReport, batch: _Settling
    ) -> None:
        """The tenant's side was unreachable for the whole batch: retry at the outage backoff, the attempt given
        back. Where every receive counts anyway (SQS) a hint whose count has run out is parked (SQS would move it
        to the dead-letter queue on its next receive) with an audit entry."""
        by_delay: dict[float, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            by_delay[self._retry_policy.outage_backoff(delivery.enqueued_at, self._clock())].append(delivery)
        self._retry_uncounted(tenant_id, by_delay, error, report, batch)

    def _retry_uncounted(self, tenant_id: str, by_delay: Mapping[float, list[Delivery]], error: str,
                         report: BatchReport, batch: _Settling) -> None:
        """Retry after each delay, the attempt given back; where every receive counts anyway (SQS), a hint whose
        count has run out is parked instead (SQS would move it to its dead-letter queue on the next receive)."""
        hopeless = [d for mine in by_delay.values() for d in mine if self._gives_up(d, counted=False)]
        left = {delay: [d for d in mine if d not in hopeless] for delay, mine in by_delay.items()}
        self._retry(left, error, report, batch, counted=False)
        self._dead_letter(tenant_id, hopeless, error, report, batch)

    def _gives_up(self, delivery: Delivery, *, counted: bool) -> bool:
        return gives_up(delivery.attempts, self.queue.max_attempts, counted=counted,
                        counts_every_receive=self.queue.counts_every_receive)

    def _retry(self, by_delay: Mapping[float, list[Delivery]], error: str, report: BatchReport,
               batch: _Settling, *, counted: bool) -> None:
        for delay, mine in by_delay.items():
            batch.retry_later(mine, delay, error, counted=counted)
            report.retried += len(mine)

    def _dead_letter(self, tenant_id: str, hopeless: list[Delivery], error: str, report: BatchReport,
                     batch: _Settling) -> None:
        if hopeless:
            self._audit_dead_letters(tenant_id, hopeless, error)
            batch.dead_letter(hopeless, error)
            report.dead += len(hopeless)

    def _audit_dead_letters(self, tenant_id: str, deliveries: list[Delivery], error: str) -> None:
        try:
            with self.store.transaction() as uow:
                if uow.tenants.get(tenant_id) is None:
                    return
                for delivery in deliveries:
                    hint = delivery.hint
                    finding_key, ticket_key = None, hint.ticket_key
                    if hint.finding is not None:
                        finding_key = hint.finding.key
                    else:
                        link = uow.links.get_by_ticket(tenant_id, hint.ticket_key or "")
                        finding_key = link.finding_key if link else f"ticket:{hint.ticket_key}"[:64]
                    uow.audit.append(
                        tenant_id=tenant_id,
                        finding_key=finding_key,
                        ticket_key=ticket_key,
                        action="DeadLetter",
                        reason=f"gave up on a {hint.source.value} hint after {delivery.attempts} attempts: {error}",
                        outcome="dead-lettered",
                        after={"event_id": hint.event_id},
                    )
        except Exception as exc:  # the hint is parked anyway; the audit entry is what we could not add
            log.warning("could not audit %d dead-lettered hints of tenant %s: %s", len(deliveries), tenant_id, exc)
        for delivery in deliveries:
            log.error("dead-lettered hint of tenant %s (%s) after %d attempts: %s", tenant_id,
                      delivery.hint.group_key, delivery.attempts, error)

    # -- tenants' contexts -------------------------------------------------------------------------------------
    def _context(self, tenant_id: str) -> SyncContext | None:
        """The tenant's SyncContext; None when the tenant is gone or disabled, read afresh each time (a tenant
        enabled again is synced at once, a changed one with clients built anew)."""
        with self.store.read() as uow:
            tenant = uow.tenants.get(tenant_id)
        if tenant is None or not tenant.enabled:
            return None
        return self._contexts.sync_context(tenant)

    # -- the loops ----------------------------------------------------------------------------------------
    def _consume(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                deliveries = self.queue.receive(self.settings.batch_size, self.settings.wait_seconds)
            except QueueUnavailable as exc:
                log.warning("queue unavailable: %s", exc)
                stop.wait(self.settings.wait_seconds)
                continue
            if deliveries:
                self.handle(deliveries)

    def _move_events(self, stop: threading.Event) -> None:
        self._events_mover().run(stop, self.settings.wait_seconds)

    def _reconcile_periodically(self, stop: threading.Event) -> None:
        interval = self.settings.reconcile_interval
        assert interval is not None
        self._periodic_reconcile().run(stop, interval)

    def _guarded(self, loop: Callable[[threading.Event], None], stop: threading.Event) -> None:
        """A loop that fails is restarted after a pause, never lost silently: one that met a side that could not
        answer (the database restarting) says so in a line; anything else is a bug, logged with its traceback."""
        while not stop.is_set():
            try:
                loop(stop)
            except Exception as exc:
                if isinstance(exc, QueueUnavailable) or self._is_transient(exc):
                    log.warning("worker loop %s paused: %s", threading.current_thread().name, exc)
                else:
                    log.exception("worker loop %s crashed; restarting", threading.current_thread().name)
                stop.wait(self.settings.wait_seconds)
