"""The audit timeline: a finding's history reads back in the order things happened, with the why and the
before/after intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.adapters.store import Store
from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import Tenant
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import finding, make_tenant

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def append(store: Store, tenant: Tenant, number: int, action: str, at: datetime | None = None) -> None:
    with store.transaction() as uow:
        uow.audit.append(
            tenant_id=tenant.id,
            finding_key=finding(number).key,
            action=action,
            reason=f"because {action}",
            outcome="applied",
            at=at,
        )


def actions(store: Store, tenant: Tenant, number: int, limit: int | None = None) -> list[str]:
    with store.read() as uow:
        return [entry.action for entry in uow.audit.for_finding(tenant.id, finding(number).key, limit=limit)]


def test_a_findings_timeline_is_in_time_order_then_insertion_order(store: Store, tenant: Tenant) -> None:
    append(store, tenant, 1, "closed", at=T0 + timedelta(minutes=5))
    append(store, tenant, 1, "created", at=T0)
    append(store, tenant, 1, "notified", at=T0 + timedelta(minutes=1))
    append(store, tenant, 1, "commented", at=T0 + timedelta(minutes=1))  # same instant: insertion order
    append(store, tenant, 2, "other finding", at=T0)

    assert actions(store, tenant, 1) == ["created", "notified", "commented", "closed"]


def test_the_latest_entries_only_still_read_oldest_first(store: Store, tenant: Tenant) -> None:
    for minute, action in enumerate(["a", "b", "c", "d"]):
        append(store, tenant, 1, action, at=T0 + timedelta(minutes=minute))

    assert actions(store, tenant, 1, limit=2) == ["c", "d"]


def test_an_entry_defaults_to_the_store_clock(store: Store, tenant: Tenant, clock: FakeClock) -> None:
    append(store, tenant, 1, "created")
    with store.read() as uow:
        [entry] = uow.audit.for_finding(tenant.id, finding(1).key)
    assert entry.at == clock.now


def test_an_entry_keeps_its_rule_reason_and_before_after(store: Store, tenant: Tenant) -> None:
    before = Link(finding(1).key, finding(1).id, finding(1).product_arn, LinkState.LINKED, ticket_key="SEC-1")
    with store.transaction() as uow:
        appended = uow.audit.append(
            tenant_id=tenant.id,
            finding_key=finding(1).key,
            ticket_key="SEC-1",
            rule=7,
            action="update_finding",
            reason="risk accepted in SEC-1 by Sam Triage",
            before={"link": before, "workflow": WorkflowStatus.NOTIFIED},
            after={"workflow": "SUPPRESSED", "at": T0},
            outcome="applied",
        )
    with store.read() as uow:
        [entry] = uow.audit.for_finding(tenant.id, finding(1).key)

    assert entry == appended and entry.id is not None
    assert (entry.rule, entry.ticket_key, entry.reason) == (7, "SEC-1", "risk accepted in SEC-1 by Sam Triage")
    assert entry.before["workflow"] == "NOTIFIED"
    assert entry.before["link"]["ticket_key"] == "SEC-1"
    assert entry.before["link"]["state"] == "LINKED"
    assert entry.after == {"workflow": "SUPPRESSED", "at": "2025-06-01T12:00:00+00:00"}


def test_timelines_are_per_tenant_and_go_with_their_tenant(store: Store, tenant: Tenant) -> None:
    other = make_tenant(store, "Other")
    append(store, tenant, 1, "ours")
    append(store, other, 1, "theirs")

    with store.transaction() as uow:
        assert uow.tenants.delete(other.id)

    assert actions(store, tenant, 1) == ["ours"]
    assert actions(store, other, 1) == []
