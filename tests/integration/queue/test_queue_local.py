"""The local queue on SQLite and PostgreSQL: durable, deduplicated, leased, one group in flight at a time."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.queue import LocalQueue, WorkerTimers
from hubsync.adapters.store import Store
from hubsync.adapters.store.models import QueuedHintRow
from hubsync.domain.hint import HintSource, Priority
from hubsync.domain.tenant import Tenant
from tests.fixtures.securityhub import FakeClock
from tests.integration.queue.queue_values import hint, ticket_hint
from tests.integration.store.builders import make_tenant
from tests.integration.store.conftest import EngineFactory


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> LocalQueue:
    return LocalQueue(store.engine, clock=clock, lease=timedelta(seconds=60), max_attempts=3)


def test_a_hint_put_is_received_once_and_gone_when_acknowledged(queue: LocalQueue, tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1, "event-1")])

    [delivery] = queue.receive(10, wait_seconds=0)

    assert delivery.hint == hint(tenant.id, 1, "event-1")
    assert delivery.attempts == 1
    assert queue.receive(10, wait_seconds=0) == []  # leased
    queue.ack([delivery])
    assert queue.depth() == 0


def test_nothing_is_lost_across_a_restart(engine_factory: EngineFactory, store: Store, tenant: Tenant) -> None:
    LocalQueue(store.engine).put([hint(tenant.id, 1), ticket_hint(tenant.id, "SEC-7")])
    store.dispose()

    restarted = LocalQueue(engine_factory())

    received = restarted.receive(10, wait_seconds=0)
    assert sorted(str(d.hint.finding or d.hint.ticket_key) for d in received) == sorted(
        [str(hint(tenant.id, 1).finding), "SEC-7"]
    )


def test_a_redelivered_event_is_a_no_op_within_the_window(queue: LocalQueue, store: Store, tenant: Tenant,
                                                         clock: FakeClock) -> None:
    other = make_tenant(store, "other")
    queue.put([hint(tenant.id, 1, "event-1")])
    queue.put([hint(tenant.id, 1, "event-1"), hint(tenant.id, 1, "event-1")])
    queue.put([hint(other.id, 1, "event-1")])  # the same event for another tenant is that tenant's work
    assert queue.depth() == 2

    clock.advance(25 * 3600)  # past the window: the id is forgotten
    queue.put([hint(tenant.id, 1, "event-1")])

    assert queue.depth() == 3


def test_most_urgent_first(queue: LocalQueue, tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1, priority=Priority.LOW), hint(tenant.id, 2, priority=Priority.CRITICAL),
               hint(tenant.id, 3)])
    queue.put([hint(tenant.id, 4, source=HintSource.SECURITYHUB_CUSTOM_ACTION, priority=Priority.BY_HAND)])

    order = [d.hint.finding for d in queue.receive(10, wait_seconds=0)]

    assert order == [hint(tenant.id, n).finding for n in (4, 2, 3, 1)]


def test_one_group_is_never_in_flight_twice(queue: LocalQueue, tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1, "a"), hint(tenant.id, 1, "b"), hint(tenant.id, 2, "c")])
    first = queue.receive(10, wait_seconds=0)
    assert Counter(d.hint.event_id for d in first) == Counter({"a": 1, "b": 1, "c": 1})  # a group comes whole

    queue.put([hint(tenant.id, 1, "d"), hint(tenant.id, 3, "e")])
    second = queue.receive(10, wait_seconds=0)
    assert [d.hint.event_id for d in second] == ["e"]  # finding 1 is still in flight

    queue.ack([d for d in first if d.hint.finding == hint(tenant.id, 1).finding])
    assert [d.hint.event_id for d in queue.receive(10, wait_seconds=0)] == ["d"]


def test_a_crashed_workers_hints_come_back_when_the_lease_expires(queue: LocalQueue, tenant: Tenant,
                                                                 clock: FakeClock) -> None:
    queue.put([hint(tenant.id, 1)])
    [crashed] = queue.receive(10, wait_seconds=0)

    clock.advance(59)
    assert queue.receive(10, wait_seconds=0) == []
    clock.advance(2)
    [again] = queue.receive(10, wait_seconds=0)

    assert again.attempts == 2
    queue.ack([crashed])  # the crashed worker's late ack settles nothing: the hint is the new worker's
    assert queue.depth() == 1
    queue.ack([again])
    assert queue.depth() == 0


def test_extending_keeps_the_lease(queue: LocalQueue, tenant: Tenant, clock: FakeClock) -> None:
    queue.put([hint(tenant.id, 1)])
    [delivery] = queue.receive(10, wait_seconds=0)
    clock.advance(50)

    queue.extend([delivery], 60)
    clock.advance(50)

    assert queue.receive(10, wait_seconds=0) == []


def test_retry_later_delivers_again_after_the_delay(queue: LocalQueue, tenant: Tenant, clock: FakeClock) -> None:
    queue.put([hint(tenant.id, 1)])
    [delivery] = queue.receive(10, wait_seconds=0)

    queue.retry_later([delivery], 30, "Jira answered 503")

    assert queue.receive(10, wait_seconds=0) == []
    clock.advance(30)
    [again] = queue.receive(10, wait_seconds=0)
    assert again.attempts == 2


def test_a_dead_lettered_hint_is_parked_with_its_error(queue: LocalQueue, tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1), hint(tenant.id, 2)])
    first, second = queue.receive(10, wait_seconds=0)

    queue.dead_letter([first], "gave up after 3 attempts: Jira refused the ticket")
    queue.ack([second])

    assert queue.receive(10, wait_seconds=0) == []
    assert queue.depth() == 0
    assert queue.dead() == [(first.hint, "gave up after 3 attempts: Jira refused the ticket")]


def test_a_waiting_receiver_wakes_when_a_hint_is_put(store: Store, tenant: Tenant) -> None:
    queue = LocalQueue(store.engine, poll_seconds=30)
    timer = threading.Timer(0.2, lambda: queue.put([hint(tenant.id, 1)]))
    started = time.monotonic()
    timer.start()

    received = queue.receive(10, wait_seconds=10)

    assert len(received) == 1 and time.monotonic() - started < 5


def test_deleting_a_tenant_removes_its_hints(queue: LocalQueue, store: Store, tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1, "event-1")])
    with store.transaction() as uow:
        uow.tenants.delete(tenant.id)
    assert queue.depth() == 0


def test_workers_in_parallel_take_disjoint_work_and_never_one_group_twice(
    engine_factory: EngineFactory, store: Store, tenant: Tenant
) -> None:
    """Four receivers, each on its own engine (as four processes would be), drain 120 groups of 3 hints."""
    LocalQueue(store.engine).put([hint(tenant.id, n % 120, f"e{n}") for n in range(360)])
    in_flight: set[str] = set()
    seen: Counter[str] = Counter()
    overlaps: list[str] = []
    guard = threading.Lock()

    def work(engine: Engine) -> None:
        queue = LocalQueue(engine)
        while True:
            deliveries = queue.receive(7, wait_seconds=0)
            if not deliveries:
                if queue.depth() == 0:
                    return
                continue
            groups = {d.hint.group_key for d in deliveries}
            with guard:
                overlaps.extend(groups & in_flight)
                in_flight.update(groups)
                seen.update(d.hint.event_id for d in deliveries)
            time.sleep(0.002)  # a sync takes a moment: the others must not take these groups meanwhile
            with guard:
                in_flight.difference_update(groups)
            queue.ack(deliveries)

    threads = [threading.Thread(target=work, args=(engine_factory(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert overlaps == []
    assert len(seen) == 360 and set(seen.values()) == {1}


def test_a_timer_falls_to_one_caller_per_period(store: Store, clock: FakeClock) -> None:
    one, two = WorkerTimers(store.engine, clock), WorkerTimers(store.engine, clock)
    lease, every = timedelta(minutes=2), timedelta(minutes=15)

    assert one.claim("reconcile:t1", lease)
    assert not two.claim("reconcile:t1", lease)
    assert two.claim("reconcile:t2", lease)  # timers are independent
    one.finish("reconcile:t1", every)  # the next turn is an interval after the run ended
    clock.advance(15 * 60 - 1)
    assert not two.claim("reconcile:t1", lease)
    clock.advance(1)
    assert two.claim("reconcile:t1", lease)
    assert not one.claim("reconcile:t1", lease)


def test_an_undecodable_row_goes_dead_and_its_batch_mates_are_delivered(queue: LocalQueue, store: Store,
                                                                       tenant: Tenant, clock: FakeClock) -> None:
    queue.put([hint(tenant.id, 1)])
    with store.engine.begin() as connection:  # a row an older or newer hubsync wrote, or a damaged one
        connection.execute(sa.insert(QueuedHintRow.__table__).values(
            tenant_id=tenant.id, group_key=f"{tenant.id}:junk", event_id=None, body={"format": "something/9"},
            priority=0, state="READY", enqueued_at=clock(), available_at=clock(), attempts=0))
    queue.put([hint(tenant.id, 2)])

    received = queue.receive(10, wait_seconds=0)

    assert [d.hint for d in received] == [hint(tenant.id, 1), hint(tenant.id, 2)]
    assert queue.depth() == 2
    [(parked, error)] = queue.dead()
    assert parked is None and "not a hubsync hint" in error


def test_a_receive_takes_at_most_max_hints_and_holds_back_the_rest_of_a_group(queue: LocalQueue,
                                                                              tenant: Tenant) -> None:
    queue.put([hint(tenant.id, 1, f"e{n}") for n in range(5)] + [hint(tenant.id, 2, "other")])

    first = queue.receive(2, wait_seconds=0)
    assert [d.hint.event_id for d in first] == ["e0", "e1"]
    assert [d.hint.event_id for d in queue.receive(10, wait_seconds=0)] == ["other"]  # finding 1 is in flight
    assert queue.receive(10, wait_seconds=0) == []

    queue.ack(first)
    assert [d.hint.event_id for d in queue.receive(10, wait_seconds=0)] == ["e2", "e3", "e4"]


def test_a_retry_that_does_not_count_gives_the_attempt_back(queue: LocalQueue, tenant: Tenant,
                                                             clock: FakeClock) -> None:
    queue.put([hint(tenant.id, 1)])
    [delivery] = queue.receive(10, wait_seconds=0)

    queue.retry_later([delivery], 30, "Jira unreachable", counted=False)

    clock.advance(30)
    [again] = queue.receive(10, wait_seconds=0)
    assert again.attempts == 1


def test_a_timer_claimed_by_a_worker_that_crashed_falls_to_the_next_asker_when_its_lease_runs_out(
    store: Store, clock: FakeClock
) -> None:
    one, two = WorkerTimers(store.engine, clock), WorkerTimers(store.engine, clock)
    lease, every = timedelta(minutes=2), timedelta(minutes=15)

    assert one.claim("reconcile:t1", lease)  # and then the process dies: no finish
    assert not two.claim("reconcile:t1", lease)
    clock.advance(121)
    assert two.claim("reconcile:t1", lease)
    two.finish("reconcile:t1", every)
    clock.advance(14 * 60)
    assert not one.claim("reconcile:t1", lease)


def test_a_running_job_renews_its_claim(store: Store, clock: FakeClock) -> None:
    one, two = WorkerTimers(store.engine, clock), WorkerTimers(store.engine, clock)
    lease = timedelta(minutes=2)
    assert one.claim("reconcile:t1", lease)
    clock.advance(100)
    one.renew("reconcile:t1", lease)
    clock.advance(100)
    assert not two.claim("reconcile:t1", lease)
