"""How long a tenant waits for its next periodic reconcile: the longer webhook interval only while its Jira webhook
is registered and the reconcile, the safety net, finds nothing the deliveries had missed; the worker's interval
otherwise. Through the worker's turns on the shared timers (SQLite), the clock moved by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, WorkerTimers
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.config import ConfigError, Settings
from hubsync.domain.jira_webhook import WebhookRegistration
from hubsync.domain.tenant import Tenant
from hubsync.service.periodic_reconcile import turn_taken
from hubsync.service.reconcile import ReconcileReport
from hubsync.service.sync import Outcome, SyncContext
from hubsync.service.worker import Worker, WorkerSettings
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, make_tenant

INTERVAL = timedelta(minutes=15)
WEBHOOK_INTERVAL = timedelta(hours=1)
REGISTERED = WebhookRegistration("17", signed=True, secret="a-webhook-secret")
CHANGED = Outcome("f-1", "id-1", "SEC-1", 1, "ticket resolved", ("UpdateFinding",))
FAILED = Outcome("f-2", "id-2", "SEC-2", 1, "read", (), error="Jira answered 500")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    engine = create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    upgrade(engine)
    store = Store(engine, SecretBox([TEST_SECRET_KEY]), clock=clock)
    yield store
    store.dispose()


class Contexts:
    def sync_context(self, tenant: Tenant) -> SyncContext:
        return SyncContext(tenant.id, None, None, None, None, None, None, None)  # type: ignore[arg-type]

    def forget(self, tenant_id: str) -> None:
        pass


class Reconciles:
    """The reconcile as the periodic turns see it: each answers the next scripted report (or raises)."""

    def __init__(self, *reports: ReconcileReport | Exception) -> None:
        self.reports = list(reports)
        self.ran = 0

    def __call__(self, ctx: SyncContext) -> ReconcileReport:
        self.ran += 1
        report = self.reports.pop(0)
        if isinstance(report, Exception):
            raise report
        return report


def tenant_with(store: Store, registration: WebhookRegistration) -> Tenant:
    tenant = make_tenant(store)
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, jira_webhook=registration))
    return tenant


def worker(store: Store, clock: FakeClock, reconciles: Reconciles,
           webhook_interval: timedelta | None = WEBHOOK_INTERVAL) -> Worker:
    return Worker(store, LocalQueue(store.engine, clock=clock), contexts=Contexts(), is_transient=is_transient,
                  settings=WorkerSettings(reconcile_interval=INTERVAL, webhook_reconcile_interval=webhook_interval),
                  reconcile_tenant=reconciles, timers=WorkerTimers(store.engine, clock), clock=clock)


def minutes_to_next_turn(run: Worker, clock: FakeClock, limit: int = 180) -> int:
    """Move the clock on a minute at a time until the tenant's turn comes again."""
    for minute in range(1, limit + 1):
        clock.advance(60)
        if run.reconcile_due(INTERVAL):
            return minute
    raise AssertionError(f"no turn within {limit} minutes")


@pytest.mark.parametrize(("registration", "first", "waits"), [
    (REGISTERED, ReconcileReport(), 60),  # registered, nothing missed: the webhook works
    (REGISTERED, ReconcileReport([CHANGED]), 15),  # the safety net caught up a change the deliveries missed
    (REGISTERED, ReconcileReport([FAILED]), 15),  # a pair failed: whether anything was missed is unknown
    (REGISTERED, RuntimeError("Security Hub unreachable"), 15),
    (WebhookRegistration(), ReconcileReport(), 15),  # no webhook: only the reconcile sees ticket changes
    (dataclasses.replace(REGISTERED, webhook_id=None), ReconcileReport(), 15),  # removed: secret kept, none on site
])
def test_the_next_turn_is_longer_only_while_the_webhook_works(store, clock, registration, first, waits):
    tenant_with(store, registration)
    run = worker(store, clock, Reconciles(first, ReconcileReport()))

    assert len(run.reconcile_due(INTERVAL)) == (0 if isinstance(first, Exception) else 1)
    assert minutes_to_next_turn(run, clock) == waits


def test_a_turn_that_catches_something_up_brings_the_tenant_back_to_the_interval(store, clock):
    tenant_with(store, REGISTERED)
    run = worker(store, clock, Reconciles(ReconcileReport(), ReconcileReport([CHANGED]), ReconcileReport(),
                                          ReconcileReport()))

    run.reconcile_due(INTERVAL)
    assert [minutes_to_next_turn(run, clock) for _ in range(3)] == [60, 15, 60]


@pytest.mark.parametrize(("webhook_interval", "waits"), [(None, 15), (timedelta(minutes=5), 15)])
def test_the_webhook_interval_never_shortens_the_wait(store, clock, webhook_interval, waits):
    tenant_with(store, REGISTERED)
    run = worker(store, clock, Reconciles(ReconcileReport(), ReconcileReport()), webhook_interval)

    run.reconcile_due(INTERVAL)
    assert minutes_to_next_turn(run, clock) == waits


def test_a_reconcile_run_outside_the_turns_puts_the_next_one_an_interval_away(store, clock):
    tenant = tenant_with(store, WebhookRegistration())
    reconciles = Reconciles(ReconcileReport())
    run = worker(store, clock, reconciles)

    assert turn_taken(WorkerTimers(store.engine, clock), tenant.id, INTERVAL, timedelta(minutes=2))
    assert run.reconcile_due(INTERVAL) == []
    assert minutes_to_next_turn(run, clock) == 15
    assert reconciles.ran == 1


def test_the_webhook_interval_is_a_setting_of_whole_seconds() -> None:
    assert Settings.from_environment({}).webhook_reconcile_interval == 3600
    assert Settings.from_environment({"HUBSYNC_WEBHOOK_RECONCILE_INTERVAL": "7200"}).webhook_reconcile_interval == 7200
    with pytest.raises(ConfigError, match="HUBSYNC_WEBHOOK_RECONCILE_INTERVAL must be a whole number"):
        Settings.from_environment({"HUBSYNC_WEBHOOK_RECONCILE_INTERVAL": "an hour"})
