"""Links: what the rules remember per pair survives intact, is found from either side, and is never overwritten
blindly; a tenant's links are walked in constant memory."""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from hubsync.adapters.store import Store
from hubsync.adapters.store.models import LinkRow
from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.link import Link, LinkState, StaleLink
from hubsync.domain.tenant import Tenant
from hubsync.domain.ticket import Disposition
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import finding, make_tenant

T0 = datetime(2025, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)


def linked(number: int, **changes: object) -> Link:
    identifier = finding(number)
    link = Link(
        finding_key=identifier.key,
        finding_id=identifier.id,
        product_arn=identifier.product_arn,
        state=LinkState.LINKED,
        ticket_key=f"SEC-{number}",
        secondary_key=f"S3.8|arn:aws:s3:::bucket-{number}|111122223333",
    )
    return dataclasses.replace(link, **changes)


def every_field_set(number: int) -> Link:
    """A link with a distinct, non-default value in every field, including fields added after this test."""
    link = linked(
        number,
        seen_updated_at=T0,
        fixed_at_updated_at=T0 + timedelta(days=1),
        written_workflow=WorkflowStatus.NOTIFIED,
        seen_disposition=Disposition.FALSE_POSITIVE,
        accepted_until=datetime(2026, 5, 1, tzinfo=UTC),
        rendered_severity="HIGH",
        rendered_title="S3 general purpose buckets should block public access",
    )
    unset = [f.name for f in dataclasses.fields(Link) if getattr(link, f.name) in (None, f.default)]
    extra = {name: T0 + timedelta(hours=len(name)) for name in unset if name.endswith("_at")}
    assert set(unset) == set(extra), f"teach this test a value for the new Link fields {set(unset) - set(extra)}"
    return dataclasses.replace(link, **extra)


def test_every_field_of_a_link_round_trips(store: Store, tenant: Tenant) -> None:
    link = every_field_set(1)
    with store.transaction() as uow:
        uow.links.save(tenant.id, link)
    with store.read() as uow:
        stored = uow.links.get(tenant.id, link.finding_key)
    assert stored == link
    assert stored.seen_updated_at.tzinfo is not None


def test_a_missing_link_is_none(store: Store, tenant: Tenant) -> None:
    with store.read() as uow:
        assert uow.links.get(tenant.id, finding(404).key) is None
        assert uow.links.get_by_ticket(tenant.id, "SEC-404") is None


def test_links_are_per_tenant(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        other = uow.tenants.create(
            name="Other", jira_base_url="https://other.atlassian.net", jira_flavour="CLOUD", auth_mode="API_TOKEN"
        )
        uow.links.save(tenant.id, linked(1))
    with store.read() as uow:
        assert uow.links.get(other.id, linked(1).finding_key) is None
        assert uow.links.get_by_ticket(other.id, "SEC-1") is None


def test_a_webhook_finds_the_finding_by_its_ticket(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1))
        uow.links.save(tenant.id, linked(2))
    with store.read() as uow:
        assert uow.links.get_by_ticket(tenant.id, "SEC-2") == linked(2)


def test_a_page_of_tickets_finds_their_findings_in_one_go_the_linked_one_first(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1))
        uow.links.save(tenant.id, linked(2, ticket_key="SEC-2"))
        clock.advance(60)  # a newer, broken link that once named SEC-2 loses to the linked one
        uow.links.save(tenant.id, linked(3, ticket_key="SEC-2", state=LinkState.BROKEN))
    with store.read() as uow:
        found = uow.links.get_by_tickets(tenant.id, ["SEC-1", "SEC-2", "SEC-404"])
    assert found == {"SEC-1": linked(1), "SEC-2": linked(2, ticket_key="SEC-2")}


def test_a_reissued_finding_adopts_the_linked_ticket_of_its_secondary_key(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    secondary = "S3.8|arn:aws:s3:::shared|111122223333"
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, secondary_key=secondary, ticket_key="SEC-1"))
        clock.advance(60)
        uow.links.save(tenant.id, linked(2, secondary_key=secondary, ticket_key="SEC-2", state=LinkState.BROKEN))
    with store.read() as uow:
        adopted = uow.links.get_by_secondary_key(tenant.id, secondary)
    assert adopted is not None and adopted.ticket_key == "SEC-1"  # LINKED beats a newer BROKEN link


def test_get_many_reads_a_page_of_findings_at_once(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        for number in range(3):
            uow.links.save(tenant.id, linked(number))
    keys = [finding(number).key for number in (0, 2, 99)]
    with store.read() as uow:
        found = uow.links.get_many(tenant.id, keys)
    assert found == {finding(0).key: linked(0), finding(2).key: linked(2)}


def test_a_save_does_not_overwrite_a_link_someone_changed_since_it_was_read(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        version = uow.links.save(tenant.id, linked(1))
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, seen_disposition=Disposition.FIXED))  # another worker, meanwhile

    with store.transaction() as uow, pytest.raises(StaleLink):
        uow.links.save(tenant.id, linked(1, seen_disposition=Disposition.OPEN), expected_version=version)
    with store.read() as uow:
        assert uow.links.get(tenant.id, linked(1).finding_key).seen_disposition is Disposition.FIXED


def test_each_save_advances_the_version(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        first = uow.links.save(tenant.id, linked(1))
        second = uow.links.save(tenant.id, linked(1, rendered_severity="LOW"))
    with store.transaction() as uow:
        uow.links.get(tenant.id, linked(1).finding_key)
        third = uow.links.save(tenant.id, linked(1, rendered_severity="MEDIUM"))
    assert (first, second, third) == (1, 2, 3)


@pytest.mark.postgres
def test_a_save_after_a_read_fails_when_another_transaction_wrote_in_between(postgres_store: Store) -> None:
    # Only PostgreSQL lets two write transactions overlap; SQLite runs them one after the other.
    store, tenant = postgres_store, make_tenant(postgres_store)
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1))
    with store.transaction() as reader:
        reader.links.get(tenant.id, linked(1).finding_key)
        with store.transaction() as writer:
            writer.links.save(tenant.id, linked(1, rendered_severity="CRITICAL"))
        with pytest.raises(StaleLink):
            reader.links.save(tenant.id, linked(1, rendered_severity="LOW"))


def test_saving_a_new_link_that_someone_else_created_meanwhile_is_stale(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1))
    with store.transaction() as uow, pytest.raises(StaleLink):
        uow.links.save(tenant.id, linked(1), expected_version=0)


def test_iteration_visits_every_link_once_in_pages(store: Store, tenant: Tenant) -> None:
    _insert_links(store, tenant, 250)
    with store.read() as uow:
        via_unit_of_work = [link.finding_key for link in uow.links.iter_links(tenant.id, batch=100)]
    via_store = [link.finding_key for link in store.iter_links(tenant.id, batch=100)]
    assert via_store == via_unit_of_work == sorted(via_store)
    assert len(set(via_store)) == 250


def test_iteration_fetches_lazily_one_bounded_page_at_a_time(store: Store, tenant: Tenant) -> None:
    _insert_links(store, tenant, 250)
    fetched: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # SQLAlchemy event signature
        if statement.lstrip().upper().startswith("SELECT") and "FROM links" in statement:
            fetched.append(cursor.rowcount)

    pages = store.iter_links(tenant.id, batch=100)
    event.listen(store.engine, "after_cursor_execute", count)
    try:
        next(pages)
        assert len(fetched) == 1  # the first link costs one page, not the table
        rest = list(pages)
    finally:
        event.remove(store.engine, "after_cursor_execute", count)
    assert len(rest) == 249
    assert len(fetched) == 3


def test_iteration_can_be_limited_to_states(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1))
        uow.links.save(tenant.id, linked(2, state=LinkState.BROKEN))
    assert [link.ticket_key for link in store.iter_links(tenant.id, states=[LinkState.BROKEN])] == ["SEC-2"]


def test_iteration_memory_stays_flat_as_the_number_of_links_grows(store: Store, tenant: Tenant) -> None:
    def peak_while_iterating(tenant_id: str) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            for _ in store.iter_links(tenant_id, batch=100):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    with store.transaction() as uow:
        large = uow.tenants.create(
            name="Large", jira_base_url="https://large.atlassian.net", jira_flavour="CLOUD", auth_mode="API_TOKEN"
        )
    _insert_links(store, tenant, 300)
    _insert_links(store, large, 3000)
    peak_while_iterating(tenant.id)  # warm caches (compiled statements, type processors)
    small_peak, large_peak = peak_while_iterating(tenant.id), peak_while_iterating(large.id)
    assert large_peak < small_peak * 1.5 + 64 * 1024, (small_peak, large_peak)


def _insert_links(store: Store, tenant: Tenant, count: int) -> None:
    """Many links at once, straight into the table (fast set-up for the iteration tests)."""
    now = datetime(2025, 6, 1, tzinfo=UTC)
    rows = []
    for number in range(count):
        identifier = finding(number, product=f"bulk-{tenant.id[:8]}")
        rows.append(
            {
                "tenant_id": tenant.id,
                "finding_key": identifier.key,
                "finding_id": identifier.id,
                "product_arn": identifier.product_arn,
                "state": "LINKED",
                "ticket_key": f"SEC-{number}",
                "rendered_title": "x" * 200,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    with store.engine.begin() as connection:
        connection.execute(sa.insert(LinkRow), rows)
