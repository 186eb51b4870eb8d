"""`verified_jira`: the one check of every request from Jira (HS256, exp, qsh of the request as received,
context tokens only where allowed, tenant known and enabled)."""

from __future__ import annotations

import dataclasses
import time

import jwt
import pytest
from flask import Blueprint, Flask, g, jsonify
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.domain.tenant import Tenant
from hubsync.web import create_app
from hubsync.web.jira_auth import JWT_LEEWAY_S, verified_jira
from tests.unit.web.jira_requests import (
    BASE_URL,
    CLIENT_KEY,
    SECRET_KEY,
    SHARED_SECRET,
    USER_ACCOUNT_ID,
    context_token,
    hs256,
    jwt_header,
)


def _probe_blueprint() -> Blueprint:
    bp = Blueprint("probe", __name__)

    @bp.route("/probe/page", methods=["GET", "POST"])
    @verified_jira()
    def page():  # type: ignore[no-untyped-def]
        return jsonify(tenant=g.tenant.id, claims=g.jira_claims)

    @bp.get("/api/v1/probe")
    @verified_jira(context_token=True)
    def api():  # type: ignore[no-untyped-def]
        return jsonify(tenant=g.tenant.id, claims=g.jira_claims)

    return bp


@pytest.fixture
def probe(app: Flask, tenant: Tenant) -> FlaskClient:
    app.register_blueprint(_probe_blueprint())
    return app.test_client()


def test_a_token_in_the_authorization_header_verifies_and_names_tenant_and_user(probe: FlaskClient, tenant: Tenant):
    token = hs256("GET", "/probe/page", claims={"sub": USER_ACCOUNT_ID})
    response = probe.get("/probe/page", headers=jwt_header(token))
    assert response.status_code == 200, response.json
    assert response.json["tenant"] == tenant.id
    assert response.json["claims"]["sub"] == USER_ACCOUNT_ID


def test_a_token_in_the_query_covers_every_other_parameter_as_received(probe: FlaskClient) -> None:
    target = "/probe/page?issueKey=SEC-7&xdm_e=https%3A%2F%2Facme.atlassian.net&cp=&lic=none&tz=Europe%2FLondon"
    token = hs256("GET", target)
    assert probe.get(f"{target}&jwt={token}").status_code == 200
    # the same token on a request whose query differs in any parameter is refused
    tampered = target.replace("SEC-7", "SEC-8")
    response = probe.get(f"{tampered}&jwt={token}")
    assert response.status_code == 401
    assert "qsh" in response.json["error"]


def test_the_qsh_covers_the_method(probe: FlaskClient) -> None:
    token = hs256("GET", "/probe/page")
    assert probe.post("/probe/page", headers=jwt_header(token)).status_code == 401


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: None, "no JWT"),
        (lambda: "not-a-jwt", "malformed"),
        (lambda: hs256("GET", "/probe/page", secret="a-forged-secret-" + "y" * 40), "signature"),
        (lambda: hs256("GET", "/probe/page", issuer="someone-else"), "issuer"),
        (lambda: hs256("GET", "/probe/page", now=time.time() - 180 - JWT_LEEWAY_S - 5), "expired"),
        (lambda: hs256("GET", "/probe/other"), "qsh"),
        (lambda: context_token(), "context"),
        (lambda: jwt.encode({"iss": "x", "qsh": "y", "exp": time.time() + 60}, key=None, algorithm="none"), "HS256"),
    ],
    ids=["unsigned", "malformed", "forged", "unknown-issuer", "expired", "wrong-qsh", "context-token", "alg-none"],
)
def test_unverifiable_requests_are_401_with_a_reason(probe: FlaskClient, make_token, reason: str) -> None:
    token = make_token()
    response = probe.get("/probe/page", headers=jwt_header(token) if token else {})
    assert response.status_code == 401
    assert reason in response.json["error"]


def test_a_token_without_qsh_is_refused(probe: FlaskClient) -> None:
    token = jwt.encode({"iss": CLIENT_KEY, "exp": int(time.time()) + 60}, SHARED_SECRET, algorithm="HS256")
    assert probe.get("/probe/page", headers=jwt_header(token)).status_code == 401


def test_clock_skew_within_the_leeway_is_tolerated(probe: FlaskClient) -> None:
    token = hs256("GET", "/probe/page", now=time.time() - 180 - JWT_LEEWAY_S + 5)
    assert probe.get("/probe/page", headers=jwt_header(token)).status_code == 200


def test_context_tokens_pass_only_where_the_route_allows_them(probe: FlaskClient) -> None:
    context = {"jira": {"issue": {"key": "SEC-7"}}}
    response = probe.get("/api/v1/probe", headers=jwt_header(context_token(context=context)))
    assert response.status_code == 200
    assert response.json["claims"]["context"] == context
    assert response.json["claims"]["sub"] == USER_ACCOUNT_ID
    # a real qsh passes there too
    assert probe.get("/api/v1/probe", headers=jwt_header(hs256("GET", "/api/v1/probe"))).status_code == 200


def test_a_disabled_tenant_is_403(probe: FlaskClient, store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, enabled=False))
    response = probe.get("/probe/page", headers=jwt_header(hs256("GET", "/probe/page")))
    assert response.status_code == 403
    assert "disabled" in response.json["error"]


def test_a_base_url_with_a_path_hashes_paths_relative_to_it(store: Store, queue, install_keys, tenant: Tenant) -> None:
    """Behind a proxy mounting hubsync under /hubsync, Jira's qsh covers the path after the base URL's path."""
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": f"{BASE_URL}/hubsync", "HUBSYNC_SECRET_KEY": SECRET_KEY})
    app = create_app(bootstrap(settings, store=store, queue=queue, install_keys=install_keys))
    app.register_blueprint(_probe_blueprint())
    client = app.test_client()
    token = hs256("GET", "/probe/page?a=1")
    mounted = client.get("/probe/page?a=1", base_url="http://internal/hubsync", headers=jwt_header(token))
    assert mounted.status_code == 200, mounted.json
