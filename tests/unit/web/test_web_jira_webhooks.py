"""Deliveries of the admin webhook: authenticated before they are read (the signature over the raw body, or the
URL token), refused with 401 JSON and nothing queued otherwise, and a valid one queues exactly one hint for its
ticket, once however often it is delivered."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from hubsync.adapters.queue import LocalQueue, QueueUnavailable
from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.jira_webhook import WebhookRegistration, sign
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.web import create_app
from tests.fakes.clock import FakeClock
from tests.unit.web.jira_requests import BASE_URL, SECRET_KEY, RecordingQueue

SECRET = "the-tenants-webhook-secret-0123456789abcdef"
FINDING = FindingIdentifier(
    "arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/1",
    "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def local_queue(store: Store) -> LocalQueue:
    return LocalQueue(store.engine)


@pytest.fixture
def web(store: Store, local_queue: LocalQueue, clock: FakeClock) -> Iterator[FlaskClient]:
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY})
    app: Flask = create_app(bootstrap(settings, store=store, queue=local_queue, clock=clock))
    yield app.test_client()


def _tenant(store: Store, registration: WebhookRegistration, *, enabled: bool = True) -> Tenant:
    with store.transaction() as uow:
        created = uow.tenants.create(name="Example DC", jira_base_url="https://jira.example.com",
                                     jira_flavour=JiraFlavour.DATA_CENTER, auth_mode=AuthMode.PAT,
                                     jira_secret="pat", enabled=enabled)
        return uow.tenants.update(dataclasses.replace(created, jira_webhook=registration))


@pytest.fixture
def signed(store: Store) -> Tenant:
    return _tenant(store, WebhookRegistration("10", signed=True, secret=SECRET))


def _payload(event: str = "jira:issue_updated", *, properties: Any = None, timestamp: int = 1767225600000) -> bytes:
    issue: dict[str, Any] = {"id": "10007", "key": "SEC-7", "self": "https://jira.example.com/rest/api/2/issue/10007",
                             "fields": {"status": {"name": "Risk approved"}}}
    if properties is not None:
        issue["properties"] = properties
    body = {"timestamp": timestamp, "webhookEvent": event, "issue_event_type_name": "issue_generic",
            "user": {"name": "sofia", "key": "JIRAUSER10100", "displayName": "Sofia Security"}, "issue": issue,
            "changelog": {"id": "1", "items": [{"field": "status", "toString": "Risk approved"}]}}
    return json.dumps(body).encode()


def _post(web: FlaskClient, path: str, body: bytes, headers: dict[str, str] | None = None):
    return web.post(path, data=body, headers={"Content-Type": "application/json", **(headers or {})})


def _signed_post(web: FlaskClient, tenant: Tenant, body: bytes, secret: str = SECRET, **headers: str):
    return _post(web, f"/webhooks/jira/{tenant.id}", body, {"X-Hub-Signature": sign(secret, body), **headers})


def _queued(queue: LocalQueue) -> list[SyncHint]:
    return [delivery.hint for delivery in queue.receive(50, 0)]


def _refused() -> float:
    return REGISTRY.get_sample_value("hubsync_webhook_hints_total",
                                     {"source": "jira.admin-webhook", "outcome": "refused"}) or 0.0


def test_a_signed_delivery_queues_one_hint_naming_the_ticket(web: FlaskClient, signed: Tenant,
                                                             local_queue: LocalQueue) -> None:
    response = _signed_post(web, signed, _payload(), **{"X-Atlassian-Webhook-Identifier": "delivery-1"})
    assert response.status_code == 204, response.get_data(as_text=True)
    assert _queued(local_queue) == [SyncHint(signed.id, HintSource.JIRA_ADMIN_WEBHOOK, ticket_key="SEC-7",
                                             event_id="jira.admin-webhook:delivery-1")]


def test_a_delivery_carrying_the_marker_hints_the_finding(web: FlaskClient, signed: Tenant,
                                                          local_queue: LocalQueue) -> None:
    marker = {"id": FINDING.id, "productArn": FINDING.product_arn, "key": FINDING.key}
    body = _payload(properties=[{"key": "hubsync.finding", "value": marker}])
    assert _signed_post(web, signed, body).status_code == 204
    [hint] = _queued(local_queue)
    assert hint.finding == FINDING and hint.ticket_key is None


@pytest.mark.parametrize("signature", [
    None,  # unsigned
    sign("another-secret-someone-guessed", _payload()),  # forged
    sign(SECRET, _payload(timestamp=1)),  # the signature of another body (tampered after signing)
    sign(SECRET, _payload()).replace("sha256=", "sha1="),
    "sha256=",
])
def test_unsigned_forged_or_tampered_deliveries_are_refused(web: FlaskClient, signed: Tenant, local_queue: LocalQueue,
                                                            signature: str | None) -> None:
    before = _refused()
    headers = {} if signature is None else {"X-Hub-Signature": signature}
    response = _post(web, f"/webhooks/jira/{signed.id}", _payload(), headers)
    assert response.status_code == 401 and "X-Hub-Signature" in response.json["error"]
    assert _queued(local_queue) == [] and _refused() == before + 1


def test_an_unknown_tenant_is_refused_as_a_wrong_signature_is(web: FlaskClient, signed: Tenant,
                                                              local_queue: LocalQueue) -> None:
    wrong = _post(web, f"/webhooks/jira/{signed.id}", _payload(), {"X-Hub-Signature": sign("x", _payload())})
    unknown = _signed_post(web, dataclasses.replace(signed, id="f" * 32), _payload())
    too_long = _signed_post(web, dataclasses.replace(signed, id="f" * 200), _payload())
    assert unknown.status_code == wrong.status_code == too_long.status_code == 401
    assert unknown.json == wrong.json == too_long.json
    assert _queued(local_queue) == []


def test_a_tenant_without_a_webhook_takes_no_delivery(web: FlaskClient, store: Store,
                                                      local_queue: LocalQueue) -> None:
    tenant = _tenant(store, WebhookRegistration())
    assert _post(web, f"/webhooks/jira/{tenant.id}", _payload(), {"X-Hub-Signature": sign("", _payload())}
                 ).status_code == 401
    assert _post(web, f"/webhooks/jira/{tenant.id}/anything", _payload()).status_code == 401
    assert _queued(local_queue) == []


def test_a_replayed_delivery_is_queued_once(web: FlaskClient, signed: Tenant, local_queue: LocalQueue) -> None:
    for retry in ("", "1", "2"):
        headers = {"X-Atlassian-Webhook-Identifier": "delivery-9"} | ({"X-Atlassian-Webhook-Retry": retry}
                                                                     if retry else {})
        assert _signed_post(web, signed, _payload(), **headers).status_code == 204
    assert [hint.event_id for hint in _queued(local_queue)] == ["jira.admin-webhook:delivery-9"]


def test_a_data_center_redelivery_without_an_identifier_is_queued_once(web: FlaskClient, signed: Tenant,
                                                                       local_queue: LocalQueue) -> None:
    for _ in range(2):
        assert _signed_post(web, signed, _payload()).status_code == 204
    assert _signed_post(web, signed, _payload(timestamp=1767225600999)).status_code == 204  # a later change
    assert [hint.event_id for hint in _queued(local_queue)] == [
        "jira.admin-webhook:jira:issue_updated:10007:1767225600000",
        "jira.admin-webhook:jira:issue_updated:10007:1767225600999",
    ]


def test_the_url_token_authenticates_deliveries_of_data_center_9(web: FlaskClient, store: Store, clock: FakeClock,
                                                                 local_queue: LocalQueue) -> None:
    registration, token = WebhookRegistration("3").with_new_token(clock())
    tenant = _tenant(store, registration)
    assert _post(web, f"/webhooks/jira/{tenant.id}/{token}", _payload()).status_code == 204
    wrong = _post(web, f"/webhooks/jira/{tenant.id}/{token[:-1]}A", _payload())
    unsigned_path = _post(web, f"/webhooks/jira/{tenant.id}", _payload(), {"X-Hub-Signature": sign(token, _payload())})
    assert wrong.status_code == unsigned_path.status_code == 401 and "webhook URL" in wrong.json["error"]
    assert len(_queued(local_queue)) == 1


def test_the_url_token_is_not_in_the_path_the_access_log_shows(web: FlaskClient, store: Store, clock: FakeClock
                                                                ) -> None:
    registration, token = WebhookRegistration("3").with_new_token(clock())
    tenant = _tenant(store, registration)
    with web:
        assert _post(web, f"/webhooks/jira/{tenant.id}/{token}", _payload()).status_code == 204
        assert flask.request.environ["PATH_INFO"] == f"/webhooks/jira/{tenant.id}/***"


def test_a_signed_tenant_takes_no_url_token(web: FlaskClient, store: Store, clock: FakeClock,
                                            local_queue: LocalQueue) -> None:
    registration, token = WebhookRegistration("3").with_new_token(clock())
    tenant = _tenant(store, dataclasses.replace(registration, signed=True, secret=SECRET))
    assert _post(web, f"/webhooks/jira/{tenant.id}/{token}", _payload()).status_code == 401
    assert _queued(local_queue) == []


def test_a_rotated_token_is_refused_after_its_grace_period(web: FlaskClient, store: Store, clock: FakeClock,
                                                           local_queue: LocalQueue) -> None:
    first, old = WebhookRegistration("3").with_new_token(clock())
    rotated, new = first.with_new_token(clock(), timedelta(hours=24))
    tenant = _tenant(store, rotated)
    clock.advance(timedelta(hours=23))
    assert _post(web, f"/webhooks/jira/{tenant.id}/{old}", _payload(timestamp=1)).status_code == 204
    clock.advance(timedelta(hours=1))
    refused = _post(web, f"/webhooks/jira/{tenant.id}/{old}", _payload(timestamp=2))
    assert refused.status_code == 401 and refused.json["error"].startswith("unknown or expired webhook URL")
    assert _post(web, f"/webhooks/jira/{tenant.id}/{new}", _payload(timestamp=3)).status_code == 204
    assert [hint.event_id for hint in _queued(local_queue)] == [
        "jira.admin-webhook:jira:issue_updated:10007:1", "jira.admin-webhook:jira:issue_updated:10007:3"]


def test_bodies_that_are_not_deliveries_are_400_json(web: FlaskClient, signed: Tenant,
                                                     local_queue: LocalQueue) -> None:
    for body in (b"{not json", b"[1, 2]", json.dumps({"webhookEvent": "jira:issue_updated"}).encode(),
                 json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "sec 7; drop"}}
                            ).encode()):
        response = _signed_post(web, signed, body)
        assert response.status_code == 400 and response.is_json and response.json["error"], body
    assert _queued(local_queue) == []


def test_a_body_over_the_limit_is_413_before_anything_else(web: FlaskClient, signed: Tenant) -> None:
    body = b" " * (1024 * 1024 + 1)
    response = _signed_post(web, signed, body)
    assert response.status_code == 413 and response.is_json


def test_an_event_hubsync_did_not_register_for_queues_nothing(web: FlaskClient, signed: Tenant,
                                                              local_queue: LocalQueue) -> None:
    assert _signed_post(web, signed, _payload("comment_created")).status_code == 204
    assert _queued(local_queue) == []


def test_a_disabled_tenant_is_403_once_authenticated(web: FlaskClient, store: Store, local_queue: LocalQueue) -> None:
    tenant = _tenant(store, WebhookRegistration("10", signed=True, secret=SECRET), enabled=False)
    response = _signed_post(web, tenant, _payload())
    assert response.status_code == 403 and _queued(local_queue) == []


def test_a_queue_that_cannot_take_the_hint_is_503(store: Store, signed: Tenant) -> None:
    queue = RecordingQueue()
    queue.put_error = QueueUnavailable("database is restarting")
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY})
    client = create_app(bootstrap(settings, store=store, queue=queue)).test_client()  # type: ignore[arg-type]
    response = _signed_post(client, signed, _payload())
    assert response.status_code == 503 and response.headers["Retry-After"] and response.is_json
