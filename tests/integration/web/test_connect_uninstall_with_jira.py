"""An uninstall, as the Jira Cloud simulator sends it over HTTP, revokes the site's shared secret: Jira's own
calls signed with it are refused until an admin installs hubsync again, which brings the same tenant back."""

from __future__ import annotations

import requests

from hubsync.domain.tenant import APP_KEY, TenantState
from hubsync_sandbox.jira.connect_jwt import sign_hs256
from tests.integration.web.test_connect_with_jira import Running, installed, running  # noqa: F401 (fixtures)


def _signed_post(hubsync_url: str, path: str, client_key: str, secret: str, body: dict) -> requests.Response:
    token = sign_hs256("POST", path, client_key, secret)
    return requests.post(f"{hubsync_url}{path}", json=body, headers={"Authorization": f"JWT {token}"}, timeout=10)


def test_after_jiras_uninstall_the_old_secret_opens_nothing_until_a_reinstall(installed: Running) -> None:  # noqa: F811
    app = installed.app()
    client_key, old_secret = app.client_key, app.shared_secret
    (before,) = installed.tenants()
    lifecycle = {"key": APP_KEY, "clientKey": client_key, "baseUrl": installed.jira_url}

    assert installed.control("POST", "uninstall", json={"appKey": APP_KEY}).json() == {"appStatus": 204}
    (uninstalled,) = installed.tenants()
    assert uninstalled.state is TenantState.UNINSTALLED and uninstalled.jira_secret is None

    enabled = _signed_post(installed.hubsync_url, "/connect/enabled", client_key, old_secret,
                           {**lifecycle, "eventType": "enabled"})
    webhook = _signed_post(installed.hubsync_url, "/connect/webhooks/issue_updated", client_key, old_secret, {})
    assert (enabled.status_code, webhook.status_code) == (401, 401)
    assert "uninstalled" in enabled.json()["error"]
    assert installed.tenants()[0].state is TenantState.UNINSTALLED

    assert installed.install().status_code == 200
    (after,) = installed.tenants()
    assert after.id == before.id and after.state is TenantState.ENABLED
    assert after.jira_secret == installed.app().shared_secret != old_secret
