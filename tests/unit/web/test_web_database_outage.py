"""While the database cannot be reached (PostgreSQL restarting), every route that needs it answers 503 with
`Retry-After` and a JSON reason, so EventBridge and Jira deliver again later; the log has one warning line and no
traceback. The outage is real: the app's store is pointed at a PostgreSQL port where nothing listens."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import SecretBox, Store, create_engine
from hubsync.domain.tenant import Tenant
from hubsync.web.errors import RETRY_AFTER_S
from hubsync.web.services import EXTENSION
from tests.unit.web.jira_requests import (
    SECRET_KEY,
    RecordingQueue,
    context_token,
    hs256,
    install_token,
    jwt_header,
    lifecycle_body,
)

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # connection refused at once


@pytest.fixture
def database_down(app: Flask, tenant: Tenant) -> Store:
    """The app's store, from now on, on a database that does not answer (the tenant was saved before)."""
    down = Store(create_engine(UNREACHABLE), SecretBox([SECRET_KEY]))
    app.extensions[EXTENSION].runtime.store = down
    return down


def _assert_retry_later(response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S), what
    assert response.is_json and response.json["error"], what


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record for record in caplog.records if record.levelno == logging.WARNING], "no warning logged"


def test_the_intake_asks_eventbridge_to_retry_during_a_database_outage(
    client: FlaskClient, tenant: Tenant, database_down: Store, queue: RecordingQueue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = client.post(f"/events/securityhub/{tenant.id}", json={"id": "e"},
                           headers={"X-Hubsync-Api-Key": "some-key"})
    _assert_retry_later(response, "intake")
    assert queue.hints == []
    _no_traceback(caplog)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@pytest.mark.parametrize("path", ["/connect/webhooks/issue_updated", "/connect/webhooks/issue_deleted",
                                  "/connect/post-function"])
def test_jiras_webhooks_and_post_function_ask_jira_to_retry_during_a_database_outage(
    client: FlaskClient, database_down: Store, queue: RecordingQueue, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    body = {"webhookEvent": "jira:" + path.rsplit("/", 1)[1], "issue": {"id": "10007", "key": "SEC-7"}}
    response = client.post(path, json=body, headers=jwt_header(hs256("POST", path)))
    _assert_retry_later(response, path)
    assert queue.hints == []
    _no_traceback(caplog)


def test_every_other_route_that_needs_the_database_answers_503_too(
    client: FlaskClient, database_down: Store, key_server, caplog: pytest.LogCaptureFixture
) -> None:
    for method, path in [("GET", "/api/v1/settings"), ("GET", "/api/v1/panel?issueKey=SEC-7"),
                         ("GET", "/connect/configure"), ("POST", "/connect/enabled")]:
        token = context_token() if path.startswith("/api/") else hs256(method, path)
        response = client.open(path, method=method, json=lifecycle_body("enabled"), headers=jwt_header(token))
        _assert_retry_later(response, f"{method} {path}")
    token = install_token(key_server, "/connect/installed")
    response = client.post("/connect/installed", json=lifecycle_body("installed"), headers=jwt_header(token))
    _assert_retry_later(response, "installed")
    _no_traceback(caplog)


def test_readyz_says_the_database_is_down(client: FlaskClient, database_down: Store) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "down"
