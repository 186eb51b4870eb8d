"""Several workers syncing one finding at once: each waits for the one before, then decides on what it did.

Every worker has its own context (its own Jira and Security Hub clients), as separate processes would; the store is
SQLite (locks within the process) or PostgreSQL (advisory locks across processes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from hubsync.bootstrap import build_sync_context
from hubsync.domain.finding import Finding, marker_label
from hubsync.service.sync import Outcome, SyncContext, sync_findings, sync_hints, sync_links
from hubsync_sandbox.demo import Demo, running_demo
from tests.fixtures.postgres import fresh_schema
from tests.fixtures.sandbox import SandboxContracts

WORKERS = 6
TIMEOUT = 60


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None  # the demo's own SQLite file
        return
    with fresh_schema("hubsync_test", "this case needs a PostgreSQL server") as url:
        yield url


@pytest.fixture
def demo(database_url: str | None, sandbox_contracts: SandboxContracts) -> Iterator[Demo]:
    with running_demo(database_url=database_url, say=lambda _: None, wrap=sandbox_contracts.wrap) as running:
        yield running
        running.store.dispose()


def new_findings(demo: Demo, count: int) -> list[Finding]:
    filters = {
        "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}, {"Value": "HIGH", "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    found = [f for f in demo.ctx.securityhub.findings(filters) if f.is_live][:count]
    assert len(found) == count
    return found


def run_at_once(demo: Demo, syncs: list[Callable[[SyncContext], list[Outcome]]]) -> list[Outcome]:
    """Each sync on its own worker with its own context, released together."""
    with demo.store.read() as uow:
        tenant = uow.tenants.get(demo.ctx.tenant_id)
    contexts = [build_sync_context(tenant, demo.store) for _ in syncs]
    start = threading.Barrier(len(syncs))

    def worker(sync: Callable[[SyncContext], list[Outcome]], ctx: SyncContext) -> list[Outcome]:
        start.wait(TIMEOUT)
        return sync(ctx)

    with ThreadPoolExecutor(len(syncs)) as pool:
        futures = [pool.submit(worker, sync, ctx) for sync, ctx in zip(syncs, contexts, strict=True)]
        return [outcome for future in futures for outcome in future.result(TIMEOUT)]


def test_events_and_a_reconcile_racing_on_new_findings_make_one_ticket_each_and_no_errors(demo: Demo) -> None:
    findings = new_findings(demo, 3)
    identifiers = [f.identifier for f in findings]
    syncs: list[Callable[[SyncContext], list[Outcome]]] = [
        *(lambda ctx: sync_hints(ctx, identifiers) for _ in range(WORKERS - 2)),  # the same events, redelivered
        lambda ctx: sync_hints(ctx, identifiers[::-1]),  # in another order
        lambda ctx: sync_findings(ctx, findings),  # a reconcile page read before any of them ran
    ]

    outcomes = run_at_once(demo, syncs)

    assert [o.error for o in outcomes if o.error] == []  # nobody met "another sync is creating": they waited
    created = [o.finding_key for o in outcomes if "CreateTicket" in o.actions]
    assert sorted(created) == sorted(f.key for f in findings)  # each created exactly once
    for finding in findings:
        assert len(demo.world.search_keys(f'labels = "{marker_label(finding.key)}"')) == 1
    after = sync_hints(demo.ctx, identifiers)
    assert [o.actions for o in after] == [()] * len(findings)  # converged


def test_a_ticket_webhook_racing_a_finding_event_decides_once(demo: Demo) -> None:
    [finding] = new_findings(demo, 1)
    [created] = sync_hints(demo.ctx, [finding.identifier])
    assert created.ticket_key
    engineer = demo.world.user_by_name("ssecurity")
    for name in ("Request risk acceptance", "Approve risk"):
        transition = next(t for t in demo.world.transitions(created.ticket_key) if t.name == name)
        demo.world.transition_issue(created.ticket_key, transition.id, engineer)
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)

    outcomes = run_at_once(demo, [
        *(lambda ctx: sync_links(ctx, [link]) for _ in range(WORKERS // 2)),  # webhooks naming the ticket
        *(lambda ctx: sync_hints(ctx, [finding.identifier]) for _ in range(WORKERS // 2)),  # events
    ])

    suppressing = [o for o in outcomes if o.actions]
    assert [o.rule for o in suppressing] == [7]  # exactly one sync suppressed it; the rest saw it done
    assert [o.error for o in outcomes if o.error] == []
    current = demo.ctx.securityhub.get([finding.identifier])[finding.key]
    assert current.workflow_status.value == "SUPPRESSED"
