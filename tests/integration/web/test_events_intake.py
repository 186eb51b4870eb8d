"""`POST /events/securityhub/<tenant>` through the real app factory, onto the real local queue."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from hubsync.adapters.queue import LocalQueue, QueueUnavailable
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.domain.hint import Priority
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.web import create_app
from hubsync.web.events import API_KEY_HEADER, MAX_BODY_BYTES
from hubsync_sandbox.securityhub.events import custom_action_event, imported_event, imported_v2_event
from tests.fixtures.postgres import fresh_schema
from tests.fixtures.securityhub import make_finding
from tests.integration.web.conftest import SECRET_KEY

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "222233334444"


@pytest.fixture
def app(store: Store, queue: LocalQueue) -> Flask:
    environ = {"HUBSYNC_BASE_URL": "https://hubsync.example.com", "HUBSYNC_SECRET_KEY": SECRET_KEY}
    return create_app(bootstrap(Settings.from_environment(environ), store=store, queue=queue))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def create_tenant(store: Store, generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(
            name="Acme", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret="shared", aws_role_arn=f"arn:aws:iam::{ADMIN}:role/hubsync",
            securityhub_generation=generation,
        )


@pytest.fixture
def tenant(app: Flask, store: Store) -> Tenant:
    return create_tenant(store)


@pytest.fixture
def v2_tenant(app: Flask, store: Store) -> Tenant:
    """A tenant on the new Security Hub (OCSF)."""
    return create_tenant(store, SecurityHubGeneration.V2)


def post(client: FlaskClient, tenant: Tenant, body: Any, key: str | None = None, **kwargs: Any):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {API_KEY_HEADER: tenant.events_api_key if key is None else key, "Content-Type": "application/json"}
    return client.post(f"/events/securityhub/{tenant.id}", data=data, headers=headers, **kwargs)


def imported(**finding: Any) -> dict[str, Any]:
    return imported_event(make_finding(**finding), ADMIN, "us-east-1", NOW)


def imported_v2(severity_id: int = 3, comment: str | None = None) -> dict[str, Any]:
    """A "Findings Imported V2" event of an OCSF finding (the sandbox's twin of a GuardDuty finding's shape)."""
    number = next(_uids)
    finding: dict[str, Any] = {
        "activity_id": 2, "class_uid": 2004, "class_name": "Detection Finding", "severity_id": severity_id,
        "status_id": 1, "status": "New",
        "metadata": {"version": "1.6.0", "uid": f"{number:064x}",
                     "product": {"name": "GuardDuty", "uid": "arn:aws:securityhub:us-east-1::productv2/aws/guardduty"}},
        "cloud": {"provider": "AWS", "region": "us-east-1", "account": {"uid": ADMIN}},
        "finding_info": {"uid": f"guardduty-finding-{number}", "title": "Unusual API calls"},
    }
    if comment is not None:
        finding["comment"] = comment
    return imported_v2_event(finding, ADMIN, "us-east-1", NOW)


_uids = itertools.count(1)


def received(detail_type: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("hubsync_events_received_total", {"type": detail_type, "outcome": outcome}) or 0.0


def test_an_imported_event_is_queued_and_answered_202(client, tenant, queue) -> None:
    event = imported(Severity={"Label": "CRITICAL"})

    response = post(client, tenant, event)

    assert response.status_code == 202, response.json
    assert response.json == {"accepted": 1, "hints": 1, "otherGeneration": 0}
    [delivery] = queue.receive(10, wait_seconds=0)
    assert delivery.hint.tenant_id == tenant.id and delivery.hint.event_id == event["id"]
    assert delivery.hint.finding.id == event["detail"]["findings"][0]["Id"]


def test_a_redelivered_event_is_accepted_and_queued_once(client, tenant, queue) -> None:
    event = imported()

    assert post(client, tenant, event).status_code == 202
    assert post(client, tenant, event).status_code == 202

    assert queue.depth() == 1


def test_an_event_with_the_longest_id_and_several_findings_is_queued_on_postgresql_once() -> None:
    """EventBridge ids may be 256 characters and a finding's place is appended: the queue's String(255) column
    would refuse them on PostgreSQL (SQLite does not check lengths)."""
    with fresh_schema("hubsync_events", "the event-id length check needs a real column limit") as url:
        store = Store(create_engine(url), SecretBox([SECRET_KEY]))
        try:
            upgrade(store.engine)
            queue = LocalQueue(store.engine)
            settings = Settings.from_environment(
                {"HUBSYNC_BASE_URL": "https://hubsync.example.com", "HUBSYNC_SECRET_KEY": SECRET_KEY}
            )
            client = create_app(bootstrap(settings, store=store, queue=queue)).test_client()
            with store.transaction() as uow:
                tenant = uow.tenants.create(name="Acme", jira_base_url="https://acme.atlassian.net",
                                            jira_flavour=JiraFlavour.CLOUD, auth_mode=AuthMode.CONNECT,
                                            jira_secret="shared")
            event = imported()
            event["id"] = "e" * 256
            event["detail"]["findings"].append(make_finding())

            assert post(client, tenant, event).status_code == 202
            assert post(client, tenant, event).status_code == 202  # a redelivery: dropped by the queue

            assert queue.depth() == 2
        finally:
            store.dispose()


def test_custom_actions_and_critical_findings_jump_the_backlog(client, tenant, queue) -> None:
    low, critical = imported(Severity={"Label": "LOW"}), imported(Severity={"Label": "CRITICAL"})
    clicked = custom_action_event(make_finding(Severity={"Label": "INFORMATIONAL"}), "arn:aws:securityhub:us-east-1:"
                                  f"{ADMIN}:action/custom/hubsync", "Send to Jira", "", ADMIN, "us-east-1", NOW)
    for event in (low, critical, clicked):
        assert post(client, tenant, event).status_code == 202

    order = [d.hint.event_id for d in queue.receive(10, wait_seconds=0)]

    assert order == [clicked["id"], critical["id"], low["id"]]
    assert Priority.BY_HAND < Priority.CRITICAL < Priority.LOW


def test_several_events_or_findings_in_one_body_are_taken(client, tenant, queue) -> None:
    several = imported()
    several["detail"]["findings"].append(make_finding())

    response = post(client, tenant, [imported(), several])

    assert response.status_code == 202 and response.json == {"accepted": 2, "hints": 3, "otherGeneration": 0}
    assert queue.depth() == 3


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_a_missing_or_wrong_key_is_401(client, tenant, queue, key) -> None:
    response = post(client, tenant, imported(), key=key)

    assert response.status_code == 401 and API_KEY_HEADER in response.json["error"]
    assert queue.depth() == 0


def test_an_unknown_tenant_is_401_too(client, tenant) -> None:
    response = client.post("/events/securityhub/nobody", json=imported(),
                           headers={API_KEY_HEADER: tenant.events_api_key})
    assert response.status_code == 401


def test_the_previous_key_works_during_the_grace_period(client, tenant, store, queue) -> None:
    with store.transaction() as uow:
        new_key = uow.tenants.regenerate_events_api_key(tenant.id)

    assert post(client, tenant, imported()).status_code == 202
    assert post(client, tenant, imported(), key=new_key).status_code == 202


def test_a_disabled_tenant_takes_no_events(client, tenant, store) -> None:
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(uow.tenants.get(tenant.id), enabled=False))

    assert post(client, tenant, imported()).status_code == 403


def test_a_malformed_body_is_400_with_the_list_of_problems(client, tenant, queue) -> None:
    event = imported()
    event.pop("id")
    event["detail"]["findings"][0].pop("ProductArn")

    response = post(client, tenant, event)

    assert response.status_code == 400
    assert response.json["details"] == ["id: Missing data for required field."]
    assert queue.depth() == 0


def test_a_body_that_is_not_json_is_400(client, tenant) -> None:
    response = post(client, tenant, b"{not json")
    assert response.status_code == 400 and response.json["details"][0].startswith("(body):")


def test_another_detail_type_is_422(client, tenant) -> None:
    event = imported()
    event["detail-type"] = "Security Hub Insight Results"

    response = post(client, tenant, event)

    assert response.status_code == 422 and "Insight Results" in response.json["error"]


def test_a_body_over_a_megabyte_is_413(client, tenant, queue) -> None:
    event = imported(Description="x" * MAX_BODY_BYTES)

    assert post(client, tenant, event).status_code == 413

    # Chunked, without a Content-Length: the limit holds on the bytes actually read.
    headers = {API_KEY_HEADER: tenant.events_api_key, "Content-Type": "application/json",
               "Transfer-Encoding": "chunked"}
    response = client.post(f"/events/securityhub/{tenant.id}", input_stream=io.BytesIO(json.dumps(event).encode()),
                           headers=headers, environ_base={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert queue.depth() == 0


def test_a_queue_that_is_down_is_503_so_eventbridge_retries(client, tenant, queue, monkeypatch) -> None:
    def down(*_args: Any) -> None:
        raise QueueUnavailable("database unreachable")

    monkeypatch.setattr(queue, "put", down)

    response = post(client, tenant, imported())

    assert response.status_code == 503 and response.headers["Retry-After"] == "5"


# -- the two Security Hubs: a tenant reads one ---------------------------------------------------------------


def test_a_v2_tenant_queues_the_new_security_hubs_events(client, v2_tenant, queue) -> None:
    event = imported_v2(severity_id=5)
    finding = event["detail"]["findings"][0]
    before = received("imported_v2", "queued")

    response = post(client, v2_tenant, event)

    assert response.status_code == 202, response.json
    assert response.json == {"accepted": 1, "hints": 1, "otherGeneration": 0}
    [delivery] = queue.receive(10, wait_seconds=0)
    assert delivery.hint.finding.id == finding["metadata"]["uid"]
    assert delivery.hint.finding.product_arn == finding["metadata"]["product"]["uid"]
    assert delivery.hint.priority is Priority.CRITICAL and delivery.hint.event_id == event["id"]
    assert received("imported_v2", "queued") == before + 1


def test_a_redelivered_v2_event_is_queued_once(client, v2_tenant, queue) -> None:
    event = imported_v2()

    assert post(client, v2_tenant, event).status_code == 202
    assert post(client, v2_tenant, event).status_code == 202

    assert queue.depth() == 1


def test_a_comment_asking_for_a_ticket_jumps_the_backlog(client, v2_tenant, queue) -> None:
    critical, asked = imported_v2(severity_id=5), imported_v2(severity_id=1, comment="  #JIRA payments, please")
    for event in (critical, asked):
        assert post(client, v2_tenant, event).status_code == 202

    order = [d.hint.event_id for d in queue.receive(10, wait_seconds=0)]

    assert order == [asked["id"], critical["id"]]


def test_a_v2_tenant_accepts_cspm_events_and_queues_none(client, v2_tenant, queue, caplog) -> None:
    clicked = custom_action_event(make_finding(), f"arn:aws:securityhub:us-east-1:{ADMIN}:action/custom/hubsync",
                                  "Send to Jira", "", ADMIN, "us-east-1", NOW)
    before = received("imported", "other_generation"), received("custom_action", "other_generation")
    taken = imported_v2()

    with caplog.at_level(logging.INFO, logger="hubsync.web.events"):
        response = post(client, v2_tenant, [imported(), clicked, taken])

    assert response.status_code == 202
    assert response.json == {"accepted": 3, "hints": 1, "otherGeneration": 2}
    assert [d.hint.event_id for d in queue.receive(10, wait_seconds=0)] == [taken["id"]]
    after = received("imported", "other_generation"), received("custom_action", "other_generation")
    assert after == (before[0] + 1, before[1] + 1)
    said = [record.getMessage() for record in caplog.records if "other generation" in record.getMessage()]
    assert said == [f"tenant {v2_tenant.id} reads Security Hub V2: 2 events of the other generation accepted, "
                    "not queued"]


def test_a_cspm_tenant_accepts_v2_events_and_queues_none(client, tenant, queue) -> None:
    before = received("imported_v2", "other_generation")

    response = post(client, tenant, imported_v2(comment="#jira"))

    assert response.status_code == 202
    assert response.json == {"accepted": 1, "hints": 0, "otherGeneration": 1}
    assert queue.depth() == 0
    assert received("imported_v2", "other_generation") == before + 1


def test_a_malformed_v2_event_is_400_naming_the_attribute(client, v2_tenant, queue) -> None:
    event = imported_v2()
    event["detail"]["findings"][0]["metadata"]["uid"] = 7

    response = post(client, v2_tenant, event)

    assert response.status_code == 400
    assert response.json["details"] == ["detail.findings[0].metadata.uid: Not a valid string."]
    assert queue.depth() == 0


def test_events_of_the_other_generation_are_retried_with_the_rest_when_the_queue_is_down(
    client, tenant, queue, monkeypatch
) -> None:
    def down(*_args: Any) -> None:
        raise QueueUnavailable("database unreachable")

    monkeypatch.setattr(queue, "put", down)
    before = received("imported_v2", "unavailable")

    response = post(client, tenant, [imported(), imported_v2()])

    assert response.status_code == 503
    assert received("imported_v2", "unavailable") == before + 1
