"""End to end on the sandbox: Security Hub's events reach hubsync (through the HTTP intake as an EventBridge API
destination, or through an EventBridge → SQS queue), the worker syncs them, and tickets appear, exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from hubsync.adapters.queue import LocalQueue, SqsEventSource
from hubsync.bootstrap import bootstrap, build_worker
from hubsync.config import Settings
from hubsync.domain.finding import Finding, FindingIdentifier, WorkflowStatus, marker_label
from hubsync.service.worker import Worker, WorkerSettings
from hubsync.web import create_app
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox import aws
from hubsync_sandbox.demo import Demo
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.runner import AGGREGATION_REGION

SECRET_KEY = "end-to-end-secret-key-0123456789-abcdefghij"


@dataclass
class Running:
    demo: Demo
    queue: LocalQueue
    worker: Worker
    server: BackgroundServer


@pytest.fixture
def running(demo: Demo) -> Iterator[Running]:
    """hubsync's web app serving the intake on a loopback port, its local queue and a worker, on the demo's store."""
    queue = LocalQueue(demo.store.engine)
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": "http://127.0.0.1", "HUBSYNC_SECRET_KEY": SECRET_KEY})
    runtime = bootstrap(settings, store=demo.store, queue=queue)
    server = BackgroundServer(create_app(runtime), name="hubsync-web").start()
    worker = build_worker(runtime, WorkerSettings(batch_size=100, reconcile_interval=None))
    try:
        yield Running(demo, queue, worker, server)
    finally:
        server.stop()


def drain(running: Running, move: Callable[[], object] | None = None, timeout: float = 30) -> None:
    """Let every event be delivered, then work the queue until it is empty (our own writes echo back as events)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running.demo.sandbox.securityhub.events.flush(timeout=10)
        if move is not None:
            move()
        if running.queue.depth() == 0:
            return
        running.worker.run_once(wait_seconds=0.2)
    raise AssertionError(f"{running.queue.depth()} hints still queued after {timeout}s")


def new_critical_finding(demo: Demo, number: int) -> Finding:
    """Import a new CRITICAL finding (the demo's rules escalate it); Security Hub emits its Imported event."""
    account = demo.sandbox.aws_world.workload_accounts[0].id
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    data = {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:finding/end-to-end-{number}",
        "ProductArn": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:product/{account}/default",
        "GeneratorId": "end-to-end", "AwsAccountId": account, "Types": ["Unusual Behaviors"],
        "CreatedAt": now, "UpdatedAt": now, "Severity": {"Label": "CRITICAL"}, "Title": f"End to end {number}",
        "Description": "Imported by the end-to-end test.",
        "Resources": [{"Type": "Other", "Id": f"resource-{number}", "Region": AGGREGATION_REGION}],
    }
    result = demo.sandbox.securityhub_client().batch_import_findings(Findings=[data])
    assert result["FailedCount"] == 0, result
    identifier = FindingIdentifier(data["Id"], data["ProductArn"])
    return demo.ctx.securityhub.get([identifier])[identifier.key]


def tickets_marked(demo: Demo, finding: Finding) -> list[str]:
    """Every Jira issue carrying the finding's marker label: more than one would be a duplicate ticket."""
    return demo.world.search_keys(f"labels = {marker_label(finding.key)}")


def linked_ticket(demo: Demo, finding: Finding) -> str | None:
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)
    return link.ticket_key if link else None


def test_events_through_the_http_intake_become_tickets_exactly_once(running: Running) -> None:
    demo = running.demo
    with demo.store.transaction() as uow:
        key = uow.tenants.regenerate_events_api_key(demo.ctx.tenant_id)
    demo.sandbox.securityhub.events.add_http_target(
        f"{running.server.url}/events/securityhub/{demo.ctx.tenant_id}", header_name=API_KEY_HEADER, header_value=key
    )

    findings = [new_critical_finding(demo, n) for n in range(3)]
    drain(running)

    tickets = [linked_ticket(demo, finding) for finding in findings]
    assert all(tickets) and len(set(tickets)) == 3
    assert [tickets_marked(demo, finding) for finding in findings] == [[ticket] for ticket in tickets]
    for finding in findings:
        now = demo.ctx.securityhub.get([finding.identifier])[finding.key]
        assert now.workflow_status is WorkflowStatus.NOTIFIED
    assert not demo.sandbox.securityhub.events.dead_letter()  # every delivery was answered 2xx

    # The custom action, twice on one finding: one ticket, and the second click says which in the finding's note.
    client = demo.sandbox.securityhub_client()
    arn = client.create_action_target(Name="Send to Jira", Id="hubsyncSendToJira",
                                      Description="Create or show the Jira ticket")["ActionTargetArn"]
    unmatched = demo._unmatched_live_finding(demo.sandbox.aws_world.workload_accounts[1].id)
    demo.sandbox.securityhub.trigger_custom_action(arn, [{"Id": unmatched.id, "ProductArn": unmatched.product_arn}])
    drain(running)
    ticket = linked_ticket(demo, unmatched)
    assert ticket is not None
    client.batch_update_findings(FindingIdentifiers=[{"Id": unmatched.id, "ProductArn": unmatched.product_arn}],
                                 Note={"Text": "looking into it", "UpdatedBy": "alice"})
    demo.sandbox.securityhub.trigger_custom_action(arn, [{"Id": unmatched.id, "ProductArn": unmatched.product_arn}])
    drain(running)

    assert linked_ticket(demo, unmatched) == ticket
    assert tickets_marked(demo, unmatched) == [ticket]
    after = demo.ctx.securityhub.get([unmatched.identifier])[unmatched.key]
    assert after.note_text == f"Escalated by hand again: already tracked in {ticket}"


def test_events_through_an_sqs_queue_become_tickets(running: Running) -> None:
    demo = running.demo
    sqs = aws.client("sqs", demo.sandbox.moto.url)
    events_url = demo.sandbox.aws_world.queues["securityhub-events"]
    demo.sandbox.securityhub.events.flush(timeout=30)
    sqs.purge_queue(QueueUrl=events_url)  # the seeding's events: onboarding is the reconcile's job
    running.worker.events = SqsEventSource(events_url, sqs)

    finding = new_critical_finding(demo, 10)
    drain(running, move=lambda: running.worker.move_events_once(wait_seconds=0))

    ticket = linked_ticket(demo, finding)
    assert ticket is not None and tickets_marked(demo, finding) == [ticket]
