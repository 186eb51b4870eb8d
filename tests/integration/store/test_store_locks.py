"""Syncs of one finding run one after the other: the second waits until the first lets go and then reads what it
wrote. Syncs of other findings and reads never wait. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from hubsync.adapters.store import Store
from hubsync.adapters.store.sync_locks import SyncLocks, lock_id
from hubsync.domain.link import Link, LinkState
from hubsync.domain.sync_locks import SyncLockLost, SyncLockTimeout
from hubsync.domain.tenant import Tenant
from tests.integration.store.builders import finding

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
    """Until the other thread waits for the lock: PostgreSQL shows advisory-lock waiters; a thread lock does not,
    so on SQLite the thread gets a moment to reach it."""
    if store.engine.dialect.name == "sqlite":
        threading.Event().wait(0.2)
    else:
        with store.engine.connect() as observer:
            for _ in range(TIMEOUT * 100):
                waiting = observer.exec_driver_sql(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).scalar()
                observer.rollback()
                if waiting:
                    break
                threading.Event().wait(0.01)
            else:
                raise AssertionError("the second sync never waited for the lock")
    assert not attempt.done(), "the second sync did not wait for the first"


def test_a_second_sync_of_a_finding_waits_for_the_first_and_sees_its_write(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "before"))
    first_holds_the_lock = threading.Event()

    def second_sync() -> str | None:
        first_holds_the_lock.wait(TIMEOUT)
        with store.serialized(tenant.id, [finding(1).key]), store.read() as uow:
            return uow.links.get(tenant.id, finding(1).key).rendered_title

    with ThreadPoolExecutor(1) as pool:
        with store.serialized(tenant.id, [finding(2).key, finding(1).key]):
            attempt = pool.submit(second_sync)
            first_holds_the_lock.set()
            wait_until_blocked(store, attempt)
            with store.transaction() as uow:
                uow.links.save(tenant.id, linked(1, "written by the first sync"))
        assert attempt.result(TIMEOUT) == "written by the first sync"


def test_a_finding_without_a_link_is_locked_too(store: Store, tenant: Tenant) -> None:
    """Its first sync creates the ticket: a second sync must wait to see the link instead of racing the claim."""
    first_holds_the_lock = threading.Event()

    def second_sync() -> LinkState | None:
        first_holds_the_lock.wait(TIMEOUT)
        with store.serialized(tenant.id, [finding(1).key]), store.read() as uow:
            link = uow.links.get(tenant.id, finding(1).key)
            return None if link is None else link.state

    with ThreadPoolExecutor(1) as pool:
        with store.serialized(tenant.id, [finding(1).key]):
            attempt = pool.submit(second_sync)
            first_holds_the_lock.set()
            wait_until_blocked(store, attempt)
            with store.transaction() as uow:
                uow.links.save(tenant.id, linked(1, "created"))
        assert attempt.result(TIMEOUT) is LinkState.LINKED


def test_syncs_of_other_findings_and_reads_do_not_wait(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.links.save(tenant.id, linked(1, "one"))

    def other_finding() -> str:
        with store.serialized(tenant.id, [finding(2).key]), store.transaction() as uow:
            uow.links.save(tenant.id, linked(2, "two"))
        return "done"

    def panel_read() -> str | None:
        with store.read() as uow:
            return uow.links.get(tenant.id, finding(1).key).rendered_title

    with ThreadPoolExecutor(2) as pool, store.serialized(tenant.id, [finding(1).key]):
        assert pool.submit(other_finding).result(TIMEOUT) == "done"
        assert pool.submit(panel_read).result(TIMEOUT) == "one"


def test_the_same_finding_of_another_tenant_does_not_wait(store: Store, tenant: Tenant) -> None:
    def other_tenant() -> str:
        with store.serialized("another-tenant", [finding(1).key]):
            return "done"

    with ThreadPoolExecutor(1) as pool, store.serialized(tenant.id, [finding(1).key]):
        assert pool.submit(other_tenant).result(TIMEOUT) == "done"


def test_a_failed_sync_lets_go_of_its_findings(store: Store, tenant: Tenant) -> None:
    with pytest.raises(RuntimeError), store.serialized(tenant.id, [finding(1).key]):
        raise RuntimeError("Jira answered 500")

    def next_sync() -> str:
        with store.serialized(tenant.id, [finding(1).key]):
            return "acquired"

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(next_sync).result(TIMEOUT) == "acquired"


def test_batches_that_share_findings_in_any_order_never_deadlock(store: Store, tenant: Tenant) -> None:
    keys = [finding(number).key for number in range(1, 21)]
    rounds = 20

    def batch(order: list[str]) -> int:
        for _ in range(rounds):
            with store.serialized(tenant.id, order):
                pass
        return rounds

    with ThreadPoolExecutor(4) as pool:
        results = [pool.submit(batch, keys if n % 2 else keys[::-1]) for n in range(4)]
        assert [r.result(TIMEOUT * 3) for r in results] == [rounds] * 4


def test_waiting_too_long_is_an_error_the_caller_can_retry(store: Store, tenant: Tenant) -> None:
    impatient = SyncLocks(store.engine, timeout_s=0.2)

    def impatient_sync() -> str:
        with impatient.hold(tenant.id, [finding(1).key]):
            return "acquired"

    with (
        ThreadPoolExecutor(1) as pool,
        store.serialized(tenant.id, [finding(1).key]),
        pytest.raises(SyncLockTimeout),
    ):
        pool.submit(impatient_sync).result(TIMEOUT)


def test_locks_whose_database_session_ended_are_known_lost_before_anything_is_sent(
    store: Store, tenant: Tenant
) -> None:
    """PostgreSQL restarted (or dropped the connection) under a sync: its locks are gone and another sync may hold
    the findings, so the sync must find out before it creates a ticket; and letting go raises nothing."""
    if store.engine.dialect.name == "sqlite":
        pytest.skip("a process's own locks end only with the process")
    with store.serialized(tenant.id, [finding(1).key]) as held:
        held.verify()  # held: nothing to say
        number = lock_id(tenant.id, finding(1).key) & 0xFFFFFFFFFFFFFFFF
        with store.engine.connect() as admin:
            admin.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                f"AND classid::bigint = {number >> 32} AND objid::bigint = {number & 0xFFFFFFFF}"
            )
        with pytest.raises(SyncLockLost):
            held.verify()
    with ThreadPoolExecutor(1) as other:  # and another sync takes the finding at once
        assert other.submit(lambda: _hold_briefly(store, tenant)).result(timeout=TIMEOUT)


def _hold_briefly(store: Store, tenant: Tenant) -> bool:
    with store.serialized(tenant.id, [finding(1).key]) as held:
        held.verify()
    return True
