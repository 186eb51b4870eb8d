"""EventBridge events: one per imported or updated finding, custom actions, and delivery to an API destination
(HTTP with an API-key header, retried, dead-lettered) and to SQS queues in moto."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask, Response, request
from moto.server import ThreadedMotoServer

from hubsync_sandbox.httpserver import BackgroundServer, free_port
from hubsync_sandbox.securityhub.delivery import finding_key
from tests.fixtures.securityhub import (
    ADMIN,
    AGGREGATION_REGION,
    LINKED_REGION,
    MEMBER,
    SecurityHubSandbox,
    identifier,
    make_finding,
)

MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class Receiver:
    """An HTTP endpoint standing in for hubsync's EventBridge webhook; it can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.failures: list[int] = []  # statuses to answer, one per request, before accepting
        self._lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/events")
        def receive() -> Response:
            with self._lock:
                if self.failures:
                    return Response("nope", status=self.failures.pop(0))
                self.received.append((dict(request.headers), request.get_json()))
            return Response("", status=204)

        self.server = BackgroundServer(app, name="receiver").start()
        self.url = f"{self.server.url}/events"

    def reset(self) -> None:
        self.received.clear()
        self.failures.clear()


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def sqs(moto_url: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1", **MOTO_CREDENTIALS)


def new_queue(client: Any, fifo: bool = False) -> str:
    """A queue of its own: moto's state is shared by every moto server in the process."""
    name = f"securityhub-events-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    return client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def fast_retries(sandbox: SecurityHubSandbox, attempts: int = 3) -> None:
    sandbox.sim.events.max_attempts = attempts
    sandbox.sim.events.backoff_s = 0.01


# -- what is emitted --------------------------------------------------------------------------------
def test_every_import_and_update_emits_one_imported_event_per_finding(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client(region=LINKED_REGION)
    findings = [make_finding(), make_finding()]
    client.batch_import_findings(Findings=findings)
    client.batch_update_findings(FindingIdentifiers=[identifier(findings[0])], Workflow={"Status": "NOTIFIED"})
    events = securityhub.sim.events.emitted()
    assert [(e["detail-type"], e["detail"]["findings"][0]["Id"]) for e in events] == [
        ("Security Hub Findings - Imported", findings[0]["Id"]),
        ("Security Hub Findings - Imported", findings[1]["Id"]),
        ("Security Hub Findings - Imported", findings[0]["Id"]),
    ]
    last = events[-1]
    assert {key: last[key] for key in ("version", "source", "account", "region", "resources")} == {
        "version": "0", "source": "aws.securityhub", "account": ADMIN, "region": AGGREGATION_REGION,
        "resources": [findings[0]["Id"]],
    }
    assert last["time"].endswith("Z")
    assert len({event["id"] for event in events}) == 3
    [shown] = client.get_findings(Filters={"Id": [{"Value": findings[0]["Id"], "Comparison": "EQUALS"}]})["Findings"]
    assert last["detail"]["findings"] == [shown]
    assert events[0]["detail"]["findings"][0]["Workflow"] == {"Status": "NEW"}  # a snapshot, not a live view


def test_failed_imports_and_unprocessed_updates_emit_nothing(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    client.batch_import_findings(Findings=[make_finding(Severity={"Original": "x"})])
    client.batch_update_findings(FindingIdentifiers=[{"Id": "x", "ProductArn": "y"}], Workflow={"Status": "NEW"})
    assert securityhub.sim.events.emitted() == []


def test_a_custom_action_emits_one_event_per_selected_finding(securityhub: SecurityHubSandbox) -> None:
    member = securityhub.client(account_id=MEMBER)
    findings = [make_finding(), make_finding()]
    member.batch_import_findings(Findings=findings)
    arn = member.create_action_target(Name="Send to Jira", Description="Escalate it", Id="SendToJira")[
        "ActionTargetArn"
    ]
    securityhub.sim.events.clear()
    response = securityhub.control("POST", "/_sandbox/custom-action",
                                   json={"actionTargetArn": arn, "findings": [identifier(f) for f in findings]})
    assert response.status_code == 200
    events = securityhub.sim.events.emitted()
    assert response.json()["events"] == [event["id"] for event in events]
    assert [e["detail"]["findings"][0]["Id"] for e in events] == [f["Id"] for f in findings]
    event = events[0]
    assert event["detail-type"] == "Security Hub Findings - Custom Action"
    assert (event["account"], event["region"], event["resources"]) == (MEMBER, AGGREGATION_REGION, [arn])
    assert (event["detail"]["actionName"], event["detail"]["actionDescription"]) == ("Send to Jira", "Escalate it")


def test_custom_action_errors(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    finding = make_finding()
    client.batch_import_findings(Findings=[finding])
    arn = client.create_action_target(Name="Send", Description="d", Id="Send")["ActionTargetArn"]

    def trigger(body: dict[str, Any]) -> tuple[int, str]:
        response = securityhub.control("POST", "/_sandbox/custom-action", json=body)
        return response.status_code, response.json()["error"]

    assert trigger({"actionTargetArn": arn + "x", "findings": [identifier(finding)]})[0] == 404
    assert trigger({"actionTargetArn": arn, "findings": [{"Id": "nope", "ProductArn": "p"}]})[0] == 404
    assert trigger({"actionTargetArn": arn, "findings": [identifier(finding)] * 21})[0] == 400
    assert trigger({"actionTargetArn": arn, "findings": []}) == (400, "a custom action takes 1 to 20 findings")


# -- delivery to an API destination -------------------------------------------------------------------
def test_http_target_gets_every_event_in_order_with_the_api_key(
    securityhub: SecurityHubSandbox, receiver: Receiver
) -> None:
    securityhub.sim.events.add_http_target(receiver.url, header_name="x-hubsync-key", header_value="s3cret")
    findings = [make_finding() for _ in range(20)]
    securityhub.client().batch_import_findings(Findings=findings)
    securityhub.sim.events.flush(timeout=10)
    assert [body["detail"]["findings"][0]["Id"] for _, body in receiver.received] == [f["Id"] for f in findings]
    headers = receiver.received[0][0]
    assert headers["X-Hubsync-Key"] == "s3cret"
    assert headers["Content-Type"] == "application/json"


def test_only_events_after_a_target_was_added_reach_it(securityhub: SecurityHubSandbox, receiver: Receiver) -> None:
    client = securityhub.client()
    client.batch_import_findings(Findings=[make_finding(Title="before")])
    securityhub.sim.events.add_http_target(receiver.url)
    client.batch_import_findings(Findings=[make_finding(Title="after")])
    securityhub.sim.events.flush(timeout=10)
    assert [body["detail"]["findings"][0]["Title"] for _, body in receiver.received] == ["after"]


def test_throttled_and_failing_deliveries_are_retried(securityhub: SecurityHubSandbox, receiver: Receiver) -> None:
    fast_retries(securityhub, attempts=4)
    receiver.failures = [503, 429, 500]
    target = securityhub.sim.events.add_http_target(receiver.url)
    securityhub.client().batch_import_findings(Findings=[make_finding(), make_finding()])
    securityhub.sim.events.flush(timeout=10)
    assert len(receiver.received) == 2
    deliveries = [record["deliveries"][target] for record in securityhub.sim.events.events()]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 4), ("delivered", 1)]
    assert securityhub.sim.events.dead_letter() == []


def test_undeliverable_events_end_in_the_dead_letter_list(securityhub: SecurityHubSandbox, receiver: Receiver) -> None:
    fast_retries(securityhub, attempts=3)
    unreachable = securityhub.sim.events.add_http_target(f"http://127.0.0.1:{free_port()}/events")
    refused = securityhub.sim.events.add_http_target(receiver.url)
    receiver.failures = [400]
    finding = make_finding()
    securityhub.client().batch_import_findings(Findings=[finding])
    securityhub.sim.events.flush(timeout=10)
    letters = {letter["target"]: letter for letter in securityhub.sim.events.dead_letter()}
    assert letters[unreachable]["attempts"] == 3
    assert "ConnectionError" in letters[unreachable]["error"]
    assert (letters[refused]["attempts"], letters[refused]["error"]) == (1, "HTTP 400: nope")  # not retried
    assert letters[refused]["event"]["detail"]["findings"][0]["Id"] == finding["Id"]


def test_flush_gives_up_after_its_timeout(securityhub: SecurityHubSandbox, receiver: Receiver) -> None:
    securityhub.sim.events.backoff_s = 5
    receiver.failures = [503]
    securityhub.sim.events.add_http_target(receiver.url)
    securityhub.client().batch_import_findings(Findings=[make_finding()])
    with pytest.raises(TimeoutError, match="1 event deliveries still pending"):
        securityhub.sim.events.flush(timeout=0.2)


# -- delivery to SQS --------------------------------------------------------------------------------
def received_bodies(client: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        batch = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                       WaitTimeSeconds=1).get("Messages", [])
        assert batch, f"only {len(messages)} of {count} messages arrived"
        messages += batch
    return messages


def test_sqs_target_receives_the_event_json(securityhub: SecurityHubSandbox, moto_url: str) -> None:
    client = sqs(moto_url)
    queue_url = new_queue(client)
    securityhub.sim.events.add_sqs_target(queue_url, endpoint_url=moto_url, region="us-east-1",
                                          credentials=MOTO_CREDENTIALS)
    finding = make_finding()
    securityhub.client().batch_import_findings(Findings=[finding])
    securityhub.sim.events.flush(timeout=10)
    [message] = received_bodies(client, queue_url, 1)
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Security Hub Findings - Imported"
    assert event["detail"]["findings"][0]["Id"] == finding["Id"]


def test_fifo_queue_groups_by_finding_and_deduplicates_by_event(securityhub: SecurityHubSandbox, moto_url: str) -> None:
    client = sqs(moto_url)
    queue_url = new_queue(client, fifo=True)
    securityhub.sim.events.add_sqs_target(queue_url, endpoint_url=moto_url, credentials=MOTO_CREDENTIALS)
    finding = make_finding()
    client_hub = securityhub.client()
    client_hub.batch_import_findings(Findings=[finding])
    client_hub.batch_update_findings(FindingIdentifiers=[identifier(finding)], Workflow={"Status": "NOTIFIED"})
    securityhub.sim.events.flush(timeout=10)
    messages = received_bodies(client, queue_url, 1)
    for message in messages:  # one group: the first message hides the second until deleted
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    messages += received_bodies(client, queue_url, 2 - len(messages))
    events = [json.loads(message["Body"]) for message in messages]
    assert [e["detail"]["findings"][0]["Workflow"]["Status"] for e in events] == ["NEW", "NOTIFIED"]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {finding_key(finding)}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in messages] == [e["id"] for e in events]


# -- the control API --------------------------------------------------------------------------------
def test_event_targets_and_events_through_the_control_api(
    securityhub: SecurityHubSandbox, receiver: Receiver, moto_url: str
) -> None:
    queue_url = new_queue(sqs(moto_url))
    http = securityhub.control("POST", "/_sandbox/event-targets",
                               json={"type": "http", "url": receiver.url, "header_value": "k"})
    queue = securityhub.control("POST", "/_sandbox/event-targets",
                                json={"type": "sqs", "queue_url": queue_url, "endpoint_url": moto_url,
                                      "credentials": MOTO_CREDENTIALS})
    assert (http.status_code, queue.status_code) == (201, 201)
    listed = securityhub.control("GET", "/_sandbox/event-targets").json()["targets"]
    assert [(t["type"], t["id"]) for t in listed] == [("http", http.json()["id"]), ("sqs", queue.json()["id"])]
    assert "header_value" not in listed[0]
    assert securityhub.control("POST", "/_sandbox/event-targets", json={"type": "lambda"}).status_code == 400

    securityhub.client().batch_import_findings(Findings=[make_finding()])
    securityhub.sim.events.flush(timeout=10)
    shown = securityhub.control("GET", "/_sandbox/events").json()
    [record] = shown["events"]
    assert {target: d["status"] for target, d in record["deliveries"].items()} == {
        http.json()["id"]: "delivered", queue.json()["id"]: "delivered"
    }
    assert shown["dead_letter"] == []

    assert securityhub.control("DELETE", f"/_sandbox/event-targets/{http.json()['id']}").status_code == 204
    assert securityhub.control("DELETE", "/_sandbox/event-targets/nope").status_code == 404
    assert securityhub.control("DELETE", "/_sandbox/event-targets").status_code == 204
    assert securityhub.control("GET", "/_sandbox/event-targets").json()["targets"] == []
    assert securityhub.control("DELETE", "/_sandbox/events").status_code == 204
    assert securityhub.control("GET", "/_sandbox/events").json()["events"] == []
