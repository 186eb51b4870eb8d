"""Every route of the app (found by walking `app.url_map`, as the auth sweep does, so a new route is fuzzed too)
with fuzzed bodies, query strings and headers: the answer is never a 500, every refusal is a JSON reason, and a
refused request queues nothing and changes nothing. Each door is fuzzed twice: by a stranger (garbage
credentials) and by a caller it trusts (a valid token or key), so that the body reaches its parser."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.adapters.securityhub import SecurityHubClient
from hubsync.adapters.store import Store
from hubsync.bootstrap import TenantClients
from hubsync.domain.tenant import Tenant
from hubsync.service.settings import rotate_events_api_key
from hubsync.service.sync import SyncContext
from hubsync.web.services import EXTENSION
from tests.unit.fuzz.strategies import (
    FUZZ,
    authorizations,
    bodies,
    content_types,
    header_safe,
    header_text,
    jwt_like,
    mostly_json,
    query_strings,
)
from tests.unit.web.jira_requests import (
    BASE_URL,
    CLIENT_KEY,
    USER_ACCOUNT_ID,
    NoProjects,
    RecordingQueue,
    context_token,
    hs256,
    install_token,
    jwt_header,
    lifecycle_body,
)
from tests.unit.web.test_web_auth_sweep import EVENTS_PREFIX, FORGE_PREFIX, PUBLIC, SIGNED_INSTALL, _routes

WEBHOOK = {"webhookEvent": "jira:issue_updated", "timestamp": 1767225600000,
           "issue": {"id": "10007", "key": "SEC-7", "properties": [
               {"key": "hubsync.finding", "value": {"id": "f-1", "productArn": "arn:aws:securityhub:x", "key": "SEC-7"}}
           ]},
           "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5"}}
POST_FUNCTION = {"issue": {"id": "10007", "key": "SEC-7"}, "transition": {"to_status": "Done"}}
SETTINGS = {"aws": {"roleArn": "arn:aws:iam::111122223333:role/hubsync", "aggregationRegion": "eu-west-1"},
            "policy": {"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL",
                                                         "account_ids": ["111122223333"]}]}}
EVENT = {"version": "0", "id": "0b0a5f0e-0000-4000-8000-000000000001", "source": "aws.securityhub",
         "detail-type": "Security Hub Findings - Imported", "account": "111122223333",
         "detail": {"findings": [{"Id": "f-1", "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/x",
                                  "Severity": {"Label": "HIGH", "Normalized": 70}}]}}
CUSTOM_ACTION = {**EVENT, "detail-type": "Security Hub Findings - Custom Action",
                 "detail": {**EVENT["detail"], "actionName": "Send to Jira"}}
EVENT_V2 = {**EVENT, "detail-type": "Findings Imported V2", "resources": ["ab" * 32], "detail": {"findings": [
    {"severity_id": 4, "severity": "High", "comment": "#jira", "metadata": {
        "uid": "ab" * 32, "product": {"uid": "arn:aws:securityhub:eu-west-1::productv2/aws/guardduty"}}}]}}
SAFE_QUERY = st.dictionaries(st.sampled_from(["issueKey", "surface", "x"]),
                             st.text(alphabet=string.ascii_letters + string.digits + "-", max_size=12), max_size=2)
EVENT_ID_COLUMN = 255
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])


def _state(store: Store, queue: RecordingQueue) -> tuple:
    with store.engine.connect() as connection:
        tables = tuple(tuple(connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all())
                       for table in ("tenants", "links", "audit"))
    return tables, len(queue.hints)


def _send(client: FlaskClient, method: str, target: str, body: bytes, headers: dict[str, Any]) -> Any:
    headers = {name: value for name, value in headers.items() if value is not None}
    content_type = headers.pop("Content-Type", None)
    return client.open(target, method=method, data=body, headers=headers, content_type=content_type)


def _check(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    if response.status_code >= 400:
        assert response.is_json, f"{what}: {response.status_code} is not JSON"
        assert isinstance(response.json.get("error"), str) and response.json["error"], f"{what}: no reason"


def _check_refusal_changed_nothing(response: Any, before: tuple, store: Store, queue: RecordingQueue,
                                   what: str) -> None:
    _check(response, what)
    if response.status_code >= 400:
        assert _state(store, queue) == before, f"{what}: refused with {response.status_code}, yet changed state"
    for hint in queue.hints[before[1]:]:  # what the queue's database column holds
        assert hint.event_id is None or len(hint.event_id) <= EVENT_ID_COLUMN, f"{what}: event id {hint.event_id!r}"


def _admin_jira(app: Flask) -> None:
    """The settings routes ask Jira whether the token's user is an administrator: here everyone is."""

    class JiraOfAdmins:
        def is_site_admin(self, account_id: str) -> bool:
            return True

    class AdminsJira:  # the runtime's tenant clients, Jira's replaced; the sync contexts stay the real ones
        def __init__(self, tenants: TenantClients) -> None:
            self._tenants = tenants

        def jira(self, tenant: Tenant) -> JiraOfAdmins:
            return JiraOfAdmins()

        def sync_context(self, tenant: Tenant) -> SyncContext:
            return self._tenants.sync_context(tenant)

        def securityhub(self, tenant: Tenant) -> SecurityHubClient:  # the rule preview: the real one
            return self._tenants.securityhub(tenant)

        def projects(self, tenant: Tenant) -> NoProjects:  # the pickers and the project check: nothing there
            return NoProjects()

    runtime = app.extensions[EXTENSION].runtime
    runtime.tenants = AdminsJira(runtime.tenants)  # type: ignore[assignment]


def _fill(rule_path: str, value: str) -> str:
    """The route's concrete path with its variable (when it has a free one) replaced by `value`."""
    return rule_path.replace("/x", "/" + quote(value, safe=""), 1) if value else rule_path


def test_every_route_is_fuzzed(app: Flask) -> None:
    """Guard against a fuzzing that silently reaches nothing."""
    rules = {rule for rule, _, _ in _routes(app)}
    assert {"/connect/webhooks/<any(issue_updated, issue_deleted):event>", "/connect/post-function",
            "/events/securityhub/<tenant_id>", "/api/v1/settings", "/connect/installed"} <= rules
    assert len(_routes(app)) >= 20


@FUZZ
@given(data=st.data(), method=METHODS, body=bodies(WEBHOOK, POST_FUNCTION, SETTINGS, EVENT, lifecycle_body("enabled")),
       query=query_strings, authorization=authorizations, content_type=content_types, other=header_text,
       variable=st.one_of(st.just(""), st.text(max_size=12)))
def test_a_stranger_gets_no_500_from_any_route(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, data: st.DataObject,
    method: str, body: bytes, query: str, authorization: str | None, content_type: str | None, other: str,
    variable: str,
) -> None:
    routes = _routes(app)
    rule, rule_method, path = data.draw(st.sampled_from(routes))
    method = data.draw(st.sampled_from([rule_method, method]))
    target = _fill(path, variable) + (f"?{quote(query, safe='=&')}" if query else "")
    headers = {"Authorization": authorization, "Content-Type": content_type, "X-Hubsync-Api-Key": other,
               "X-Atlassian-Webhook-Identifier": other}
    before = _state(store, queue)
    response = _send(client, method, target, body, headers)
    what = f"{method} {target}"
    _check(response, what)
    if rule not in PUBLIC and response.status_code >= 400:
        assert _state(store, queue) == before, f"{what}: refused, yet changed state"


@FUZZ
@given(data=st.data(), body=bodies(WEBHOOK, POST_FUNCTION, lifecycle_body("enabled"), lifecycle_body("disabled")),
       query=SAFE_QUERY, content_type=mostly_json, delivery=st.one_of(st.just(""), header_text))
def test_a_signed_request_from_jira_gets_no_500_whatever_its_body(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, data: st.DataObject,
    body: bytes, query: dict[str, str], content_type: str | None, delivery: str,
) -> None:
    routes = [route for route in _routes(app) if route[0] not in PUBLIC | SIGNED_INSTALL
              and not route[0].startswith((EVENTS_PREFIX, FORGE_PREFIX)) and not route[0].startswith("/api/")]
    _, method, path = data.draw(st.sampled_from(routes))
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    headers = {**jwt_header(hs256(method, target)), "Content-Type": content_type,
               "X-Atlassian-Webhook-Identifier": delivery}
    before = _state(store, queue)
    _check_refusal_changed_nothing(_send(client, method, target, body, headers), before, store, queue,
                                   f"{method} {target}")


@FUZZ
@given(data=st.data(), body=bodies(SETTINGS, {"revokePrevious": True}, {"aws": SETTINGS["aws"]}),
       query=SAFE_QUERY, content_type=mostly_json, claims=st.dictionaries(
           st.sampled_from(["sub", "context", "aud", "prn", "x"]), st.one_of(st.text(max_size=8), st.integers(),
                                                                            st.dictionaries(st.text(max_size=4),
                                                                                            st.text(max_size=4)))))
def test_the_iframe_api_gets_no_500_whatever_its_body_query_or_claims(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, data: st.DataObject,
    body: bytes, query: dict[str, str], content_type: str | None, claims: dict[str, Any],
) -> None:
    _admin_jira(app)
    routes = [route for route in _routes(app) if route[0].startswith("/api/")
              and route[0] != "/api/v1/settings/test-connection"]  # that one calls AWS: fuzzed in the parsers
    _, method, path = data.draw(st.sampled_from(routes))
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    headers = {**jwt_header(context_token(**{"sub": USER_ACCOUNT_ID, **claims})), "Content-Type": content_type}
    before = _state(store, queue)
    _check_refusal_changed_nothing(_send(client, method, target, body, headers), before, store, queue,
                                   f"{method} {target}")


@FUZZ
@given(body=bodies(EVENT, [EVENT, CUSTOM_ACTION, EVENT_V2], CUSTOM_ACTION, EVENT_V2), content_type=mostly_json,
       chunked=st.sampled_from([False, False, False, True]))
def test_the_intake_gets_no_500_whatever_its_body(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, body: bytes,
    content_type: str | None, chunked: bool,
) -> None:
    key = _events_key(app, store, tenant)
    headers: dict[str, Any] = {"X-Hubsync-Api-Key": key, "Content-Type": content_type}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    before = _state(store, queue)
    response = _send(client, "POST", f"/events/securityhub/{tenant.id}", body, headers)
    _check_refusal_changed_nothing(response, before, store, queue, "intake")
    if response.status_code == 202:
        assert len(queue.hints) == before[1] + response.json["hints"]


@settings(FUZZ, max_examples=30)  # each example signs with RSA
@given(data=st.data(), body=bodies(lifecycle_body("installed"), lifecycle_body("uninstalled")),
       audience=st.one_of(st.none(), st.text(max_size=10), st.just(BASE_URL)), issuer=st.sampled_from(
           [CLIENT_KEY, "", "another-client"]))
def test_the_signed_install_callbacks_get_no_500_whatever_their_body(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, key_server: Any,
    data: st.DataObject, body: bytes, audience: str | None, issuer: str,
) -> None:
    path = data.draw(st.sampled_from(sorted(SIGNED_INSTALL)))
    token = install_token(key_server, path, client_key=issuer, audience=audience)
    before = _state(store, queue)
    response = _send(client, "POST", path, body, {**jwt_header(token), "Content-Type": "application/json"})
    _check_refusal_changed_nothing(response, before, store, queue, path)


@FUZZ
@given(token=jwt_like, where=st.sampled_from(["header", "query"]))
def test_jwt_garbage_gets_a_401_everywhere_jira_signs(
    app: Flask, client: FlaskClient, store: Store, queue: RecordingQueue, tenant: Tenant, token: str, where: str
) -> None:
    before = _state(store, queue)
    for rule, method, path in _routes(app):
        if rule in PUBLIC or rule.startswith((EVENTS_PREFIX, FORGE_PREFIX)):  # Forge's: test_web_forge_auth.py
            continue
        if where == "header":
            headers = {"Authorization": header_safe(f"JWT {token}")}
            response = client.open(path, method=method, json=WEBHOOK, headers=headers)
        else:
            response = client.open(f"{path}?jwt={quote(token, safe='')}", method=method, json=WEBHOOK)
        _check(response, f"{method} {path}")
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
    assert _state(store, queue) == before


_KEYS: dict[int, str] = {}


def _events_key(app: Flask, store: Store, tenant: Tenant) -> str:
    """The tenant's events API key, made once per app (every example of a test shares the app)."""
    if id(app) not in _KEYS:
        _KEYS[id(app)] = rotate_events_api_key(store, tenant.id, BASE_URL)["apiKey"]
    return _KEYS[id(app)]
