"""Connect's lifecycle callbacks: signed install (RS256) upserts the tenant by clientKey; uninstall voids its shared
secret (only a new signed install brings it back, settings and links kept); enabled/disabled (HS256) toggle it.
Anything unverifiable is a 401 and changes nothing."""

from __future__ import annotations

import dataclasses
import time

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantState
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from tests.unit.web.conftest import tenants
from tests.unit.web.jira_requests import (
    BASE_URL,
    CLIENT_KEY,
    JIRA_URL,
    SHARED_SECRET,
    context_token,
    hs256,
    install_token,
    jwt_header,
    lifecycle_body,
)

ROTATED_SECRET = "rotated-shared-secret-" + "z" * 40
ROLE_ARN = "arn:aws:iam::222233334444:role/hubsync-securityhub"


def _install(client: FlaskClient, keys: InstallKeyServer, body: dict | None = None, **token_args) -> object:
    token = install_token(keys, "/connect/installed", **token_args)
    return client.post("/connect/installed", json=body or lifecycle_body("installed"), headers=jwt_header(token))


def test_the_first_install_creates_a_connect_tenant(client: FlaskClient, key_server, store: Store) -> None:
    response = _install(client, key_server)
    assert response.status_code == 204, response.json
    (tenant,) = tenants(store)
    assert tenant.connect_client_key == CLIENT_KEY
    assert tenant.jira_base_url == JIRA_URL
    assert tenant.name == "acme.atlassian.net"
    assert tenant.jira_flavour is JiraFlavour.CLOUD
    assert tenant.auth_mode is AuthMode.CONNECT
    assert tenant.jira_secret == SHARED_SECRET
    assert tenant.external_id and tenant.enabled


def test_the_shared_secret_is_stored_encrypted(client: FlaskClient, key_server, store: Store) -> None:
    _install(client, key_server)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM tenants")).all()
    assert rows
    assert all(SHARED_SECRET not in str(value) for row in rows for value in row)


def test_a_reinstall_rotates_the_secret_of_the_same_tenant(client: FlaskClient, key_server, store: Store) -> None:
    _install(client, key_server)
    (before,) = tenants(store)
    body = lifecycle_body("installed", sharedSecret=ROTATED_SECRET)
    assert _install(client, key_server, body).status_code == 204
    (after,) = tenants(store)
    assert after.id == before.id and after.external_id == before.external_id
    assert after.jira_secret == ROTATED_SECRET


def test_a_site_rename_updates_the_tenant(client: FlaskClient, key_server, store: Store) -> None:
    _install(client, key_server)
    body = lifecycle_body("installed", base_url="https://acme-security.atlassian.net")
    assert _install(client, key_server, body).status_code == 204
    (tenant,) = tenants(store)
    assert tenant.jira_base_url == "https://acme-security.atlassian.net"
    assert tenant.name == "acme-security.atlassian.net"


@pytest.mark.parametrize(
    ("token_args", "reason"),
    [
        ({"client_key": "another-client"}, "clientKey"),
        ({"audience": ["https://someone-else.example.com"]}, "audience"),
        ({"now": time.time() - 3600}, "expired"),
        ({"qsh": "0" * 64}, "qsh"),
    ],
    ids=["iss-not-clientKey", "wrong-aud", "expired", "wrong-qsh"],
)
def test_an_install_token_that_does_not_fit_is_401(client, key_server, store: Store, token_args, reason) -> None:
    response = _install(client, key_server, **token_args)
    assert response.status_code == 401
    assert reason in response.json["error"]
    assert tenants(store) == []


def test_an_install_signed_by_another_key_is_401(client: FlaskClient, store: Store) -> None:
    stranger = InstallKeyServer()  # a key pair the key server does not know (its kid is unknown)
    response = _install(client, stranger)
    assert response.status_code == 401
    assert "no key" in response.json["error"]
    assert tenants(store) == []


def test_an_install_with_a_known_kid_but_another_signature_is_401(client, key_server, store: Store) -> None:
    stranger = InstallKeyServer()
    stranger.kid = key_server.kid  # claims the real key's id
    assert _install(client, stranger).status_code == 401
    assert tenants(store) == []


def test_an_hs256_or_unsigned_install_is_401(client: FlaskClient, store: Store) -> None:
    body = lifecycle_body("installed")
    forged = hs256("POST", "/connect/installed", secret=SHARED_SECRET)
    assert client.post("/connect/installed", json=body, headers=jwt_header(forged)).status_code == 401
    assert client.post("/connect/installed", json=body).status_code == 401
    assert tenants(store) == []


def test_the_audience_may_carry_a_trailing_slash(client: FlaskClient, key_server, store: Store) -> None:
    assert _install(client, key_server, audience=[BASE_URL + "/"]).status_code == 204


def test_a_site_outside_the_allowed_hosts_cannot_install(client: FlaskClient, key_server, store: Store) -> None:
    body = lifecycle_body("installed", base_url="https://jira.evil.example")
    response = _install(client, key_server, body)
    assert response.status_code == 403
    assert "jira.evil.example" in response.json["error"]
    assert tenants(store) == []


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"sharedSecret": None}, "sharedSecret"),
        ({"baseUrl": "not a url"}, "baseUrl"),
        ({"clientKey": None}, "clientKey"),
    ],
)
def test_a_bad_install_body_is_400_with_the_fields(client, key_server, store: Store, change, detail) -> None:
    body = {k: v for k, v in {**lifecycle_body("installed"), **change}.items() if v is not None}
    response = _install(client, key_server, body)
    assert response.status_code == 400
    assert any(line.startswith(detail) for line in response.json["details"])
    assert tenants(store) == []


def test_another_apps_install_is_400(client: FlaskClient, key_server, store: Store) -> None:
    body = lifecycle_body("installed", key="com.example.other-app")
    assert _install(client, key_server, body).status_code == 400
    assert tenants(store) == []


def _uninstall(client: FlaskClient, keys: InstallKeyServer) -> object:
    token = install_token(keys, "/connect/uninstalled")
    return client.post("/connect/uninstalled", json=lifecycle_body("uninstalled"), headers=jwt_header(token))


def _lifecycle(client: FlaskClient, event: str, secret: str = SHARED_SECRET) -> object:
    token = hs256("POST", f"/connect/{event}", secret=secret)
    return client.post(f"/connect/{event}", json=lifecycle_body(event), headers=jwt_header(token))


def test_uninstall_voids_the_shared_secret_and_keeps_the_data(client, key_server, store: Store) -> None:
    _install(client, key_server)
    (installed,) = tenants(store)
    assert _uninstall(client, key_server).status_code == 204
    (uninstalled,) = tenants(store)
    assert uninstalled.id == installed.id and uninstalled.external_id == installed.external_id
    assert uninstalled.state is TenantState.UNINSTALLED and not uninstalled.enabled
    assert uninstalled.jira_secret is None
    with store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT jira_secret_encrypted FROM tenants")).scalar_one()
    assert stored is None


def test_enabled_signed_with_the_secret_of_an_uninstalled_site_is_refused(client, key_server, store: Store) -> None:
    _install(client, key_server)
    _uninstall(client, key_server)
    response = _lifecycle(client, "enabled")
    assert response.status_code == 401
    assert "uninstalled" in response.json["error"]
    (tenant,) = tenants(store)
    assert tenant.state is TenantState.UNINSTALLED and not tenant.enabled


def test_disabled_after_uninstalled_is_refused_and_the_site_stays_uninstalled(client, key_server, store) -> None:
    _install(client, key_server)
    _uninstall(client, key_server)
    assert _lifecycle(client, "disabled").status_code == 401
    assert tenants(store)[0].state is TenantState.UNINSTALLED


def test_uninstalled_after_disabled_uninstalls(client, key_server, store: Store) -> None:
    _install(client, key_server)
    assert _lifecycle(client, "disabled").status_code == 204
    assert tenants(store)[0].state is TenantState.DISABLED
    assert _uninstall(client, key_server).status_code == 204
    assert tenants(store)[0].state is TenantState.UNINSTALLED
    assert _uninstall(client, key_server).status_code == 204  # a redelivery changes nothing
    assert tenants(store)[0].state is TenantState.UNINSTALLED


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/connect/webhooks/issue_updated"),
        ("POST", "/connect/post-function"),
        ("GET", "/connect/panel?issueKey=SEC-7&projectKey=SEC"),
        ("GET", "/connect/configure"),
    ],
)
def test_an_uninstalled_sites_old_secret_opens_nothing(client, key_server, store: Store, method, target) -> None:
    _install(client, key_server)
    _uninstall(client, key_server)
    response = client.open(target, method=method, json={} if method == "POST" else None,
                           headers=jwt_header(hs256(method, target)))
    assert response.status_code == 401
    assert "uninstalled" in response.json["error"]


def test_an_uninstalled_sites_context_token_opens_no_api(client, key_server, store: Store) -> None:
    _install(client, key_server)
    _uninstall(client, key_server)
    response = client.get("/api/v1/panel?issueKey=SEC-7", headers=jwt_header(context_token()))
    assert response.status_code == 401


def test_a_reinstall_after_uninstall_restores_settings_and_links(client, key_server, store: Store) -> None:
    _install(client, key_server)
    (installed,) = tenants(store)
    policy = {"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}
    identifier = FindingIdentifier("arn:aws:securityhub:eu-west-1:111122223333:finding/1",
                                   "arn:aws:securityhub:eu-west-1::product/aws/securityhub")
    saved = Link(identifier.key, identifier.id, identifier.product_arn, LinkState.LINKED, ticket_key="SEC-7")
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(installed, aws_role_arn=ROLE_ARN, aggregation_region="eu-west-1",
                                               policy=policy))
        uow.links.save(installed.id, saved)
    _uninstall(client, key_server)

    body = lifecycle_body("installed", sharedSecret=ROTATED_SECRET)
    assert _install(client, key_server, body).status_code == 204

    (reinstalled,) = tenants(store)
    assert reinstalled.id == installed.id and reinstalled.state is TenantState.ENABLED
    assert reinstalled.jira_secret == ROTATED_SECRET
    assert reinstalled.aws_role_arn == ROLE_ARN and reinstalled.policy == policy
    with store.read() as uow:
        assert uow.links.get(installed.id, identifier.key).ticket_key == "SEC-7"
    assert _lifecycle(client, "disabled").status_code == 401  # the secret from before the uninstall stays void
    assert _lifecycle(client, "disabled", secret=ROTATED_SECRET).status_code == 204


def test_disabled_is_not_uninstalled_and_keeps_the_secret(client: FlaskClient, tenant: Tenant, store: Store) -> None:
    assert _lifecycle(client, "disabled").status_code == 204
    (disabled,) = tenants(store)
    assert disabled.state is TenantState.DISABLED and disabled.jira_secret == SHARED_SECRET


def test_an_uninstall_signed_with_the_shared_secret_is_401(client: FlaskClient, tenant: Tenant, store: Store) -> None:
    token = hs256("POST", "/connect/uninstalled")
    response = client.post("/connect/uninstalled", json=lifecycle_body("uninstalled"), headers=jwt_header(token))
    assert response.status_code == 401
    assert tenants(store)[0].enabled


def test_disabled_and_enabled_toggle_the_tenant(client: FlaskClient, tenant: Tenant, store: Store) -> None:
    token = hs256("POST", "/connect/disabled")
    response = client.post("/connect/disabled", json=lifecycle_body("disabled"), headers=jwt_header(token))
    assert response.status_code == 204
    assert not tenants(store)[0].enabled
    token = hs256("POST", "/connect/enabled")
    response = client.post("/connect/enabled", json=lifecycle_body("enabled"), headers=jwt_header(token))
    assert response.status_code == 204
    assert tenants(store)[0].enabled


def test_enabled_with_a_forged_token_changes_nothing(client: FlaskClient, tenant: Tenant, store: Store) -> None:
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, enabled=False))
    token = hs256("POST", "/connect/enabled", secret="forged-" + "f" * 40)
    response = client.post("/connect/enabled", json=lifecycle_body("enabled"), headers=jwt_header(token))
    assert response.status_code == 401
    assert not tenants(store)[0].enabled


def test_enabled_for_another_client_key_in_the_body_is_401(client: FlaskClient, tenant: Tenant, store: Store) -> None:
    token = hs256("POST", "/connect/disabled")
    body = lifecycle_body("disabled", client_key="someone-else")
    assert client.post("/connect/disabled", json=body, headers=jwt_header(token)).status_code == 401
    assert tenants(store)[0].enabled

