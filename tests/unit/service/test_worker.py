"""The worker's own logic, on a SQLite store and the local queue, with the sync engine scripted per test: what it
acks, retries, dead-letters (with an audit entry) and drops; contexts built once; leases kept; a clean stop."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, QueueUnavailable, WorkerTimers
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import open_store
from hubsync.config import Settings
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import Tenant, TenantNotReady, TenantWaiting
from hubsync.service.reconcile import ReconcileReport
from hubsync.service.sync import Outcome, SyncContext
from hubsync.service.worker import Worker, WorkerSettings, pool_size_for
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, finding, make_tenant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Store:
    engine = create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    upgrade(engine)
    store = Store(engine, SecretBox([TEST_SECRET_KEY]), clock=clock)
    yield store
    store.dispose()


@pytest.fixture
def tenant(store: Store) -> Tenant:
    return make_tenant(store)


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> LocalQueue:
    return LocalQueue(store.engine, clock=clock, max_attempts=3)


class Jira:
    """The one part of a context's Jira client the worker touches: `close` (its HTTP session)."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Engine:
    """The sync engine as the worker sees it: records what it was given and answers as scripted."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[SyncHint]]] = []
        self.contexts_built: list[str] = []
        self.forgotten: list[str] = []
        self.contexts: list[SyncContext] = []
        self.errors: dict[str, str] = {}  # finding key or ticket key → error
        self.passing: dict[str, datetime | None] = {}  # keys whose error is transient → retry not before
        self.raises: Exception | None = None
        self.context_raises: Exception | None = None  # assuming the tenant's role fails, say
        self.not_ready: set[str] = set()
        self.during: Callable[[], None] | None = None

    def sync_context(self, tenant: Tenant) -> SyncContext:
        if tenant.id in self.not_ready:
            raise TenantNotReady(f"tenant {tenant.name}: no AWS role ARN configured")
        if self.context_raises:
            raise self.context_raises
        self.contexts_built.append(tenant.id)
        self.contexts.append(SyncContext(tenant.id, None, None, Jira(), None, None, None, None))  # type: ignore[arg-type]
        return self.contexts[-1]

    def forget(self, tenant_id: str) -> None:
        self.forgotten.append(tenant_id)

    def sync(self, ctx: SyncContext, hints: Sequence[SyncHint]) -> list[Outcome]:
        self.calls.append((ctx.tenant_id, list(hints)))
        if self.during:
            self.during()
        if self.raises:
            raise self.raises
        outcomes = []
        for hint in hints:
            key = hint.finding.key if hint.finding else "f-" + (hint.ticket_key or "")
            subject = hint.finding.key if hint.finding else hint.ticket_key or ""
            error = self.errors.get(subject)
            outcomes.append(Outcome(key, "id", hint.ticket_key, 11, "synced", ("UpdateFinding",), error,
                                    transient=subject in self.passing, retry_at=self.passing.get(subject)))
        return outcomes


@pytest.fixture
def engine() -> Engine:
    return Engine()


def worker(store: Store, queue: LocalQueue, engine: Engine, clock: FakeClock, **settings) -> Worker:
    return Worker(store, queue, settings=WorkerSettings(**settings), contexts=engine, is_transient=is_transient,
                  sync=engine.sync, clock=clock)


def imported(tenant: Tenant, number: int, event: str | None = None) -> SyncHint:
    return SyncHint(tenant.id, HintSource.SECURITYHUB_IMPORTED, finding=finding(number), event_id=event)


def test_synced_hints_are_acknowledged_and_failed_ones_retried_with_backoff(store, queue, engine, clock, tenant):
    queue.put([imported(tenant, 1), imported(tenant, 2)])
    engine.errors[finding(2).key] = "Jira answered 503"

    report = worker(store, queue, engine, clock).run_once()

    assert (report.acked, report.retried, report.dead) == (1, 1, 0)
    assert queue.depth() == 1
    clock.advance(4)
    assert queue.receive(10, wait_seconds=0) == []  # first retry after 5 s
    clock.advance(1)
    [again] = queue.receive(10, wait_seconds=0)
    assert again.hint.finding == finding(2) and again.attempts == 2


def test_the_backoff_doubles_up_to_a_ceiling(store, queue, engine, clock):
    run = worker(store, queue, engine, clock, retry_base_seconds=5, retry_max_seconds=30)
    assert [run.settings.retry_policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 30, 30]


def test_a_hint_that_keeps_failing_is_dead_lettered_with_an_audit_entry(store, queue, engine, clock, tenant):
    queue.put([imported(tenant, 1, "event-1")])
    engine.errors[finding(1).key] = "Jira refused the ticket: priority is required"
    run = worker(store, queue, engine, clock, retry_base_seconds=1, retry_max_seconds=1)

    reports = []
    for _ in range(3):
        reports.append(run.run_once())
        clock.advance(1)

    assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    assert queue.receive(10, wait_seconds=0) == []
    [(parked, error)] = queue.dead()
    assert parked.event_id == "event-1" and "priority is required" in error
    with store.read() as uow:
        [entry] = uow.audit.for_finding(tenant.id, finding(1).key)
    assert entry.action == "DeadLetter" and "after 3 attempts" in entry.reason and "priority" in entry.reason


def test_a_dead_lettered_ticket_hint_is_audited_on_its_linked_finding(store, queue, engine, clock, tenant):
    link = Link(finding(1).key, finding(1).id, finding(1).product_arn, LinkState.LINKED, ticket_key="SEC-1")
    with store.transaction() as uow:
        uow.links.save(tenant.id, link)
    queue.put([SyncHint(tenant.id, HintSource.JIRA_WEBHOOK, ticket_key="SEC-1")])
    engine.errors["SEC-1"] = "Security Hub did not update the finding"
    run = worker(store, queue, engine, clock, retry_base_seconds=1, retry_max_seconds=1)

    for _ in range(3):
        run.run_once()
        clock.advance(1)

    with store.read() as uow:
        [entry] = uow.audit.for_finding(tenant.id, finding(1).key)
    assert entry.ticket_key == "SEC-1" and entry.action == "DeadLetter"


def test_a_batch_whose_sync_raises_is_retried_whole(store, queue, engine, clock, tenant):
    queue.put([imported(tenant, 1), imported(tenant, 2)])
    engine.raises = ConnectionError("Security Hub unreachable")

    report = worker(store, queue, engine, clock).run_once()

    assert (report.acked, report.retried) == (0, 2)


def test_hints_go_to_their_own_tenants_sync(store, queue, engine, clock, tenant):
    other = make_tenant(store, "other")
    queue.put([imported(tenant, 1), imported(other, 2), imported(tenant, 3)])

    worker(store, queue, engine, clock).run_once()

    assert sorted((t, [h.finding for h in hints]) for t, hints in engine.calls) == sorted(
        [(tenant.id, [finding(1), finding(3)]), (other.id, [finding(2)])]
    )


def test_hints_of_a_deleted_disabled_or_unconfigured_tenant_are_dropped(store, queue, engine, clock, tenant):
    disabled, unready = make_tenant(store, "disabled"), make_tenant(store, "unready")
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(disabled, enabled=False))
    engine.not_ready.add(unready.id)
    queue.put([imported(tenant, 1), imported(disabled, 2), imported(unready, 3)])
    with store.transaction() as uow:
        uow.tenants.delete(tenant.id)  # its hints go with it

    report = worker(store, queue, engine, clock).run_once()

    assert report.dropped == 2 and engine.calls == []
    assert queue.depth() == 0


def test_every_batch_asks_for_the_tenants_context_read_afresh(store, queue, engine, clock, tenant):
    run = worker(store, queue, engine, clock)
    for number in range(2):
        queue.put([imported(tenant, number)])
        run.run_once()
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, name="renamed"))
    queue.put([imported(tenant, 9)])
    run.run_once()

    assert engine.contexts_built == [tenant.id] * 3  # the cache behind it is `TenantClients` (test_bootstrap.py)


def test_leases_are_kept_while_a_long_sync_runs(store, engine, tenant):
    queue = LocalQueue(store.engine, lease=timedelta(seconds=0.3))  # real clock: the keeper extends every 0.1 s
    queue.put([imported(tenant, 1)])
    stolen: list = []
    engine.during = lambda: (time.sleep(0.8), stolen.extend(queue.receive(10, wait_seconds=0)))

    report = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync).run_once()

    assert stolen == [] and report.acked == 1


def test_run_drains_the_queue_on_several_threads_and_stops_when_told(store, engine, tenant):
    queue = LocalQueue(store.engine)
    queue.put([imported(tenant, n) for n in range(40)])
    stop = threading.Event()
    run = Worker(store, queue, settings=WorkerSettings(concurrency=3, batch_size=5, wait_seconds=0.2,
                                                       reconcile_interval=None),
                 contexts=engine, is_transient=is_transient, sync=engine.sync)
    thread = threading.Thread(target=run.run, args=(stop,))
    thread.start()

    deadline = time.monotonic() + 20
    while queue.depth() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(5)

    assert not thread.is_alive() and queue.depth() == 0
    assert sorted(h.finding.id for _, hints in engine.calls for h in hints) == sorted(finding(n).id for n in range(40))


def test_the_periodic_reconcile_runs_once_per_interval_across_workers(store, queue, engine, clock, tenant):
    reconciled: list[str] = []

    def reconcile_tenant(ctx: SyncContext) -> ReconcileReport:
        reconciled.append(ctx.tenant_id)
        return ReconcileReport()

    one, two = (Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync,
                       reconcile_tenant=reconcile_tenant, timers=WorkerTimers(store.engine, clock), clock=clock)
                for _ in range(2))
    interval = timedelta(minutes=15)

    assert one.reconcile_due(interval) == [tenant.id]
    assert two.reconcile_due(interval) == []
    clock.advance(15 * 60)
    assert two.reconcile_due(interval) == [tenant.id]
    assert reconciled == [tenant.id, tenant.id]


def test_a_worker_without_timers_refuses_a_periodic_reconcile(store, queue, engine, clock):
    """The timers are injected (run_worker builds them); a worker asked to reconcile periodically without them
    says so before it starts a thread, instead of never reconciling."""
    run = worker(store, queue, engine, clock, reconcile_interval=timedelta(minutes=15))

    with pytest.raises(ValueError, match="timers"):
        run.run(threading.Event())


# -- an outage is not the hint's fault --------------------------------------------------------------------------


def next_turn(run: Worker, clock: FakeClock, step: int = 5, limit: int = 3600):
    """Move the clock on `step` seconds at a time until the worker receives something; (seconds, its report)."""
    waited = 0
    while waited < limit:
        clock.advance(step)
        waited += step
        report = run.run_once()
        if report.acked or report.retried or report.dead or report.dropped:
            return waited, report
    raise AssertionError(f"nothing came back within {limit} s")


@pytest.mark.parametrize("side", ["sync", "context"])
def test_an_outage_of_hours_dead_letters_nothing(store, queue, engine, clock, tenant, side):
    """Jira or AWS unreachable for the whole batch: retried at a backoff capped at retry_max_seconds for as long as
    it lasts, and those attempts do not count toward max_attempts (3 here); the hint's own failures still do."""
    queue.put([imported(tenant, 1, "event-1")])
    outage = ConnectionError("Jira unreachable")
    if side == "sync":
        engine.raises = outage
    else:
        engine.context_raises = outage
    run = worker(store, queue, engine, clock, retry_base_seconds=5, retry_max_seconds=300)

    assert run.run_once().retried == 1
    delays = []
    for _ in range(10):
        waited, report = next_turn(run, clock)
        assert (report.retried, report.dead) == (1, 0)
        delays.append(waited)
    assert delays[0] == 5 and delays == sorted(delays) and delays[-1] == 300
    for _ in range(50):  # hours more
        waited, report = next_turn(run, clock, step=300)
        assert (waited, report.retried, report.dead) == (300, 1, 0)
    assert queue.dead() == []

    engine.raises = engine.context_raises = None  # back: now the hint's own sync fails
    engine.errors[finding(1).key] = "Jira refused the ticket: priority is required"
    reports = [next_turn(run, clock)[1] for _ in range(3)]

    assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    [(parked, error)] = queue.dead()
    assert parked.event_id == "event-1" and "priority is required" in error


# -- tenants and their contexts ---------------------------------------------------------------------------------


def test_a_tenant_enabled_again_gets_its_hints_synced_at_once(store, queue, engine, clock, tenant):
    run = worker(store, queue, engine, clock)
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, enabled=False))
    queue.put([imported(tenant, 1)])
    assert run.run_once().dropped == 1

    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, enabled=True))
    clock.advance(1)
    queue.put([imported(tenant, 2)])
    report = run.run_once()

    assert (report.acked, report.dropped) == (1, 0)
    assert [h.finding for _, hints in engine.calls for h in hints] == [finding(2)]


def test_a_failed_batch_has_the_tenants_clients_built_afresh(store, queue, engine, clock, tenant):
    run = worker(store, queue, engine, clock)
    queue.put([imported(tenant, 1)])
    run.run_once()
    assert engine.forgotten == []  # kept for the next batch

    engine.raises = ConnectionError("Jira unreachable")
    queue.put([imported(tenant, 2)])
    run.run_once()

    assert engine.forgotten == [tenant.id]  # a new role session, a new connection next time


def test_the_periodic_reconcile_syncs_through_the_tenants_context(store, queue, engine, clock, tenant):
    reconciled: list[str] = []
    run = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync,
                 reconcile_tenant=lambda ctx: reconciled.append(ctx.tenant_id) or ReconcileReport(),
                 timers=WorkerTimers(store.engine, clock), clock=clock)

    assert run.reconcile_due(timedelta(minutes=15)) == [tenant.id]
    assert reconciled == [tenant.id] and engine.contexts_built == [tenant.id]


# -- leases -------------------------------------------------------------------------------------------------------


class WatchedQueue(LocalQueue):
    """The local queue, noting which receipts each lease extension named."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.extended: list[set[str]] = []

    def extend(self, deliveries, seconds) -> None:
        self.extended.append({d.receipt for d in deliveries})
        super().extend(deliveries, seconds)


def test_the_lease_keeper_leaves_settled_hints_alone(store, engine, tenant):
    """On SQS an extension after retry_later would undo its backoff (and after dead_letter, the redrive)."""
    other = make_tenant(store, "other")
    queue = WatchedQueue(store.engine, lease=timedelta(seconds=0.3))  # the keeper extends every 0.1 s
    queue.put([imported(tenant, 1), imported(other, 2)])
    engine.errors[finding(1).key] = "Jira answered 400"  # the first tenant's hint is retried at once
    engine.during = lambda: time.sleep(0.5) if engine.calls[-1][0] == other.id else None

    deliveries = queue.receive(10, wait_seconds=0)
    report = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync).handle(deliveries)

    assert (report.acked, report.retried) == (1, 1)
    [settled] = [d.receipt for d in deliveries if d.hint.tenant_id == tenant.id]
    assert queue.extended and all(settled not in receipts for receipts in queue.extended)


# -- the periodic reconcile -----------------------------------------------------------------------------------


def test_a_reconcile_cut_short_by_a_crash_falls_to_the_next_worker_soon(store, queue, engine, clock, tenant):
    def crash(ctx: SyncContext) -> ReconcileReport:
        raise SystemExit("the process is killed mid-reconcile")

    one = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync, reconcile_tenant=crash,
                 settings=WorkerSettings(reconcile_lease=timedelta(minutes=2)),
                 timers=WorkerTimers(store.engine, clock), clock=clock)
    two = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync,
                 reconcile_tenant=lambda ctx: ReconcileReport(), timers=WorkerTimers(store.engine, clock), clock=clock)
    interval = timedelta(minutes=15)
    with pytest.raises(SystemExit):
        one.reconcile_due(interval)

    assert two.reconcile_due(interval) == []  # still the crashed worker's turn: its lease has not run out
    clock.advance(121)
    assert two.reconcile_due(interval) == [tenant.id]
    assert two.reconcile_due(interval) == []
    clock.advance(15 * 60)
    assert two.reconcile_due(interval) == [tenant.id]


def test_a_reconcile_that_runs_long_keeps_its_turn(store, queue, engine, tenant):
    """The running worker renews its claim, so a reconcile longer than the lease is not started twice."""
    started = threading.Event()
    finish = threading.Event()

    def slow(ctx: SyncContext) -> ReconcileReport:
        started.set()
        finish.wait(5)
        return ReconcileReport()

    settings = WorkerSettings(reconcile_lease=timedelta(seconds=0.3))  # real clock: renewed every 0.1 s
    one = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync, reconcile_tenant=slow,
                 settings=settings, timers=WorkerTimers(store.engine))
    two = Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync, reconcile_tenant=slow,
                 settings=settings, timers=WorkerTimers(store.engine))
    thread = threading.Thread(target=one.reconcile_due, args=(timedelta(minutes=15),))
    thread.start()
    started.wait(5)
    time.sleep(0.6)  # twice the lease

    assert two.reconcile_due(timedelta(minutes=15)) == []
    finish.set()
    thread.join(5)


def test_hint_sources_are_the_event_kinds_hubsync_takes():
    """The wire format's sources: each is something an intake produces (a reconcile syncs directly, no hints)."""
    assert {source.value for source in HintSource} == {
        "securityhub.imported", "securityhub.custom-action", "jira.webhook", "jira.admin-webhook", "jira.forge-event",
        "jira.post-function"}


# -- what the worker needs of its environment ------------------------------------------------------------------


def test_on_sqs_the_default_receive_count_rides_out_a_day_long_outage():
    """SQS counts every receive, whatever the worker makes of it: the work queue's maxReceiveCount (the template's
    default) is the window during which an unreachable tenant loses nothing."""
    from hubsync.service.worker import outage_window

    text = (Path(__file__).resolve().parents[3] / "infra" / "securityhub-events.yaml").read_text()
    default = int(re.search(r"WorkQueueMaxReceiveCount:\n(?:\s+\w+: .*\n)*?\s+Default: (\d+)", text).group(1))

    assert outage_window(default, WorkerSettings()) >= timedelta(hours=24)
    assert outage_window(5, WorkerSettings()) < timedelta(minutes=2)  # what a small count would give


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_the_worker_commands_store_has_a_connection_per_thread_and_lock(tmp_path, concurrency):
    """Each sync holds a connection for its locks while it needs others: the pool grows with --concurrency."""
    store = open_store(Settings.from_environment({"HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
                                                  "HUBSYNC_SECRET_KEY": TEST_SECRET_KEY}),
                       pool_size=pool_size_for(concurrency))
    try:
        assert store.engine.pool.size() == 2 * concurrency + 3
    finally:
        store.dispose()


def test_the_worker_commands_postgresql_pool_too():
    import os

    url = os.environ.get("HUBSYNC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUBSYNC_TEST_POSTGRES_URL is not set")
    store = open_store(Settings.from_environment({"HUBSYNC_DATABASE_URL": url, "HUBSYNC_SECRET_KEY": TEST_SECRET_KEY}),
                       pool_size=pool_size_for(8))
    try:
        assert store.engine.pool.size() == 19
    finally:
        store.dispose()


def test_a_passing_failure_is_retried_soon_and_never_uses_up_the_hints_attempts(store, queue, engine, clock, tenant):
    """"Another sync holds this finding", a 503 on one ticket: reasons to come back, never to dead-letter."""
    queue.put([imported(tenant, 1, "event-1")])
    engine.errors[finding(1).key] = "another sync holds this finding"
    engine.passing[finding(1).key] = None
    run = worker(store, queue, engine, clock, retry_base_seconds=1, retry_max_seconds=1)

    reports = []
    for _ in range(3 * queue.max_attempts):
        reports.append(run.run_once())
        clock.advance(1)

    assert all((r.retried, r.dead) == (1, 0) for r in reports)
    assert queue.dead() == []
    [again] = queue.receive(10, wait_seconds=0)
    assert again.attempts == 1  # every receive was given back


def test_a_passing_failure_comes_back_when_the_sync_said_not_before(store, queue, engine, clock, tenant):
    queue.put([imported(tenant, 1)])
    engine.errors[finding(1).key] = "an earlier attempt's claim is within its lease"
    engine.passing[finding(1).key] = clock() + timedelta(seconds=40)

    worker(store, queue, engine, clock).run_once()

    clock.advance(40)
    assert queue.receive(10, wait_seconds=0) == []
    clock.advance(1)
    assert len(queue.receive(10, wait_seconds=0)) == 1


def test_a_queue_that_cannot_settle_leaves_the_hints_to_their_leases_without_failing(
    store, queue, engine, clock, tenant, caplog
):
    """The database restarting while a batch is settled: the worker carries on; the hints come back when their
    leases run out."""
    queue.put([imported(tenant, 1)])
    run = worker(store, queue, engine, clock)
    deliveries = queue.receive(10, wait_seconds=0)

    def unavailable(*_args, **_kwargs):
        raise QueueUnavailable("the queue's database is unavailable: connection refused")

    queue.ack = unavailable  # type: ignore[method-assign]
    report = run.handle(deliveries)

    assert report.acked == 1
    assert any("could not settle" in r.getMessage() and r.exc_info is None for r in caplog.records)
    clock.advance(queue.lease_seconds + 1)
    assert len(queue.receive(10, wait_seconds=0)) == 1


def test_a_loop_that_meets_a_database_outage_pauses_without_a_traceback(store, queue, engine, clock, caplog):
    stop = threading.Event()
    calls = []

    def loop(_stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise QueueUnavailable("the queue's database is unavailable")
        stop.set()

    worker(store, queue, engine, clock, wait_seconds=0.01)._guarded(loop, stop)

    assert len(calls) == 2
    [record] = [r for r in caplog.records if "paused" in r.getMessage()]
    assert record.levelname == "WARNING" and record.exc_info is None



def test_a_tenant_waiting_for_its_forge_token_keeps_its_hints_without_using_their_attempts(
    store, queue, engine, clock, tenant
):
    """A Forge app's token ran out between invocations: its hints wait for the next one, never dropped and never
    closer to the dead-letter queue; once a token is back they sync."""
    engine.context_raises = TenantWaiting(f"tenant {tenant.name}: waiting for Forge to hand hubsync a fresh token")
    queue.put([imported(tenant, 1, "event-1")])
    run = worker(store, queue, engine, clock, retry_base_seconds=1, retry_max_seconds=1)

    reports = [next_turn(run, clock)[1] for _ in range(2 * queue.max_attempts)]

    assert all((r.retried, r.dropped, r.dead) == (1, 0, 0) for r in reports)
    assert queue.dead() == [] and engine.calls == []
    engine.context_raises = None  # the hourly trigger brought a token
    assert next_turn(run, clock)[1].acked == 1
    assert [h.event_id for _, hints in engine.calls for h in hints] == ["event-1"]
