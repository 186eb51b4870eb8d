"""Jira's webhooks and the post function put one hint on the queue and answer 204; hubsync's own changes none."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from hubsync.adapters.queue import QueueUnavailable
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.tenant import Tenant
from tests.unit.web.jira_requests import APP_ACCOUNT_ID, USER_ACCOUNT_ID, RecordingQueue, hs256, jwt_header

FINDING = FindingIdentifier(
    "arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/1",
    "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
)
MARKER = {"id": FINDING.id, "productArn": FINDING.product_arn, "key": FINDING.key}


def _webhook(event: str = "jira:issue_updated", *, properties=None, user_id=USER_ACCOUNT_ID, user_type="atlassian"):
    issue = {"id": "10007", "key": "SEC-7", "fields": {"status": {"name": "Risk approved"}}}
    if properties is not None:
        issue["properties"] = properties
    return {
        "timestamp": 1767225600000,
        "webhookEvent": event,
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": user_id, "accountType": user_type, "displayName": "Sofia Security"},
        "issue": issue,
        "changelog": {"id": "1", "items": [{"field": "status", "from": "1", "to": "10006"}]},
    }


def _post(client: FlaskClient, path: str, body, headers=None):
    return client.post(path, json=body, headers={**jwt_header(hs256("POST", path)), **(headers or {})})


def test_a_webhook_with_the_marker_hints_the_finding(client: FlaskClient, tenant: Tenant, queue: RecordingQueue):
    body = _webhook(properties=[{"key": "hubsync.finding", "value": MARKER}])
    headers = {"X-Atlassian-Webhook-Identifier": "delivery-1"}
    response = _post(client, "/connect/webhooks/issue_updated", body, headers)
    assert response.status_code == 204, response.json
    assert queue.hints == [
        SyncHint(tenant.id, HintSource.JIRA_WEBHOOK, finding=FINDING, event_id="jira.webhook:delivery-1")
    ]


def test_a_webhook_without_the_marker_hints_the_ticket(client: FlaskClient, tenant: Tenant, queue: RecordingQueue):
    response = _post(client, "/connect/webhooks/issue_deleted", _webhook("jira:issue_deleted"))
    assert response.status_code == 204
    assert queue.hints == [
        SyncHint(
            tenant.id,
            HintSource.JIRA_WEBHOOK,
            ticket_key="SEC-7",
            event_id="jira.webhook:jira:issue_deleted:10007:1767225600000",
        )
    ]


def test_a_redelivery_carries_the_same_event_id(client: FlaskClient, tenant: Tenant, queue: RecordingQueue) -> None:
    headers = {"X-Atlassian-Webhook-Identifier": "delivery-9", "X-Atlassian-Webhook-Retry": "1"}
    _post(client, "/connect/webhooks/issue_updated", _webhook(), headers)
    _post(client, "/connect/webhooks/issue_updated", _webhook(), headers)
    assert {hint.event_id for hint in queue.hints} == {"jira.webhook:delivery-9"}


def test_hubsyncs_own_change_is_no_hint(client: FlaskClient, tenant: Tenant, queue: RecordingQueue) -> None:
    body = _webhook(user_id=APP_ACCOUNT_ID, user_type="app", properties=[{"key": "hubsync.finding", "value": MARKER}])
    assert _post(client, "/connect/webhooks/issue_updated", body).status_code == 204
    assert queue.hints == []


def test_another_apps_change_is_a_hint(client: FlaskClient, tenant: Tenant, queue: RecordingQueue) -> None:
    body = _webhook(user_id="557058:automation-for-jira", user_type="app")
    assert _post(client, "/connect/webhooks/issue_updated", body).status_code == 204
    assert len(queue.hints) == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"webhookEvent": "jira:issue_updated"}, "issue: Missing data"),
        ({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "not a key"}}, "issue.key"),
        ({"issue": {"id": "1", "key": "SEC-1"}}, "webhookEvent"),
        ([1, 2], "(body)"),
    ],
)
def test_a_bad_body_is_400_with_a_list_of_problems(client, tenant, queue: RecordingQueue, body, detail) -> None:
    response = _post(client, "/connect/webhooks/issue_updated", body)
    assert response.status_code == 400
    assert isinstance(response.json["details"], list)
    assert any(line.startswith(detail) for line in response.json["details"]), response.json
    assert queue.hints == []


def test_an_event_sent_to_the_other_events_url_is_400(client, tenant, queue: RecordingQueue) -> None:
    response = _post(client, "/connect/webhooks/issue_updated", _webhook("jira:issue_deleted"))
    assert response.status_code == 400
    assert queue.hints == []


def test_an_unknown_event_is_404(client: FlaskClient, tenant: Tenant, queue: RecordingQueue) -> None:
    response = _post(client, "/connect/webhooks/issue_created", _webhook("jira:issue_created"))
    assert response.status_code == 404
    assert "error" in response.json


def test_the_post_function_hints_the_ticket(client: FlaskClient, tenant: Tenant, queue: RecordingQueue) -> None:
    body = {
        "configuration": {"value": "{}"},
        "issue": {"id": "10007", "key": "SEC-7", "fields": {}},
        "transition": {"transitionId": 31, "transitionName": "Approve risk", "to_status": "Risk approved"},
    }
    headers = {"X-Atlassian-Webhook-Identifier": "pf-1"}
    assert _post(client, "/connect/post-function", body, headers).status_code == 204
    assert queue.hints == [
        SyncHint(tenant.id, HintSource.JIRA_POST_FUNCTION, ticket_key="SEC-7", event_id="jira.post-function:pf-1")
    ]


@pytest.mark.parametrize("path", ["/connect/webhooks/issue_updated", "/connect/post-function"])
def test_a_queue_that_cannot_take_the_hint_is_503_so_jira_retries(
    client: FlaskClient, tenant: Tenant, queue: RecordingQueue, path: str
) -> None:
    queue.put_error = QueueUnavailable("database unreachable")
    response = _post(client, path, _webhook())
    assert response.status_code == 503, response.json
    assert response.headers["Retry-After"] == "5"
    assert response.json == {"error": "the queue is unavailable; retry later"}
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_issue_key_with_a_trailing_newline_is_no_key(client: FlaskClient, tenant: Tenant, queue: RecordingQueue):
    body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "SEC-1\n"}}
    response = _post(client, "/connect/webhooks/issue_updated", body)
    assert response.status_code == 400
    assert response.json["details"] == ["issue.key: not a Jira issue key"]
    assert queue.hints == []


@pytest.mark.parametrize("timestamp", [10**300, -(10**300)])
def test_an_event_id_fits_the_queue_whatever_the_timestamp(client: FlaskClient, tenant: Tenant,
                                                           queue: RecordingQueue, timestamp: int) -> None:
    """Without a delivery id the event's identity names the hint; the queue keeps ids of at most 255 characters
    (a longer one is refused by PostgreSQL), so a long one is replaced by its digest, the same on a redelivery."""
    body = {**_webhook(), "timestamp": timestamp}
    assert _post(client, "/connect/webhooks/issue_updated", body).status_code == 204
    assert _post(client, "/connect/webhooks/issue_updated", body).status_code == 204
    first, second = (hint.event_id or "" for hint in queue.hints)
    assert 0 < len(first) <= 255 and first == second
