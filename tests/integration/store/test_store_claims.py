"""Claims: whoever creates a finding's ticket claimed it first, exactly one caller at a time, and a claim that a
crash left behind is handed to the next attempt as "search Jira for the marker first"."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hubsync.adapters.store import Store
from hubsync.adapters.store.links import DEFAULT_CLAIM_LEASE, DEFAULT_SEARCH_LAG, LinkStore
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.link import Claim, ClaimOutcome, LinkState, StaleLink
from hubsync.domain.tenant import Tenant
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import finding, make_tenant

LEASE_SECONDS = DEFAULT_CLAIM_LEASE.total_seconds()


class CrashAfterJiraCreate(Exception):
    pass


def claim(store: Store, tenant: Tenant, identifier: FindingIdentifier, secondary: str | None = None) -> Claim:
    with store.transaction() as uow:
        return uow.links.claim(tenant.id, identifier, secondary)


def test_the_first_claim_is_fresh_and_recorded(store: Store, tenant: Tenant) -> None:
    result = claim(store, tenant, finding(1), "S3.8|bucket|111122223333")

    assert result.outcome is ClaimOutcome.FRESH and result.owned
    with store.read() as uow:
        stored = uow.links.get(tenant.id, finding(1).key)
    assert stored is not None
    assert stored.state is LinkState.CLAIMED
    assert (stored.finding_id, stored.product_arn, stored.secondary_key) == (
        finding(1).id,
        finding(1).product_arn,
        "S3.8|bucket|111122223333",
    )


def test_the_normal_path_claims_creates_and_saves_the_link(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        claimed = uow.links.claim(tenant.id, finding(1))
        uow.links.save(tenant.id, dataclasses.replace(claimed.link, state=LinkState.LINKED, ticket_key="SEC-1"))

    again = claim(store, tenant, finding(1))
    assert again.outcome is ClaimOutcome.EXISTING and not again.owned
    assert again.link.ticket_key == "SEC-1"


def test_a_claim_survives_a_crash_between_jira_create_and_the_commit(store: Store, tenant: Tenant) -> None:
    with pytest.raises(CrashAfterJiraCreate), store.transaction() as uow:
        uow.links.claim(tenant.id, finding(1))
        uow.audit.append(tenant_id=tenant.id, finding_key=finding(1).key, action="x", reason="y", outcome="z")
        raise CrashAfterJiraCreate  # the ticket exists in Jira; the LINKED save never happened

    with store.read() as uow:
        left = uow.links.get(tenant.id, finding(1).key)
        assert uow.audit.for_finding(tenant.id, finding(1).key) == []  # work after the claim rolled back
    assert left is not None and left.state is LinkState.CLAIMED


def test_a_live_claim_is_in_progress_for_everyone_else(store: Store, tenant: Tenant, clock: FakeClock) -> None:
    claim(store, tenant, finding(1))
    clock.advance(LEASE_SECONDS - 1)

    second = claim(store, tenant, finding(1))

    assert second.outcome is ClaimOutcome.IN_PROGRESS and not second.owned


def test_an_expired_claim_is_taken_over_as_unfinished_by_exactly_one_caller(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    claim(store, tenant, finding(1), "old-secondary")  # then the worker crashed
    clock.advance(LEASE_SECONDS + 1)

    rescuer = claim(store, tenant, finding(1), "new-secondary")
    latecomer = claim(store, tenant, finding(1))

    assert rescuer.outcome is ClaimOutcome.UNFINISHED and rescuer.owned
    assert rescuer.link.secondary_key == "new-secondary"
    assert latecomer.outcome is ClaimOutcome.IN_PROGRESS  # the take-over renewed the lease


def test_a_refused_create_releases_the_claim_for_an_immediate_retry(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.claim(tenant.id, finding(1))
        assert uow.links.release_claim(tenant.id, finding(1).key)  # Jira answered 400: no ticket exists

    assert claim(store, tenant, finding(1)).outcome is ClaimOutcome.FRESH


def test_only_the_owner_of_a_claim_can_release_it(store: Store, tenant: Tenant, clock: FakeClock) -> None:
    stale = claim(store, tenant, finding(1))
    clock.advance(LEASE_SECONDS + 1)
    claim(store, tenant, finding(1))  # taken over

    with store.transaction() as uow:
        assert not uow.links.release_claim(tenant.id, finding(1).key, expected_version=stale.version)
        assert not uow.links.release_claim(tenant.id, finding(1).key)  # this unit of work claimed nothing
    with store.read() as uow:
        assert uow.links.get(tenant.id, finding(1).key).state is LinkState.CLAIMED


def test_reading_someone_elses_claim_does_not_allow_releasing_it(store: Store, tenant: Tenant) -> None:
    claim(store, tenant, finding(1))  # another worker, creating the ticket right now
    with store.transaction() as uow:
        assert uow.links.get(tenant.id, finding(1).key).state is LinkState.CLAIMED
        assert uow.links.claim(tenant.id, finding(1)).outcome is ClaimOutcome.IN_PROGRESS
        assert not uow.links.release_claim(tenant.id, finding(1).key)
    with store.read() as uow:
        assert uow.links.get(tenant.id, finding(1).key) is not None


def test_a_broken_link_can_be_claimed_afresh(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        claimed = uow.links.claim(tenant.id, finding(1))
        uow.links.save(tenant.id, dataclasses.replace(claimed.link, state=LinkState.BROKEN, ticket_key="SEC-1"))

    again = claim(store, tenant, finding(1))

    assert again.outcome is ClaimOutcome.FRESH  # the old ticket is known deleted: no marker search needed
    assert again.link.ticket_key is None


def test_an_owner_whose_claim_was_taken_over_cannot_save_over_the_new_owner(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    slow = claim(store, tenant, finding(1))
    clock.advance(LEASE_SECONDS + 1)
    claim(store, tenant, finding(1))

    with store.transaction() as uow, pytest.raises(StaleLink):
        linked = dataclasses.replace(slow.link, state=LinkState.LINKED, ticket_key="SEC-9")
        uow.links.save(tenant.id, linked, expected_version=slow.version)


def test_claim_many_claims_a_bulk_create_batch_in_one_commit(store: Store, tenant: Tenant) -> None:
    claim(store, tenant, finding(2))
    with store.transaction() as uow:
        claims = uow.links.claim_many(tenant.id, [(finding(n), None) for n in (3, 2, 1)])

    assert [c.link.finding_key for c in claims] == [finding(n).key for n in (3, 2, 1)]
    assert [c.outcome for c in claims] == [ClaimOutcome.FRESH, ClaimOutcome.IN_PROGRESS, ClaimOutcome.FRESH]


def test_racing_threads_get_exactly_one_fresh_claim_per_finding(store: Store, tenant: Tenant) -> None:
    workers, findings = 8, 10
    barrier = threading.Barrier(workers)

    def worker(_: int) -> list[Claim]:
        barrier.wait()
        return [claim(store, tenant, finding(n)) for n in range(findings)]

    with ThreadPoolExecutor(workers) as pool:
        results = [c for claims in pool.map(worker, range(workers)) for c in claims]

    for number in range(findings):
        outcomes = Counter(c.outcome for c in results if c.link.finding_key == finding(number).key)
        assert outcomes == {ClaimOutcome.FRESH: 1, ClaimOutcome.IN_PROGRESS: workers - 1}
    with store.read() as uow:
        count = uow.links.get_many(tenant.id, [finding(n).key for n in range(findings)])
    assert len(count) == findings


@pytest.mark.postgres
def test_on_postgresql_a_second_connection_waits_for_the_first_claim_and_loses(
    postgres_store: Store, clock: FakeClock
) -> None:
    """Connection A inserts its claim but has not committed; connection B's claim blocks on the unique key until A
    commits, then sees A's row (ON CONFLICT DO NOTHING, without aborting B's transaction)."""
    store, tenant = postgres_store, make_tenant(postgres_store)
    a_may_commit = threading.Event()
    with store.engine.connect() as a_connection, store.engine.connect() as observer:
        a_connection.begin()

        def commit_a() -> None:
            a_may_commit.wait(timeout=10)
            a_connection.commit()

        a_links = LinkStore(a_connection, clock, DEFAULT_CLAIM_LEASE, commit=commit_a)
        a_thread_result: list[Claim] = []
        a_thread = threading.Thread(target=lambda: a_thread_result.append(a_links.claim(tenant.id, finding(1))))
        a_thread.start()
        _wait_until_inserted_uncommitted(observer, a_connection)

        with ThreadPoolExecutor(1) as pool:
            b_result = pool.submit(claim, store, tenant, finding(1))
            _wait_until_a_backend_waits_for_a_lock(observer)
            assert not b_result.done()
            a_may_commit.set()
            a_thread.join(timeout=10)
            assert b_result.result(timeout=10).outcome is ClaimOutcome.IN_PROGRESS
    assert a_thread_result[0].outcome is ClaimOutcome.FRESH


def _wait_until_inserted_uncommitted(observer: sa.Connection, writer: sa.Connection) -> None:
    """Until the writer's transaction holds a transaction id (it has written)."""
    pid = writer.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    _poll(
        observer,
        "SELECT count(*) FROM pg_stat_activity WHERE pid = %(pid)s AND backend_xid IS NOT NULL",
        {"pid": pid},
    )


def _wait_until_a_backend_waits_for_a_lock(observer: sa.Connection) -> None:
    _poll(
        observer,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        {},
    )


def _poll(observer: sa.Connection, query: str, parameters: dict, attempts: int = 500) -> None:
    for _ in range(attempts):
        if observer.exec_driver_sql(query, parameters).scalar():
            observer.rollback()
            return
        observer.rollback()
        threading.Event().wait(0.01)
    raise AssertionError(f"timed out waiting for: {query}")


def test_a_claim_left_behind_is_taken_over_once_jiras_search_has_caught_up(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    """A claim found by a sync that holds the finding's lock was left by an attempt that is over (a worker killed
    after Jira's create): on PostgreSQL, which ends a dead holder's locks with its session, it is held only for
    Jira's search lag, not the whole lease. On SQLite another process's claim may still be under way: the lease."""
    clock.now = datetime.now(UTC)  # the database server has run since well before this claim
    claim(store, tenant, finding(1))
    lag = DEFAULT_SEARCH_LAG.total_seconds()
    clock.advance(lag - 1)

    early = claim(store, tenant, finding(1))
    clock.advance(2)
    later = claim(store, tenant, finding(1))

    assert early.outcome is ClaimOutcome.IN_PROGRESS
    if store.engine.dialect.name == "postgresql":
        assert early.live_until == clock() - timedelta(seconds=1)
        assert later.outcome is ClaimOutcome.UNFINISHED
    else:
        assert later.outcome is ClaimOutcome.IN_PROGRESS and later.live_until == clock() + timedelta(
            seconds=LEASE_SECONDS - lag - 1
        )


def test_a_claim_from_before_the_database_restarted_is_held_for_the_whole_lease(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    """Its holder lost its lock to the restart without dying, and may still be sending its create."""
    clock.now = datetime(2000, 1, 1, tzinfo=UTC)  # before the database server started
    claim(store, tenant, finding(1))
    clock.advance(LEASE_SECONDS - 1)

    assert claim(store, tenant, finding(1)).outcome is ClaimOutcome.IN_PROGRESS
    clock.advance(2)
    assert claim(store, tenant, finding(1)).outcome is ClaimOutcome.UNFINISHED
