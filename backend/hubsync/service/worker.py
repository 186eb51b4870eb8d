"""The worker: takes hints off the queue and syncs them, moves raw EventBridge events from an SQS queue onto it,
and reconciles every tenant on an interval.

    receive a batch ─> group by tenant ─> the tenant's SyncContext (cached a few minutes per thread)
        ─> hints.process ─> ack what synced; retry later what failed (backoff); dead-letter after N attempts (audit)

No hint is dropped for a while's trouble. A whole batch that cannot be synced (AWS or Jira unreachable: the
context cannot be built, or the sync raises) is not the hints' fault: they are retried for as long as it lasts, at a
backoff that grows with how long they have waited up to `retry_max_seconds`, and the attempt does not count toward
`max_attempts` (the local queue gives it back). Only a hint whose own sync fails (an `Outcome` with an error) uses
up its attempts and is dead-lettered, with an audit entry. SQS counts every receive whatever we say, so there its
`maxReceiveCount` bounds the outage a hint survives: `outage_window` (about a day for the template's 300).

Many workers (threads here, processes on other machines) share one queue: the queue leases each finding's hints
to one of them at a time, and the store's locks and claims keep a finding to one ticket whatever the timing. The
periodic reconcile is shared too: one worker per interval per tenant runs it (`WorkerTimers`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from hubsync import metrics
from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import (
    Delivery,
    QueueMisconfigured,
    QueueUnavailable,
    SqsEventSource,
    WorkerTimers,
    WorkQueue,
    events_source_from_environment,
    queue_from_environment,
)
from hubsync.adapters.store import Store, upgrade
from hubsync.domain.hint import SyncHint
from hubsync.domain.tenant import Tenant
from hubsync.service.hints import process
from hubsync.service.intake import InvalidEvent, UnsupportedEvent, hints_for, parse_event_body, tenants_watching
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync.service.sync import Outcome, SyncContext
from hubsync.service.tenants import TenantNotReady, sync_context

log = logging.getLogger(__name__)

ContextFactory = Callable[[Tenant, Store], SyncContext]
Sync = Callable[[SyncContext, Sequence[SyncHint]], list[Outcome]]
Reconcile = Callable[[SyncContext], ReconcileReport]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 1  # threads taking hints
    batch_size: int = 50  # hints per receive
    wait_seconds: float = 5.0  # long poll; also how long a stop may take to be noticed
    reconcile_interval: timedelta | None = timedelta(minutes=15)  # None: no periodic reconcile
    context_ttl: timedelta = timedelta(minutes=5)  # a tenant's settings changes reach the worker within this
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    transient_max_seconds: float = 30.0  # the longest wait after one pair's passing failure
    reconcile_lease: timedelta = timedelta(minutes=2)  # a crashed worker's reconcile falls to another after this


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

    def __init__(self, queue: WorkQueue, deliveries: Sequence[Delivery]) -> None:
        self._queue = queue
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
                if not (isinstance(exc, QueueUnavailable) or is_transient(exc)):
                    raise
                log.warning("could not settle %d hints (they come back when their leases run out): %s",
                            len(deliveries), exc)
            for delivery in deliveries:
                self._open.pop(delivery.receipt, None)


@contextmanager
def _every(seconds: float, action: Callable[[], None], what: str, enabled: bool = True) -> Iterator[None]:
    """Run `action` every `seconds` on a helper thread while the block runs (keeping leases alive)."""
    if not enabled:
        yield
        return
    done = threading.Event()

    def keep() -> None:
        while not done.wait(seconds):
            try:
                action()
            except Exception as exc:  # the next try may work; a lost lease costs a repeated sync only
                log.warning("could not %s: %s", what, exc)

    keeper = threading.Thread(target=keep, name="hubsync-lease-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()


def _close(ctx: SyncContext) -> None:
    """Release what a context holds open (its Jira client's HTTP connections)."""
    close = getattr(ctx.jira, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # closing is tidying up: never a reason to fail the work
            log.warning("could not close the Jira client of tenant %s", ctx.tenant_id, exc_info=True)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def outage_window(max_receives: int, settings: WorkerSettings) -> timedelta:
    """How long a tenant may stay unreachable before a queue that counts every receive (SQS, `maxReceiveCount`
    = `max_receives`) parks its hints: the outage backoffs between the first receive and the last."""
    waited = 0.0
    for _ in range(max(0, max_receives - 1)):
        waited += _clamp(waited, settings.retry_base_seconds, settings.retry_max_seconds)
    return timedelta(seconds=waited)


def pool_size_for(concurrency: int) -> int:
    """Connections a worker process keeps: a sync holds one for its locks while it needs another for its reads
    and writes; plus the events mover, the periodic reconcile and the lease keeper's queue calls."""
    return 2 * concurrency + 3


def worker_store(environ: Mapping[str, str], concurrency: int) -> Store:
    """The store `hubsync worker` runs on, its connection pool sized for `concurrency` syncs at once."""
    return Store.from_environment(environ, pool_size=pool_size_for(concurrency))


class Worker:
    def __init__(
        self,
        store: Store,
        queue: WorkQueue,
        *,
        settings: WorkerSettings | None = None,
        events: SqsEventSource | None = None,
        context_for: ContextFactory = sync_context,
        sync: Sync = process,
        reconcile_tenant: Reconcile | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`context_for`, `sync` and `reconcile_tenant` are the engine's (tests give their own)."""
        self.store = store
        self.queue = queue
        self.settings = settings or WorkerSettings()
        self.events = events
        self._context_for = context_for
        self._sync = sync
        self._reconcile = reconcile_tenant or (lambda ctx: reconcile(ctx, progress=None))
        self._clock = clock
        self._timers = WorkerTimers(store.engine, clock)
        self._local = threading.local()  # each thread its own contexts: clients keep per-call state

    # -- running ------------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: `concurrency` threads on the queue, one on the events queue (if any), one for the
        periodic reconcile. A batch under way is finished before a thread stops."""
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
        batch = _Settling(self.queue, deliveries)
        with _every(self.queue.lease_seconds / 3, lambda: batch.extend(self.queue.lease_seconds),
                    "extend the leases of a batch", enabled=bool(deliveries)):
            for tenant_id, mine in by_tenant.items():
                self._handle_tenant(tenant_id, mine, report, batch)
        metrics.record_settled(report)
        return report

    # -- one tenant's share of a batch --------------------------------------------------------------------------
    def _handle_tenant(
        self, tenant_id: str, deliveries: list[Delivery], report: BatchReport, batch: _Settling
    ) -> None:
        try:
            ctx = self._context(tenant_id)
        except TenantNotReady as exc:  # nothing to do until an admin configures it; the reconcile catches up then
            log.warning("dropping %d hints of tenant %s: %s", len(deliveries), tenant_id, exc)
            ctx = None
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
            self._forget_context(tenant_id)
            self._unreachable(tenant_id, deliveries, f"sync failed: {exc}", report, batch)
            return
        metrics.record_syncs(outcomes, time.monotonic() - started)
        report.outcomes += outcomes
        by_finding = {o.finding_key: o for o in outcomes if o.error}
        by_ticket = {o.ticket_key: o for o in outcomes if o.error and o.ticket_key}
        done: list[Delivery] = []
        failed: dict[str, list[Delivery]] = defaultdict(list)
        held_up: dict[float, list[Delivery]] = defaultdict(list)
        held_up_errors: list[str] = []
        for delivery in deliveries:
            hint = delivery.hint
            if hint.finding:
                outcome = by_finding.get(hint.finding.key)
            else:
                outcome = by_ticket.get(hint.ticket_key) if hint.ticket_key is not None else None
            if outcome is None or outcome.error is None:
                done.append(delivery)
            elif outcome.transient:  # a side said "not now", or another sync holds the finding: soon, uncounted
                held_up[self._transient_backoff(delivery, outcome)].append(delivery)
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
        limit = self.queue.max_attempts
        hopeless = [d for d in deliveries if d.attempts >= limit]
        by_delay: dict[float, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            if delivery.attempts < limit:
                by_delay[self._backoff(delivery.attempts)].append(delivery)
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
            by_delay[self._outage_backoff(delivery)].append(delivery)
        self._retry_uncounted(tenant_id, by_delay, error, report, batch)

    def _retry_uncounted(self, tenant_id: str, by_delay: Mapping[float, list[Delivery]], error: str,
                         report: BatchReport, batch: _Settling) -> None:
        """Retry after each delay, the attempt given back; where every receive counts anyway (SQS), a hint whose
        count has run out is parked instead (SQS would move it to its dead-letter queue on the next receive)."""
        spent = self.queue.counts_every_receive
        limit = self.queue.max_attempts
        hopeless = [d for mine in by_delay.values() for d in mine if spent and d.attempts >= limit]
        left = {delay: [d for d in mine if d not in hopeless] for delay, mine in by_delay.items()}
        self._retry(left, error, report, batch, counted=False)
        self._dead_letter(tenant_id, hopeless, error, report, batch)

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

    def _backoff(self, attempts: int) -> float:
        doublings: int = 2 ** max(0, attempts - 1)  # a whole number: the exponent is never negative
        return min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * doublings)

    def _transient_backoff(self, delivery: Delivery, outcome: Outcome) -> float:
        """A pair that failed for a passing reason: not before the moment the sync named (a claim's lease), and
        otherwise soon; the outage backoff, but at most `transient_max_seconds`, since the rest of the tenant's side
        answered."""
        delay = min(self._outage_backoff(delivery), self.settings.transient_max_seconds)
        if outcome.retry_at is not None:
            delay = max(delay, (outcome.retry_at - self._clock()).total_seconds() + 1.0)
        return float(round(delay))

    def _outage_backoff(self, delivery: Delivery) -> float:
        """As long as the hint has waited so far, between the base and the cap: doubling, without counting
        attempts (which an outage does not use up)."""
        waited = 0.0
        if delivery.enqueued_at is not None:
            waited = (self._clock() - delivery.enqueued_at).total_seconds()
        return float(round(_clamp(waited, self.settings.retry_base_seconds, self.settings.retry_max_seconds)))

    # -- tenants' contexts, per thread ------------------------------------------------------------------------
    def _context(self, tenant_id: str) -> SyncContext | None:
        """The tenant's SyncContext, built at most once per `context_ttl` per thread; None when the tenant is
        gone or disabled, read afresh each time (never cached: a tenant enabled again is synced at once)."""
        cache = self._contexts()
        now = self._clock()
        cached = cache.get(tenant_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        self._forget_context(tenant_id)
        with self.store.read() as uow:
            tenant = uow.tenants.get(tenant_id)
        if tenant is None or not tenant.enabled:
            return None
        ctx = self._context_for(tenant, self.store)
        cache[tenant_id] = (ctx, now + self.settings.context_ttl)
        return ctx

    def _contexts(self) -> dict[str, tuple[SyncContext, datetime]]:
        contexts: dict[str, tuple[SyncContext, datetime]] = self._local.__dict__.setdefault("contexts", {})
        return contexts

    def _forget_context(self, tenant_id: str) -> None:
        cached = self._contexts().pop(tenant_id, None)
        if cached is not None:
            _close(cached[0])

    def _forget_contexts(self) -> None:
        """This thread's contexts, closed (the thread is ending)."""
        for tenant_id in list(self._contexts()):
            self._forget_context(tenant_id)

    # -- the loops ----------------------------------------------------------------------------------------
    def _consume(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    deliveries = self.queue.receive(self.settings.batch_size, self.settings.wait_seconds)
                except QueueUnavailable as exc:
                    log.warning("queue unavailable: %s", exc)
                    stop.wait(self.settings.wait_seconds)
                    continue
                if deliveries:
                    self.handle(deliveries)
        finally:
            self._forget_contexts()

    def _move_events(self, stop: threading.Event) -> None:
        assert self.events is not None
        while not stop.is_set():
            try:
                self.move_events_once(self.settings.wait_seconds)
            except QueueUnavailable as exc:
                log.warning("events queue unavailable: %s", exc)
                stop.wait(self.settings.wait_seconds)

    def move_events_once(self, wait_seconds: float = 0.0) -> int:
        """Move one batch of raw events from the EventBridge → SQS queue onto the hint queue; returns how many
        hints were queued. A message is deleted only once its hints are queued; one that is not a Security Hub
        event hubsync takes is logged and deleted (it is no work, and would only come back)."""
        assert self.events is not None
        messages = self.events.receive(10, wait_seconds)
        if not messages:
            return 0
        with self.store.read() as uow:
            tenants = uow.tenants.list(enabled_only=True)
        queued = 0
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
                metrics.record_events([event.detail_type], "queued" if watching else "unrouted")
                if not watching:
                    log.warning("event %s from account %s: no tenant watches that account", event.id, event.account)
                for tenant in watching:
                    hints = hints_for(tenant.id, [event])
                    self.queue.put(hints)
                    queued += len(hints)
        self.events.delete(messages)
        return queued

    def _reconcile_periodically(self, stop: threading.Event) -> None:
        interval = self.settings.reconcile_interval
        assert interval is not None
        tick = min(interval.total_seconds(), 30.0)
        while not stop.is_set():
            self.reconcile_due(interval)
            stop.wait(tick)

    def reconcile_due(self, interval: timedelta) -> list[str]:
        """Reconcile every enabled tenant whose turn it is (one worker per interval per tenant); returns their ids.
        The turn is held by a lease renewed while the reconcile runs: if this process dies mid-run, another worker
        takes the turn once `reconcile_lease` has passed, not an interval later."""
        with self.store.read() as uow:
            tenants = uow.tenants.list(enabled_only=True)
        done = []
        lease = self.settings.reconcile_lease
        for tenant in tenants:
            timer = f"reconcile:{tenant.id}"
            if not self._timers.claim(timer, lease):
                continue
            try:
                with _every(lease.total_seconds() / 3, partial(self._timers.renew, timer, lease),
                            f"renew the reconcile turn of tenant {tenant.name}"):
                    report = self._reconcile_tenant(tenant)
            except Exception as exc:  # one tenant's trouble must not stop the others
                log.warning("periodic reconcile of tenant %s failed: %s", tenant.name, exc)
                self._timers.finish(timer, interval)
                continue
            self._timers.finish(timer, interval)
            log.info("reconciled tenant %s: %d changed, %d failed", tenant.name, len(report.changed),
                     len(report.failed))
            done.append(tenant.id)
        return done

    def _reconcile_tenant(self, tenant: Tenant) -> ReconcileReport:
        ctx = self._context_for(tenant, self.store)
        try:
            return self._reconcile(ctx)
        finally:
            _close(ctx)

    def _guarded(self, loop: Callable[[threading.Event], None], stop: threading.Event) -> None:
        """A loop that fails is restarted after a pause, never lost silently: one that met a side that could not
        answer (the database restarting) says so in a line; anything else is a bug, logged with its traceback."""
        while not stop.is_set():
            try:
                loop(stop)
            except Exception as exc:
                if isinstance(exc, QueueUnavailable) or is_transient(exc):
                    log.warning("worker loop %s paused: %s", threading.current_thread().name, exc)
                else:
                    log.exception("worker loop %s crashed; restarting", threading.current_thread().name)
                stop.wait(self.settings.wait_seconds)


def run_worker(
    *,
    concurrency: int,
    reconcile_interval: float,
    stop: threading.Event,
    out: Callable[[str], None],
    environ: Mapping[str, str] | None = None,
    metrics_bind: str | None = None,
) -> int:
    """`hubsync worker`: the store and queue from the environment, until `stop` is set; `metrics_bind`
    (ADDRESS:PORT) serves this worker's metrics, its queue's gauges included."""
    environ = os.environ if environ is None else environ
    host, _, port = (metrics_bind or "").rpartition(":")
    if metrics_bind and not port.isdigit():
        out(f"hubsync worker cannot start: --metrics-bind {metrics_bind!r} is not ADDRESS:PORT")
        return 2
    store = worker_store(environ, concurrency)
    upgrade(store.engine)
    try:
        queue = queue_from_environment(environ, store)
        max_attempts = queue.max_attempts  # an SQS queue without a redrive policy is refused now, not when it fails
    except (QueueMisconfigured, QueueUnavailable) as exc:
        out(f"hubsync worker cannot start: {exc}")
        store.dispose()
        return 2
    events = events_source_from_environment(environ)
    settings = WorkerSettings(
        concurrency=concurrency,
        reconcile_interval=timedelta(seconds=reconcile_interval) if reconcile_interval > 0 else None,
    )
    where = getattr(queue, "queue_url", "the local queue (database)")
    window = outage_window(max_attempts, settings) if queue.counts_every_receive else None
    out(f"hubsync worker: {concurrency} threads on {where}"
        + (f", events from {events.queue_url}" if events else "")
        + (f", reconciling every tenant every {reconcile_interval:g}s" if settings.reconcile_interval else "")
        + (f"; hints survive an outage of {window.total_seconds() / 3600:.1f} h (maxReceiveCount {max_attempts})"
           if window is not None else ""))
    server = None
    if metrics_bind:
        server = metrics.serve_metrics(host or "127.0.0.1", int(port), queue=queue,
                                       token=environ.get(metrics.METRICS_TOKEN_VARIABLE))
        bound_host, bound_port = server.server_address[:2]
        assert isinstance(bound_host, str)  # an IP socket's address: bytes are for other address families
        out(f"hubsync worker: metrics at http://{bound_host}:{bound_port}/metrics")
    try:
        Worker(store, queue, settings=settings, events=events).run(stop)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        store.dispose()
    out("hubsync worker stopped.")
    return 0
