"""Every route of the app, found by walking `app.url_map` (so a new route cannot escape), refuses requests Jira
did not sign for it: unsigned, forged, expired, wrong-qsh, unknown tenant, a context token outside the iframe
API, and a disabled tenant — with a 401/403 JSON reason and no change to tenants, links, audit or the queue.

Routes that are public or carry their own check are an explicit allow-list, each checked on its own below.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from hubsync.adapters.store import Store
from hubsync.domain.tenant import Tenant
from hubsync.web.jira_auth import JWT_LEEWAY_S
from hubsync.web.services import EXTENSION
from tests.unit.web.jira_requests import (
    BASE_URL,
    SHARED_SECRET,
    RecordingQueue,
    context_token,
    hs256,
    install_token,
    jwt_header,
    lifecycle_body,
)

# Public routes: no Jira JWT, each with its own checks further down.
PUBLIC = {
    "/atlassian-connect.json",  # what Jira installs from
    "/connect/icon.svg",  # the glance icon Jira loads
    "/static/ui/<path:filename>",  # the front end's assets
    "/healthz",
    "/readyz",
    "/metrics",
}
SIGNED_INSTALL = {"/connect/installed", "/connect/uninstalled"}  # RS256 from Atlassian's key server, not HS256
EVENTS_PREFIX = "/events/securityhub/"  # EventBridge API destination: an API key, not a Jira JWT
ADMIN_WEBHOOKS_PREFIX = "/webhooks/jira/"  # an admin webhook's deliveries: its signature or URL token, not a JWT
# Lifecycle HS256 callbacks that must work for a disabled tenant (`enabled` re-enables it).
DISABLED_ALLOWED = {"/connect/enabled", "/connect/disabled"}
IFRAME_API_PREFIX = "/api/v1/"  # the only routes that take context tokens
FORGE_PREFIX = "/forge/"  # Forge invocation tokens (RS256 from Forge's key set): swept in test_web_forge_auth.py

FORGED_SECRET = "forged-shared-secret-" + "q" * 40


def _concrete(rule: Rule) -> str:
    """A URL that matches the rule: each variable filled with a value its converter accepts."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        mapping = getattr(converter, "items", None)  # the `any(...)` converter
        values[name] = next(iter(mapping)) if mapping else ("1" if "Integer" in type(converter).__name__ else "x")
    path = rule.build(values, append_unknown=False)
    assert path is not None
    return path[1]


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """(rule, method, concrete path) of every route and method (HEAD and OPTIONS are Flask's own)."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method, _concrete(rule)))
    return routes


def _jira_routes(app: Flask) -> list[tuple[str, str, str]]:
    return [
        route
        for route in _routes(app)
        if route[0] not in PUBLIC and route[0] not in SIGNED_INSTALL and not route[0].startswith(EVENTS_PREFIX)
        and not route[0].startswith(ADMIN_WEBHOOKS_PREFIX)
        and not route[0].startswith(FORGE_PREFIX)
    ]


def _state(store: Store, queue: RecordingQueue) -> tuple:
    with store.engine.connect() as connection:
        tables = tuple(
            tuple(connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all())
            for table in ("tenants", "links", "audit")
        )
    return tables, tuple(queue.hints)


BODY = {
    **lifecycle_body("enabled"),
    "webhookEvent": "jira:issue_updated",
    "timestamp": 1767225600000,
    "issue": {"id": "10007", "key": "SEC-7", "fields": {}},
}

Case = Callable[[str, str], dict[str, str]]
CASES: dict[str, Case] = {
    "unsigned": lambda method, path: {},
    "forged": lambda method, path: jwt_header(hs256(method, path, secret=FORGED_SECRET)),
    "expired": lambda method, path: jwt_header(hs256(method, path, now=time.time() - 180 - JWT_LEEWAY_S - 60)),
    "wrong-qsh": lambda method, path: jwt_header(hs256(method, path + "?other=1")),
    "unknown-tenant": lambda method, path: jwt_header(
        hs256(method, path, issuer="unknown-client-key", secret=SHARED_SECRET)
    ),
    "context-token": lambda method, path: jwt_header(context_token()),
    "disabled-tenant": lambda method, path: jwt_header(hs256(method, path)),
}


def test_the_sweep_sees_the_jira_routes(app: Flask) -> None:
    """Guard against a sweep that silently checks nothing."""
    rules = {rule for rule, _, _ in _jira_routes(app)}
    assert {"/connect/panel", "/connect/configure", "/connect/post-function", "/connect/enabled"} <= rules
    assert any(rule.startswith("/connect/webhooks/") for rule in rules)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_jira_route_refuses_what_jira_did_not_sign(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, case: str
) -> None:
    if case == "disabled-tenant":
        with store.transaction() as uow:
            uow.tenants.update(dataclasses.replace(tenant, enabled=False))
    before = _state(store, queue)
    checked = 0
    for rule, method, path in _jira_routes(app):
        if case == "context-token" and rule.startswith(IFRAME_API_PREFIX):
            continue  # the iframe API takes context tokens: checked by the api tests
        if case == "disabled-tenant" and rule in DISABLED_ALLOWED:
            continue  # `enabled` must reach a disabled tenant: checked in test_web_lifecycle
        response = client.open(path, method=method, json=BODY, headers=CASES[case](method, path))
        expected = {403} if case == "disabled-tenant" else {401}
        assert response.status_code in expected, f"{method} {path} answered {response.status_code} to {case}"
        assert response.is_json and response.json["error"], f"{method} {path}: no JSON reason"
        checked += 1
    assert checked >= 7
    assert _state(store, queue) == before


@pytest.mark.parametrize("case", ["unsigned", "forged", "expired", "wrong-qsh", "unknown-tenant", "context-token"])
def test_signed_install_routes_refuse_shared_secret_tokens(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, case: str
) -> None:
    """installed/uninstalled take only Atlassian's RS256 token: nothing signed with a shared secret passes."""
    before = _state(store, queue)
    for path in sorted(SIGNED_INSTALL):
        event = path.rsplit("/", 1)[1]
        response = client.post(path, json=lifecycle_body(event), headers=CASES[case]("POST", path))
        assert response.status_code == 401, f"{path}: {case}"
        assert response.json["error"]
    assert _state(store, queue) == before


def test_signed_install_routes_refuse_a_good_token_for_the_other_route(client, key_server, store, queue, tenant):
    """An uninstall token replayed at `installed` (or the reverse) fails its qsh."""
    before = _state(store, queue)
    token = install_token(key_server, "/connect/uninstalled")
    response = client.post("/connect/installed", json=lifecycle_body("installed"), headers=jwt_header(token))
    assert response.status_code == 401
    assert _state(store, queue) == before


def test_without_a_forge_app_id_the_forge_routes_do_not_exist(app: Flask, client, store, queue, tenant) -> None:
    """HUBSYNC_FORGE_APP_ID unset (these tests' app): every /forge route answers 404 and changes nothing, even to a
    request that looks like Forge's."""
    before = _state(store, queue)
    forge_routes = [(rule, method, path) for rule, method, path in _routes(app) if rule.startswith(FORGE_PREFIX)]
    assert len(forge_routes) >= 5
    for _rule, method, path in forge_routes:
        response = client.open(path, method=method, json=BODY, headers={"Authorization": "Bearer x.y.z"})
        assert response.status_code == 404, f"{method} {path}"
        assert response.is_json
    assert _state(store, queue) == before


def test_events_routes_refuse_requests_without_their_api_key(app: Flask, client, store, queue, tenant) -> None:
    before = _state(store, queue)
    for rule, method, path in _routes(app):
        if rule.startswith(EVENTS_PREFIX):
            response = client.open(path.replace("/x", f"/{tenant.id}"), method=method, json={"detail-type": "x"})
            assert response.status_code in (401, 403), f"{method} {path}"
            assert response.json["error"]
    assert _state(store, queue) == before


def test_admin_webhook_routes_refuse_jira_jwts_without_their_signature_or_token(
    app: Flask, client, store, queue, tenant
) -> None:
    before = _state(store, queue)
    routes = [route for route in _routes(app) if route[0].startswith(ADMIN_WEBHOOKS_PREFIX)]
    assert len(routes) == 2
    for _rule, method, path in routes:
        path = path.replace("/x", f"/{tenant.id}", 1)
        response = client.open(path, method=method, json={"webhookEvent": "jira:issue_updated"},
                               headers=jwt_header(hs256(method, path)))
        assert response.status_code == 401, f"{method} {path}"
        assert response.json["error"]
    assert _state(store, queue) == before


def test_public_routes_are_only_these_and_say_nothing_about_tenants(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    public = {rule for rule, _, _ in _routes(app) if rule in PUBLIC}
    assert public <= PUBLIC
    for rule, method, path in _routes(app):
        if rule not in PUBLIC:
            continue
        assert method == "GET", f"public route {rule} takes {method}"
        text = client.get(path).get_data(as_text=True)
        for secret in (SHARED_SECRET, tenant.id, tenant.external_id, tenant.connect_client_key or "-"):
            assert secret not in text, f"{rule} shows {secret!r}"


def test_the_descriptor_is_the_same_for_everyone(client: FlaskClient) -> None:
    signed = client.get("/atlassian-connect.json", headers=jwt_header(hs256("GET", "/atlassian-connect.json")))
    assert signed.json == client.get("/atlassian-connect.json").json
    assert signed.json["baseUrl"] == BASE_URL


def test_metrics_is_public_only_until_a_token_is_set(app: Flask, client: FlaskClient, tenant: Tenant) -> None:
    """/metrics's own check: with HUBSYNC_METRICS_TOKEN set, neither a Jira JWT nor a wrong token opens it."""
    assert client.get("/metrics").status_code == 200
    runtime = app.extensions[EXTENSION].runtime  # as Settings reads HUBSYNC_METRICS_TOKEN from the environment
    runtime.settings = dataclasses.replace(runtime.settings, metrics_token="the-scrapers-token-" + "m" * 20)
    for headers in ({}, jwt_header(hs256("GET", "/metrics")), {"Authorization": "Bearer " + SHARED_SECRET}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.json["error"]
    authorized = client.get("/metrics", headers={"Authorization": "Bearer the-scrapers-token-" + "m" * 20})
    assert authorized.status_code == 200
    assert tenant.id not in authorized.get_data(as_text=True)
