"""Concurrent syncs of one finding run one after the other: the second waits for the first to commit and then
sees what it wrote. Reads never wait; on PostgreSQL, other findings do not wait either."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from hubsync.adapters.store import Store, Tenant
from hubsync.domain.link import Link, LinkState
from tests.integration.store.builders import finding, make_tenant

TIMEOUT = 10


def linked(number: int, title: str) -> Link:
    identifier = finding(number)
    return Link(
        finding_key=identifier.key,
        finding_id=identifier.id,
        product_arn=identifier.product_arn,
        state=LinkState.LINKED,
        ticket_key=f"SEC-{number}",
        rendered_title=title,
    )


def wait_until_blocked(store: Store, attempt: Future) -> None:
    """Until the other thread is waiting for a lock. PostgreSQL shows waiters; SQLite's busy handler does not, so
    there we give the thread a moment to reach BEGIN IMMEDIATE."""
    if store.engine.dialect.name == "sqlite":
        threading.Event().wait(0.2)
    else:
        with store.engine.connect() as observer:
            for _ in range(TIMEOUT * 100):
                waiting = observer.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                ).scalar()
                observer.rollback()
                if waiting:
                    break
                threading.Event().wait(0.01)
            else:
                raise AssertionError("the second locker never waited for the lock")
    assert not attempt.done(), "the second locker did not wait for the first"


def test_a_second_sync_of_a_finding_waits_for_the_first_and_sees_its_write(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "before"))
    first_holds_the_lock = threading.Event()

    def second_sync() -> str | None:
        first_holds_the_lock.wait(TIMEOUT)
        with store.locked(tenant.id, finding(1).key) as uow:
            return uow.links.get(tenant.id, finding(1).key).rendered_title

    with ThreadPoolExecutor(1) as pool:
        with store.locked(tenant.id, finding(1).key) as uow:
            uow.links.get(tenant.id, finding(1).key)
            uow.links.save(tenant.id, linked(1, "written by the first sync"))
            attempt = pool.submit(second_sync)
            first_holds_the_lock.set()
            wait_until_blocked(store, attempt)
        assert attempt.result(TIMEOUT) == "written by the first sync"


def test_the_lock_is_held_again_after_a_claim_commits(store: Store, tenant: Tenant) -> None:
    """A claim commits mid-sync (it must survive a crash); the finding stays locked for the rest of the sync."""
    first_claimed = threading.Event()

    def second_sync() -> LinkState | None:
        first_claimed.wait(TIMEOUT)
        with store.locked(tenant.id, finding(1).key) as uow:
            link = uow.links.get(tenant.id, finding(1).key)
            return None if link is None else link.state

    with ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(second_sync)
        with store.locked(tenant.id, finding(1).key) as uow:
            claimed = uow.links.claim(tenant.id, finding(1))
            first_claimed.set()
            wait_until_blocked(store, attempt)
            uow.links.save(tenant.id, dataclasses.replace(claimed.link, state=LinkState.LINKED, ticket_key="SEC-1"))
        assert attempt.result(TIMEOUT) is LinkState.LINKED


def test_reads_do_not_wait_for_a_sync_in_progress(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "committed"))

    def panel_read() -> str | None:
        with store.read() as uow:
            return uow.links.get(tenant.id, finding(1).key).rendered_title

    with ThreadPoolExecutor(1) as pool, store.locked(tenant.id, finding(1).key) as uow:
        uow.links.save(tenant.id, linked(1, "not yet committed"))
        assert pool.submit(panel_read).result(TIMEOUT) == "committed"


def test_a_failed_sync_rolls_back_and_releases_the_lock(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "before"))

    with pytest.raises(RuntimeError), store.locked(tenant.id, finding(1).key) as uow:
        uow.links.save(tenant.id, linked(1, "half done"))
        raise RuntimeError("Jira answered 500")

    with store.locked(tenant.id, finding(1).key) as uow:
        assert uow.links.get(tenant.id, finding(1).key).rendered_title == "before"


@pytest.mark.postgres
def test_on_postgresql_syncs_of_other_findings_run_in_parallel(postgres_store: Store) -> None:
    store = postgres_store
    tenant = make_tenant(store)
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "one"))
        uow.links.save(tenant.id, linked(2, "two"))

    def other_finding() -> str:
        with store.locked(tenant.id, finding(2).key) as uow:
            uow.links.save(tenant.id, linked(2, "two, updated"))
        return "done"

    with ThreadPoolExecutor(1) as pool, store.locked(tenant.id, finding(1).key):
        assert pool.submit(other_finding).result(TIMEOUT) == "done"


@pytest.mark.postgres
def test_on_postgresql_the_lock_is_a_row_lock_on_the_link(postgres_store: Store) -> None:
    store = postgres_store
    tenant = make_tenant(store)
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "one"))

    with store.locked(tenant.id, finding(1).key), store.engine.connect() as other:
        other.execute(sa.text("SET lock_timeout = '50ms'"))
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            other.execute(sa.text("UPDATE links SET version = version + 1"))
