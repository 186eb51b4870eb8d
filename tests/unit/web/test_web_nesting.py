"""Deeply nested JSON is a JSON 400 at every route that reads a body, and nothing is queued or stored: past the
interpreter's recursion limit (the parser itself gives up) and just under it (the parser succeeds, and nothing
after it may recurse into the body)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.bootstrap import TenantClients
from hubsync.domain.tenant import Tenant
from hubsync.service.settings import rotate_events_api_key
from hubsync.service.sync import SyncContext
from hubsync.web.services import EXTENSION
from tests.unit.web.jira_requests import (
    BASE_URL,
    USER_ACCOUNT_ID,
    NoProjects,
    RecordingQueue,
    context_token,
    hs256,
    install_token,
    jwt_header,
    lifecycle_body,
)

PAST_THE_LIMIT = 5000  # deeper than the interpreter's recursion limit (1000)
JUST_UNDER = 900  # json.loads parses it


def nested_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_in(value: bytes, depth: int) -> bytes:
    """`value` at the bottom of `depth` objects `{"a": ...}`."""
    return b'{"a":' * depth + value + b"}" * depth


def database(store: Store) -> tuple:
    with store.engine.connect() as connection:
        return tuple(tuple(connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all())
                     for table in ("tenants", "links", "audit"))


@pytest.fixture
def api_key(store: Store, tenant: Tenant) -> str:
    return rotate_events_api_key(store, tenant.id, BASE_URL)["apiKey"]


@pytest.fixture
def admin_app(app: Flask) -> Flask:
    """The settings routes ask Jira whether the token's user is an administrator: here Jira always says yes."""
    runtime = app.extensions[EXTENSION].runtime
    runtime.tenants = AdminsJira(runtime.tenants)  # type: ignore[assignment]
    return app


class JiraOfAdmins:
    """A Jira for which everyone is an administrator: the settings routes then read their body."""

    def is_site_admin(self, account_id: str) -> bool:
        return True


class AdminsJira:
    """The runtime's tenant clients, but with a Jira of administrators; the sync contexts stay the real ones."""

    def __init__(self, tenants: TenantClients) -> None:
        self._tenants = tenants

    def jira(self, tenant: Tenant) -> JiraOfAdmins:
        return JiraOfAdmins()

    def sync_context(self, tenant: Tenant) -> SyncContext:
        return self._tenants.sync_context(tenant)

    def projects(self, tenant: Tenant) -> NoProjects:  # the pickers and the project check: nothing there
        return NoProjects()


def _post(client: FlaskClient, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.open(path, method=method, data=body, content_type="application/json", headers=headers)


def _jira_routes() -> list[tuple[str, str]]:
    return [("POST", "/connect/webhooks/issue_updated"), ("POST", "/connect/webhooks/issue_deleted"),
            ("POST", "/connect/post-function"), ("POST", "/connect/enabled"), ("POST", "/connect/disabled")]


def _api_routes() -> list[tuple[str, str]]:
    return [("PUT", "/api/v1/settings"), ("POST", "/api/v1/settings/test-connection"),
            ("POST", "/api/v1/settings/events-api-key")]


@pytest.mark.parametrize("depth", [PAST_THE_LIMIT, JUST_UNDER])
def test_a_deeply_nested_event_body_is_a_json_400_and_nothing_is_queued(
    client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, api_key: str, depth: int
) -> None:
    before = database(store)
    for body in (nested_array(depth), nested_in(b"1", depth)):
        response = _post(client, "POST", f"/events/securityhub/{tenant.id}", body, {"X-Hubsync-Api-Key": api_key})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.is_json and response.json["error"]
    assert queue.hints == []
    assert database(store) == before


@pytest.mark.parametrize("depth", [PAST_THE_LIMIT, JUST_UNDER])
def test_a_deeply_nested_body_from_jira_is_a_json_400_and_nothing_changes(
    client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, depth: int
) -> None:
    before = database(store)
    for method, path in _jira_routes():
        for body in (nested_array(depth), nested_in(b"1", depth)):
            response = _post(client, method, path, body, jwt_header(hs256(method, path)))
            assert response.status_code == 400, f"{path}: {response.status_code}"
            assert response.is_json and response.json["error"]
    assert queue.hints == []
    assert database(store) == before


@pytest.mark.parametrize("depth", [PAST_THE_LIMIT, JUST_UNDER])
def test_a_deeply_nested_settings_body_is_a_json_400_and_nothing_is_saved(
    admin_app: Flask, store: Store, tenant: Tenant, depth: int
) -> None:
    client = admin_app.test_client()
    before = database(store)
    headers = jwt_header(context_token(sub=USER_ACCOUNT_ID))
    for method, path in _api_routes():
        response = _post(client, method, path, nested_in(b"1", depth), headers)
        assert response.status_code == 400, f"{method} {path}: {response.status_code}"
        assert response.is_json and response.json["error"]
    assert database(store) == before


def test_deep_nesting_inside_a_valid_webhook_is_refused_before_anything_reads_it(
    client: FlaskClient, queue: RecordingQueue, tenant: Tenant
) -> None:
    """The part a schema keeps as it is (the issue's properties) nested just under the parser's limit."""
    path = "/connect/webhooks/issue_updated"
    properties = nested_in(b"1", JUST_UNDER)
    body = (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "10007", "key": "SEC-7", "properties": '
            + properties + b"}}")
    response = _post(client, "POST", path, body, jwt_header(hs256("POST", path)))
    assert response.status_code == 400
    assert queue.hints == []


def test_ordinary_nesting_is_still_taken(client: FlaskClient, queue: RecordingQueue, tenant: Tenant) -> None:
    """Jira's payloads nest a few levels: the limit is far above them."""
    path = "/connect/webhooks/issue_updated"
    body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "10007", "key": "SEC-7",
                                                           "fields": _nested({"leaf": 1}, 30)}}
    response = client.post(path, json=body, headers=jwt_header(hs256("POST", path)))
    assert response.status_code == 204
    assert len(queue.hints) == 1


def test_lifecycle_installed_refuses_a_deeply_nested_body(client: FlaskClient, store: Store, key_server) -> None:
    before = database(store)
    token = install_token(key_server, "/connect/installed")
    lifecycle = json.dumps(lifecycle_body("installed")).encode()
    body = lifecycle[:-1] + b', "extra": ' + nested_in(b"1", JUST_UNDER) + b"}"
    response = _post(client, "POST", "/connect/installed", body, jwt_header(token))
    assert response.status_code == 400 and response.json["error"]
    assert database(store) == before


def _nested(leaf: Any, depth: int) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value
