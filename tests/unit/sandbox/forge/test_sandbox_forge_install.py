"""Installing a Forge app from its manifest: the installed:app event, the FIT it carries, reinstall and upgrade."""

from __future__ import annotations

import re
import time

import jwt
import pytest
import requests

from hubsync_sandbox.forge import ForgeError
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import APP_ID

INSTALLATION_ARI = re.compile(r"^ari:cloud:ecosystem::installation/[0-9a-f-]{36}$")


def test_install_delivers_installed_app_to_the_lifecycle_trigger(forge_site: ForgeSite) -> None:
    installation = forge_site.install()

    [delivery] = forge_site.settle()
    assert (delivery["kind"], delivery["eventType"], delivery["moduleKey"]) == (
        "lifecycle", "avi:forge:installed:app", "lifecycle")
    assert (delivery["outcome"], delivery["status"], len(delivery["attempts"])) == ("delivered", 204, 1)
    assert delivery["url"] == f"{forge_site.remote.url}/forge/lifecycle"
    [received] = forge_site.remote.calls("/forge/lifecycle")
    assert received.rejected is None
    admin = next(user for user in forge_site.world.users if user.site_admin)
    assert received.body == {
        "eventType": "avi:forge:installed:app",
        "id": installation.installation_id,
        "installerAccountId": admin.account_id,
        "app": {"id": APP_ID, "version": "1.0.0"},
        "environment": {"id": installation.environment_id},
    }
    assert INSTALLATION_ARI.match(installation.installation_id)


def test_the_fit_verifies_with_the_jwks_and_carries_forges_claims(forge_site: ForgeSite) -> None:
    installation = forge_site.install()
    forge_site.settle()

    [received] = forge_site.remote.calls("/forge/lifecycle")
    token = (received.header("Authorization") or "").removeprefix("Bearer ")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    jwks = requests.get(forge_site.forge.jwks_url, timeout=5).json()
    assert header["kid"] in [key["kid"] for key in jwks["keys"]]
    assert all(key["kty"] == "RSA" and key["alg"] == "RS256" for key in jwks["keys"])
    claims = received.claims  # verified by the remote: signature, iss, aud, exp, iat, nbf, jti
    assert claims["iss"] == "forge/invocation-token"
    assert claims["aud"] == APP_ID
    assert claims["exp"] - claims["iat"] == 25
    assert claims["nbf"] <= time.time() + 1
    cloud_id = forge_site.world.cloud_id
    api_base_url = f"{forge_site.url}/ex/jira/{cloud_id}"
    assert claims["app"] == {
        "id": APP_ID,
        "appVersion": "1.0.0",
        "installationId": installation.installation_id,
        "apiBaseUrl": api_base_url,
        "environment": {"type": "DEVELOPMENT", "id": installation.environment_id},
        "module": {"type": "core:endpoint", "key": "lifecycle-ep"},
        "installation": {
            "id": installation.installation_id,
            "contexts": [{"name": f"ari:cloud:jira::site/{cloud_id}", "apiBaseUrl": api_base_url,
                          "cloudId": cloud_id}],
        },
    }
    assert "context" not in claims and "principal" not in claims  # only UI calls have a user and a context
    assert received.header("Content-Type") == "application/json"
    assert received.header("x-forge-oauth-system")
    assert received.header("x-forge-oauth-user") is None


def test_each_call_gets_its_own_fit(forge_site: ForgeSite) -> None:
    forge_site.install()
    forge_site.settle()
    forge_site.forge.fire_scheduled()
    forge_site.settle()

    first, second = forge_site.remote.received
    assert first.claims["jti"] != second.claims["jti"]


def test_a_reinstall_gets_a_new_installation_id_on_the_same_cloud_id(forge_site: ForgeSite) -> None:
    first = forge_site.install()
    forge_site.settle()
    with pytest.raises(ForgeError, match="already installed"):
        forge_site.install()

    forge_site.forge.uninstall()
    second = forge_site.install()
    forge_site.settle()

    assert second.installation_id != first.installation_id
    installed_events = [r for r in forge_site.remote.calls("/forge/lifecycle")]
    assert [r.body["id"] for r in installed_events] == [first.installation_id, second.installation_id]
    cloud_ids = {r.claims["app"]["installation"]["contexts"][0]["cloudId"] for r in installed_events}
    assert cloud_ids == {forge_site.world.cloud_id}
    assert second.app_user.account_id == first.app_user.account_id  # the app's user stays on the site


def test_an_upgrade_keeps_the_installation_and_delivers_upgraded_app(forge_site: ForgeSite) -> None:
    installation = forge_site.install()
    forge_site.forge.upgrade()

    forge_site.settle()
    upgraded = forge_site.remote.calls("/forge/lifecycle")[-1]
    assert upgraded.body["eventType"] == "avi:forge:upgraded:app"
    assert upgraded.body["id"] == installation.installation_id
    assert upgraded.body["app"]["version"] == "2.0.0"
    assert upgraded.claims["app"]["appVersion"] == "2.0.0"


def test_a_failed_installed_call_does_not_undo_the_install_and_is_retried(forge_site: ForgeSite) -> None:
    forge_site.remote.answer("/forge/lifecycle", 500)
    installation = forge_site.install()

    [delivery] = forge_site.settle()
    assert [a["status"] for a in delivery["attempts"]] == [500, 204]
    assert forge_site.forge.installation().installation_id == installation.installation_id
