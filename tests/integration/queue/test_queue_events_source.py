"""Raw EventBridge events from an SQS target's queue → hints on the hint queue, for the tenants watching the
account that sent them and reading the Security Hub that sent them (CSPM or the new one)."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY

from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, SqsEventSource
from hubsync.adapters.store import Store
from hubsync.bootstrap import TenantClients
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration
from hubsync.service.worker import Worker
from hubsync_sandbox.securityhub.events import imported_event, imported_v2_event
from tests.fixtures.securityhub import make_finding

ADMIN = "222233334444"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def watching(store: Store, name: str, account: str,
             generation: SecurityHubGeneration = SecurityHubGeneration.CSPM):
    with store.transaction() as uow:
        return uow.tenants.create(name=name, jira_base_url="https://x.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                                  auth_mode=AuthMode.CONNECT, aws_role_arn=f"arn:aws:iam::{account}:role/hubsync",
                                  securityhub_generation=generation)


def ocsf_finding(number: int) -> dict[str, Any]:
    return {"class_uid": 2004, "severity_id": 4, "metadata": {
        "uid": f"{number:064x}", "product": {"uid": "arn:aws:securityhub:us-east-1::productv2/aws/guardduty"}}}


def received(detail_type: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("hubsync_events_received_total", {"type": detail_type, "outcome": outcome}) or 0.0


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


def test_each_event_goes_to_the_tenants_reading_its_security_hub(store: Store, sqs: Any, caplog: Any):
    """One account runs both Security Hubs: its CSPM events go to the CSPM tenant, its V2 events to the V2 one; an
    event no tenant of its generation watches is counted and logged, and leaves the queue."""
    url = sqs.create_queue(QueueName=f"events-{secrets.token_hex(4)}")["QueueUrl"]
    cspm = watching(store, "cspm", ADMIN)
    v2 = watching(store, "v2", ADMIN, SecurityHubGeneration.V2)
    watching(store, "v2-only", "999988887777", SecurityHubGeneration.V2)
    old, new = imported_event(make_finding(), ADMIN, "us-east-1", NOW), imported_v2_event(ocsf_finding(1), ADMIN,
                                                                                         "us-east-1", NOW)
    unread = [imported_event(make_finding(), "999988887777", "us-east-1", NOW) for _ in range(2)]
    for body in (old, new, *unread):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    queue = LocalQueue(store.engine)
    worker = Worker(store, queue, contexts=TenantClients(store), is_transient=is_transient,
                    events=SqsEventSource(url, sqs))
    before = received("imported", "other_generation"), received("imported_v2", "queued")

    with caplog.at_level(logging.INFO, logger="hubsync.service.events_mover"):
        assert worker.move_events_once(wait_seconds=1) == 2

    hints = {d.hint.tenant_id: d.hint for d in queue.receive(10, wait_seconds=0)}
    assert hints.keys() == {cspm.id, v2.id}
    assert hints[cspm.id].event_id == old["id"] and hints[v2.id].event_id == new["id"]
    assert hints[v2.id].finding == FindingIdentifier(f"{1:064x}", ocsf_finding(1)["metadata"]["product"]["uid"])
    assert (received("imported", "other_generation"), received("imported_v2", "queued")) == (
        before[0] + 2, before[1] + 1)
    said = [r.getMessage() for r in caplog.records if "generation" in r.getMessage()]
    assert said == ["2 events of a Security Hub generation no tenant watching their account reads: not queued"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # all handled
