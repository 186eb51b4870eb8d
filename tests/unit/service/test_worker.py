"""The worker's own logic, on a SQLite store and the local queue, with the sync engine scripted per test: what it
acks, retries, dead-letters (with an audit entry) and drops; contexts built once; leases kept; a clean stop."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, Tenant, create_engine, upgrade
from hubsync.domain.link import Link, LinkState
from hubsync.service.hints import HintSource, SyncHint
from hubsync.service.reconcile import ReconcileReport
from hubsync.service.sync import Outcome, SyncContext
from hubsync.service.tenants import TenantNotReady
from hubsync.service.worker import Worker, WorkerSettings
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


class Engine:
    """The sync engine as the worker sees it: records what it was given and answers as scripted."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[SyncHint]]] = []
        self.contexts_built: list[str] = []
        self.errors: dict[str, str] = {}  # finding key or ticket key → error
        self.raises: Exception | None = None
        self.not_ready: set[str] = set()
        self.during: Callable[[], None] | None = None

    def context_for(self, tenant: Tenant, store: Store) -> SyncContext:
        if tenant.id in self.not_ready:
            raise TenantNotReady(f"tenant {tenant.name}: no AWS role ARN configured")
        self.contexts_built.append(tenant.id)
        return SyncContext(tenant.id, None, None, None, None, store, None)  # type: ignore[arg-type]

    def sync(self, ctx: SyncContext, hints: Sequence[SyncHint]) -> list[Outcome]:
        self.calls.append((ctx.tenant_id, list(hints)))
        if self.during:
            self.during()
        if self.raises:
            raise self.raises
        outcomes = []
        for hint in hints:
            key = hint.finding.key if hint.finding else "f-" + (hint.ticket_key or "")
            error = self.errors.get(hint.finding.key if hint.finding else hint.ticket_key or "")
            outcomes.append(Outcome(key, "id", hint.ticket_key, 11, "synced", ("UpdateFinding",), error))
        return outcomes


@pytest.fixture
def engine() -> Engine:
    return Engine()


def worker(store: Store, queue: LocalQueue, engine: Engine, clock: FakeClock, **settings) -> Worker:
    return Worker(store, queue, settings=WorkerSettings(**settings), context_for=engine.context_for,
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
    assert [run._backoff(n) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 30, 30]


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


def test_a_tenants_context_is_built_once_for_a_while(store, queue, engine, clock, tenant):
    run = worker(store, queue, engine, clock, context_ttl=timedelta(minutes=5))
    for number in range(3):
        queue.put([imported(tenant, number)])
        run.run_once()
    assert engine.contexts_built == [tenant.id]

    clock.advance(301)
    queue.put([imported(tenant, 9)])
    run.run_once()
    assert engine.contexts_built == [tenant.id, tenant.id]


def test_leases_are_kept_while_a_long_sync_runs(store, engine, tenant):
    queue = LocalQueue(store.engine, lease=timedelta(seconds=0.3))  # real clock: the keeper extends every 0.1 s
    queue.put([imported(tenant, 1)])
    stolen: list = []
    engine.during = lambda: (time.sleep(0.8), stolen.extend(queue.receive(10, wait_seconds=0)))

    report = Worker(store, queue, context_for=engine.context_for, sync=engine.sync).run_once()

    assert stolen == [] and report.acked == 1


def test_run_drains_the_queue_on_several_threads_and_stops_when_told(store, engine, tenant):
    queue = LocalQueue(store.engine)
    queue.put([imported(tenant, n) for n in range(40)])
    stop = threading.Event()
    run = Worker(store, queue, settings=WorkerSettings(concurrency=3, batch_size=5, wait_seconds=0.2,
                                                       reconcile_interval=None),
                 context_for=engine.context_for, sync=engine.sync)
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

    one, two = (Worker(store, queue, context_for=engine.context_for, sync=engine.sync,
                       reconcile_tenant=reconcile_tenant, clock=clock) for _ in range(2))
    interval = timedelta(minutes=15)

    assert one.reconcile_due(interval) == [tenant.id]
    assert two.reconcile_due(interval) == []
    clock.advance(15 * 60)
    assert two.reconcile_due(interval) == [tenant.id]
    assert reconciled == [tenant.id, tenant.id]
