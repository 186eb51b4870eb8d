"""Every Forge route and every route of the front end's API, found by walking `app.url_map`, refuses a Forge
invocation token that Forge did not sign for this app: 401 with a JSON reason, and no change to tenants, links,
audit or the queue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.web.forge_auth import FIT_LEEWAY_S
from tests.unit.web.forge_requests import (
    FORGE_KEY,
    KID,
    OTHER_INSTALLATION,
    StaticForgeKeys,
    app_token,
    claims,
    fit,
    forge_headers,
    installed_event,
    issue_event,
    public_pem,
    rsa_key,
)
from tests.unit.web.jira_requests import RecordingQueue

OTHER_KEY = rsa_key()
NOW = time.time()


def _none_alg(body: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': KID})}.{part(body)}."


def _hs256_with_the_public_key(body: dict[str, Any]) -> str:
    """The classic confusion: the RSA public key (public, after all) used as an HMAC secret."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": KID}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    signature = hmac.new(public_pem(FORGE_KEY), header + b"." + payload, hashlib.sha256).digest()
    return f"{header.decode()}.{payload.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


Case = Callable[[], dict[str, str]]
CASES: dict[str, Case] = {
    "unsigned": lambda: {},
    "connect-jwt-instead": lambda: {"Authorization": "JWT " + jwt.encode({"iss": "x"}, "s" * 40, "HS256")},
    "forged": lambda: forge_headers(fit(OTHER_KEY, claims())),
    "wrong-audience": lambda: forge_headers(fit(FORGE_KEY, claims(aud="ari:cloud:ecosystem::app/00000000-0000-"
                                                                  "4000-8000-000000000000"))),
    "wrong-issuer": lambda: forge_headers(fit(FORGE_KEY, claims(iss="connect"))),
    "expired": lambda: forge_headers(fit(FORGE_KEY, claims(now=NOW - 600 - FIT_LEEWAY_S))),
    "not-yet-valid": lambda: forge_headers(fit(FORGE_KEY, claims(now=NOW + 600 + FIT_LEEWAY_S))),
    "alg-none": lambda: forge_headers(_none_alg(claims())),
    "hs256-with-the-public-key": lambda: forge_headers(_hs256_with_the_public_key(claims())),
    "unknown-kid": lambda: forge_headers(fit(FORGE_KEY, claims(), kid="forge/invocation-token/unknown")),
    "isolated-cloud": lambda: forge_headers(fit(FORGE_KEY, claims(icLabel="gov-1"))),
    "no-jti": lambda: forge_headers(fit(FORGE_KEY, {k: v for k, v in claims().items() if k != "jti"})),
    "no-installation": lambda: forge_headers(fit(FORGE_KEY, {**claims(), "app": {"id": "x"}})),
}


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/forge/", "/api/v1/")):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.rule, method, rule.rule))
    return found


def _state(store: Store, queue: RecordingQueue) -> tuple:
    with store.engine.connect() as connection:
        tables = tuple(
            tuple(connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all())
            for table in ("tenants", "links", "audit")
        )
    return tables, tuple(queue.hints)


BODY = {**issue_event(), **installed_event(), "eventType": "avi:jira:updated:issue"}


def test_the_sweep_sees_every_forge_route_and_the_api(forge_app: Flask) -> None:
    rules = {rule for rule, _, _ in _routes(forge_app)}
    assert {"/forge/lifecycle", "/forge/events", "/forge/post-function", "/forge/scheduled",
            "/forge/pre-uninstall", "/api/v1/panel", "/api/v1/settings"} <= rules


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_forge_route_refuses_what_forge_did_not_sign(
    forge_app: Flask, forge: FlaskClient, store: Store, queue: RecordingQueue,
    installed: Any, case: str,
) -> None:
    before = _state(store, queue)
    for rule, method, path in _routes(forge_app):
        if case == "connect-jwt-instead" and rule.startswith("/api/v1/"):
            continue  # the API takes Connect's tokens too: its own sweep checks them
        response = forge.open(path + ("?issueKey=SEC-7" if rule == "/api/v1/panel" else ""), method=method,
                              json=BODY, headers={**CASES[case](), "x-forge-oauth-system": app_token(marker=case)})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} to {case}"
        assert response.is_json and response.json["error"], f"{method} {path}: no JSON reason"
    assert _state(store, queue) == before


def test_the_api_refuses_an_installation_it_does_not_know(
    forge_app: Flask, forge: FlaskClient, store: Store, queue: RecordingQueue, installed: Any,
) -> None:
    """A genuine token of another installation opens no page: a page opens only for a tenant its lifecycle,
    events or hourly trigger made, and never another installation's data."""
    before = _state(store, queue)
    token = fit(FORGE_KEY, claims(installation=OTHER_INSTALLATION, cloud_id="deadbeef-0000-4000-8000-000000000000",
                                  principal="5b10ac8d82e05b22", issue={"id": "10007", "key": "SEC-7"}))
    for rule, method, path in _routes(forge_app):
        if rule.startswith("/api/v1/"):
            response = forge.open(path + ("?issueKey=SEC-7" if rule == "/api/v1/panel" else ""), method=method,
                                  json={}, headers=forge_headers(token, app_token()))
            assert response.status_code == 401, f"{method} {path}"
    assert _state(store, queue) == before


def test_keys_that_cannot_be_fetched_are_a_503_and_change_nothing(
    forge_keys: StaticForgeKeys, forge: FlaskClient, store: Store, queue: RecordingQueue,
    installed: Any,
) -> None:
    before = _state(store, queue)
    forge_keys.reachable = False
    response = forge.post("/forge/events", json=issue_event(), headers=forge_headers(fit(FORGE_KEY, claims())))
    assert response.status_code == 503 and response.json["error"]  # Forge delivers again
    assert _state(store, queue) == before
