"""Raw EventBridge events from an SQS target's queue → hints on the hint queue, for the tenants watching the
account that sent them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, SqsEventSource
from hubsync.adapters.store import Store
from hubsync.bootstrap import TenantClients
from hubsync.domain.tenant import AuthMode, JiraFlavour
from hubsync.service.worker import Worker
from hubsync_sandbox.securityhub.events import imported_event
from tests.fixtures.securityhub import make_finding

ADMIN = "222233334444"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def watching(store: Store, name: str, account: str):
    with store.transaction() as uow:
        return uow.tenants.create(name=name, jira_base_url="https://x.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                                  auth_mode=AuthMode.CONNECT, aws_role_arn=f"arn:aws:iam::{account}:role/hubsync")


def test_events_move_to_the_tenants_watching_their_account_and_leave_the_events_queue(store: Store, sqs: Any):
    url = sqs.create_queue(QueueName=f"events-{secrets.token_hex(4)}")["QueueUrl"]
    mine, also_mine, other = watching(store, "a", ADMIN), watching(store, "b", ADMIN), watching(store, "c", "9" * 12)
    event = imported_event(make_finding(Severity={"Label": "HIGH"}), ADMIN, "us-east-1", NOW)
    stranger = imported_event(make_finding(), "111111111111", "us-east-1", NOW)
    for body in (json.dumps(event), json.dumps(stranger), "not an event", json.dumps({"detail-type": "x"})):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    queue = LocalQueue(store.engine)
    worker = Worker(store, queue, contexts=TenantClients(store), is_transient=is_transient,
                    events=SqsEventSource(url, sqs))

    assert worker.move_events_once(wait_seconds=1) == 2

    hints = [d.hint for d in queue.receive(10, wait_seconds=0)]
    assert sorted(h.tenant_id for h in hints) == sorted([mine.id, also_mine.id])
    assert {h.event_id for h in hints} == {event["id"]} and other.id not in {h.tenant_id for h in hints}
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # all handled


def test_a_redelivered_queue_message_queues_nothing_new(store: Store, sqs: Any):
    url = sqs.create_queue(QueueName=f"events-{secrets.token_hex(4)}")["QueueUrl"]
    watching(store, "a", ADMIN)
    event = json.dumps(imported_event(make_finding(), ADMIN, "us-east-1", NOW))
    queue = LocalQueue(store.engine)
    worker = Worker(store, queue, contexts=TenantClients(store), is_transient=is_transient,
                    events=SqsEventSource(url, sqs))

    for _ in range(2):  # a standard queue delivers at least once
        sqs.send_message(QueueUrl=url, MessageBody=event)
        worker.move_events_once(wait_seconds=1)

    assert queue.depth() == 1
