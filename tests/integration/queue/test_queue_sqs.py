"""The SQS FIFO queue against moto's SQS: groups, deduplication, visibility as the lease, the redrive policy."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from hubsync.adapters.queue import QueueMisconfigured, SqsEventSource, SqsQueue
from hubsync.bootstrap import open_queue
from hubsync.config import Settings
from hubsync_sandbox.aws import MotoServer
from tests.integration.queue.queue_values import hint, ticket_hint

TENANT = "tenant-1"


def fifo_queue(sqs: Any, max_receives: int = 2) -> tuple[str, str]:
    """A fresh FIFO work queue with its dead-letter queue; returns both URLs."""
    name = f"work-{secrets.token_hex(4)}"
    fifo = {"FifoQueue": "true"}
    dlq = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=fifo)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={**fifo, "RedrivePolicy": redrive})["QueueUrl"]
    return url, dlq


@pytest.fixture
def queues(sqs: Any) -> tuple[SqsQueue, str]:
    url, dlq = fifo_queue(sqs)
    return SqsQueue(url, sqs, visibility_seconds=30), dlq


def messages_in(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])


def test_a_hint_goes_through_with_its_group_and_is_gone_when_acknowledged(queues, sqs) -> None:
    queue, _ = queues
    queue.put([hint(TENANT, 1, "event-1")])

    [delivery] = queue.receive(10, wait_seconds=1)

    assert delivery.hint == hint(TENANT, 1, "event-1") and delivery.attempts == 1
    assert delivery.enqueued_at is not None
    queue.ack([delivery])
    assert queue.receive(10, wait_seconds=0) == []


def test_a_redelivered_event_is_deduplicated(queues) -> None:
    queue, _ = queues
    queue.put([hint(TENANT, 1, "event-1")])
    queue.put([hint(TENANT, 1, "event-1")])
    queue.put([hint("tenant-2", 1, "event-1")])  # another tenant's copy of the event is its own work

    received = queue.receive(10, wait_seconds=1)

    assert sorted(d.hint.tenant_id for d in received) == [TENANT, "tenant-2"]


def test_a_finding_in_flight_holds_back_its_later_hints_but_not_others(queues) -> None:
    queue, _ = queues
    queue.put([hint(TENANT, 1, "a"), hint(TENANT, 1, "b"), ticket_hint(TENANT, "SEC-1", "c")])

    [first] = queue.receive(1, wait_seconds=1)
    [other] = queue.receive(10, wait_seconds=0)

    assert (first.hint.event_id, other.hint.event_id) == ("a", "c")
    queue.ack([first])
    assert [d.hint.event_id for d in queue.receive(10, wait_seconds=0)] == ["b"]


def test_more_than_ten_hints_come_in_one_receive(queues) -> None:
    queue, _ = queues
    queue.put([hint(TENANT, n, f"e{n}") for n in range(25)])

    received = queue.receive(25, wait_seconds=1)

    assert len({d.hint.event_id for d in received}) == 25


def test_retry_later_delivers_again_with_the_receive_count(queues) -> None:
    queue, _ = queues
    queue.put([hint(TENANT, 1)])
    [delivery] = queue.receive(10, wait_seconds=1)

    queue.retry_later([delivery], 0, "Jira answered 503")

    [again] = queue.receive(10, wait_seconds=1)
    assert again.attempts == 2


def test_extending_keeps_a_message_invisible(sqs) -> None:
    url, _ = fifo_queue(sqs)
    queue = SqsQueue(url, sqs, visibility_seconds=1)
    queue.put([hint(TENANT, 1)])
    [delivery] = queue.receive(10, wait_seconds=1)

    queue.extend([delivery], 60)

    assert queue.receive(10, wait_seconds=2) == []


def test_a_dead_lettered_hint_moves_to_the_dead_letter_queue(queues, sqs) -> None:
    queue, dlq = queues
    assert queue.max_attempts == 2  # the redrive policy's maxReceiveCount
    queue.put([hint(TENANT, 1, "doomed")])
    [first] = queue.receive(10, wait_seconds=1)
    queue.retry_later([first], 0, "failed")
    [second] = queue.receive(10, wait_seconds=1)
    assert second.attempts == queue.max_attempts

    queue.dead_letter([second], "gave up")

    assert queue.receive(10, wait_seconds=0) == []
    [parked] = messages_in(sqs, dlq)
    assert json.loads(parked["Body"])["event_id"] == "doomed"


def test_a_message_that_is_not_a_hint_is_left_for_the_dead_letter_queue(queues, sqs) -> None:
    queue, _ = queues
    sqs.send_message(QueueUrl=queue.queue_url, MessageBody="{not json", MessageGroupId="g",
                     MessageDeduplicationId="junk")
    queue.put([hint(TENANT, 1)])

    received = queue.receive(10, wait_seconds=1)

    assert [d.hint for d in received] == [hint(TENANT, 1)]


def test_a_standard_queue_or_one_without_redrive_policy_is_refused(sqs) -> None:
    standard = sqs.create_queue(QueueName=f"plain-{secrets.token_hex(4)}")["QueueUrl"]
    with pytest.raises(QueueMisconfigured, match="FIFO"):
        SqsQueue(standard, sqs)
    bare = sqs.create_queue(QueueName=f"bare-{secrets.token_hex(4)}.fifo", Attributes={"FifoQueue": "true"})
    with pytest.raises(QueueMisconfigured, match="redrive"):
        _ = SqsQueue(bare["QueueUrl"], sqs).max_attempts


def test_the_environment_picks_sqs_for_a_queue_url(sqs, moto: MotoServer, monkeypatch) -> None:
    url, _ = fifo_queue(sqs)
    for name, value in {"AWS_ENDPOINT_URL_SQS": moto.url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)

    settings = Settings.from_environment({"HUBSYNC_QUEUE_URL": url, "AWS_REGION": "us-east-1"})
    queue = open_queue(settings, store=None)  # type: ignore[arg-type]

    assert isinstance(queue, SqsQueue)
    queue.put([hint(TENANT, 1)])
    assert len(queue.receive(10, wait_seconds=1)) == 1


def test_raw_events_are_read_from_the_events_queue_and_deleted(sqs) -> None:
    url = sqs.create_queue(QueueName=f"events-{secrets.token_hex(4)}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "e-1"}))
    source = SqsEventSource(url, sqs)

    [message] = source.receive(10, wait_seconds=1)
    source.delete([message])

    assert json.loads(message.body) == {"id": "e-1"}
    assert source.receive(10, wait_seconds=0) == []


def test_identical_hints_without_an_event_id_are_all_delivered(queues) -> None:
    """Two post functions on one ticket within SQS's 5-minute deduplication window are two hints, not one."""
    queue, _ = queues
    queue.put([ticket_hint(TENANT, "SEC-1")])
    queue.put([ticket_hint(TENANT, "SEC-1")])

    received = queue.receive(10, wait_seconds=1)

    assert [d.hint for d in received] == [ticket_hint(TENANT, "SEC-1")] * 2


def test_on_sqs_an_outage_parks_a_hint_only_when_its_receive_count_runs_out(queues, sqs, store, tenant) -> None:
    """SQS counts every receive: the worker retries an unreachable tenant's hints until the redrive policy's count
    is reached, then audits them as dead-lettered (SQS moves them on the next receive)."""
    from hubsync.adapters.faults import is_transient
    from hubsync.domain.tenant import Tenant
    from hubsync.service.sync import SyncContext
    from hubsync.service.worker import Worker, WorkerSettings

    queue, dlq = queues  # maxReceiveCount 2

    def unreachable(ctx, hints):
        raise ConnectionError("Jira unreachable")

    class Contexts:
        def sync_context(self, tenant: Tenant) -> SyncContext:
            return SyncContext(tenant.id, None, None, None, None, store, None, None)  # type: ignore[arg-type]

        def forget(self, tenant_id: str) -> None:
            pass

    run = Worker(store, queue, settings=WorkerSettings(retry_base_seconds=0, retry_max_seconds=0),
                 contexts=Contexts(), is_transient=is_transient, sync=unreachable)
    queue.put([hint(tenant.id, 1, "e-1")])

    first = run.handle(queue.receive(10, wait_seconds=1))
    second = run.handle(queue.receive(10, wait_seconds=1))

    assert (first.retried, first.dead) == (1, 0)
    assert (second.retried, second.dead) == (0, 1)
    assert queue.receive(10, wait_seconds=0) == []
    [parked] = messages_in(sqs, dlq)
    assert json.loads(parked["Body"])["event_id"] == "e-1"
    with store.read() as uow:
        [entry] = uow.audit.for_finding(tenant.id, hint(tenant.id, 1).finding.key)
    assert entry.action == "DeadLetter" and "Jira unreachable" in entry.reason
