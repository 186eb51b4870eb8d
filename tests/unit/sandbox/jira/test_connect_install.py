"""Installing a Connect app on the Jira simulator: the install-key server, signed install, lifecycle."""

from __future__ import annotations

import jwt
import pytest
import requests

from tests.unit.sandbox.jira.connect_app import APP_KEY, ConnectApp, JiraSite, Servers


@pytest.fixture
def app(servers: Servers, site: JiraSite) -> ConnectApp:
    return ConnectApp(servers)


def test_key_server_serves_the_public_key_of_its_kid_only(site: JiraSite) -> None:
    found = requests.get(f"{site.keys_url}/{site.keys.kid}", timeout=5)
    assert found.status_code == 200
    assert found.text.startswith("-----BEGIN PUBLIC KEY-----")
    token = site.keys.sign({"iss": "someone"})
    assert jwt.get_unverified_header(token)["kid"] == site.keys.kid
    assert jwt.decode(token, found.text, algorithms=["RS256"]) == {"iss": "someone"}

    assert requests.get(f"{site.keys_url}/{'0' * 8}-0000-0000-0000-{'0' * 12}", timeout=5).status_code == 404


def test_install_sends_a_signed_installed_callback_and_stores_the_tenant(site: JiraSite, app: ConnectApp) -> None:
    answer = site.install(app)

    assert answer.status_code == 200, answer.text
    installed = app.calls("/connect/installed")
    assert len(installed) == 1
    assert installed[0].rejected is None  # RS256 against the key server, aud, iss, qsh all checked by the app
    assert installed[0].claims["aud"] == [app.base_url]
    assert installed[0].headers["Atlassian-Connect-Version"]
    tenant = app.tenant
    assert tenant is not None
    assert tenant["key"] == APP_KEY
    assert tenant["baseUrl"] == site.url
    assert tenant["productType"] == "jira"
    assert tenant["eventType"] == "installed"
    assert answer.json()["clientKey"] == tenant["clientKey"]
    stored = site.world.connect_apps[APP_KEY]
    assert (stored.client_key, stored.shared_secret, stored.base_url) == (
        tenant["clientKey"],
        tenant["sharedSecret"],
        app.base_url,
    )
    assert stored.enabled


def test_install_is_followed_by_an_enabled_callback_signed_with_the_new_secret(
    site: JiraSite, app: ConnectApp
) -> None:
    site.install(app)

    enabled = app.calls("/connect/enabled")
    assert [call.rejected for call in enabled] == [None]
    assert enabled[0].body["eventType"] == "enabled"
    assert "sharedSecret" not in enabled[0].body


@pytest.mark.parametrize("status", [401, 500, 302])
def test_an_app_that_does_not_accept_the_install_is_not_installed(
    site: JiraSite, app: ConnectApp, status: int
) -> None:
    app.answer("/connect/installed", status)

    answer = site.install(app)

    assert answer.status_code == 502
    assert answer.json()["appStatus"] == status
    assert str(status) in answer.json()["error"]
    assert site.world.connect_apps == {}
    assert app.calls("/connect/enabled") == []


def test_an_unreachable_app_is_not_installed(site: JiraSite, app: ConnectApp) -> None:
    app.overrides["baseUrl"] = "http://127.0.0.1:9/nothing-listens-here"

    answer = site.install(app)

    assert answer.status_code == 502
    assert answer.json()["appStatus"] is None
    assert site.world.connect_apps == {}


def test_reinstall_keeps_the_client_key_and_rotates_the_shared_secret(site: JiraSite, app: ConnectApp) -> None:
    site.install(app)
    first = dict(app.tenant or {})

    assert site.install(app).status_code == 200

    second = app.tenant or {}
    assert second["clientKey"] == first["clientKey"]
    assert second["sharedSecret"] != first["sharedSecret"]
    assert site.world.connect_apps[APP_KEY].shared_secret == second["sharedSecret"]


def test_a_failed_reinstall_leaves_the_installed_app_as_it_was(site: JiraSite, app: ConnectApp) -> None:
    site.install(app)
    before = site.world.connect_apps[APP_KEY]
    app.answer("/connect/installed", 401)

    assert site.install(app).status_code == 502

    assert site.world.connect_apps[APP_KEY] is before


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"key": None}, "key"),
        ({"key": "spaces are not allowed"}, "key"),
        ({"baseUrl": "ftp://app.example.com"}, "baseUrl"),
        ({"authentication": {"type": "none"}}, "authentication"),
        ({"authentication": None}, "authentication"),
        ({"lifecycle": {"uninstalled": "/connect/uninstalled"}}, "lifecycle.installed"),
        ({"modules": {"webhooks": [{"event": "jira:issue_created"}]}}, "modules.webhooks[0].url"),
        (
            {"modules": {"webhooks": [{"event": "jira:issue_created", "url": "/h", "filter": "project = = SEC"}]}},
            "modules.webhooks[0].filter",
        ),
    ],
)
def test_an_invalid_descriptor_is_refused_with_a_clear_400(
    site: JiraSite, app: ConnectApp, overrides: dict, complaint: str
) -> None:
    app.overrides.update(overrides)

    answer = site.install(app)

    assert answer.status_code == 400
    assert complaint in answer.json()["error"]
    assert app.calls("/connect/") == []
    assert site.world.connect_apps == {}


def test_a_descriptor_that_cannot_be_fetched_is_refused(site: JiraSite, app: ConnectApp) -> None:
    answer = site.control("POST", "install", json={"descriptorUrl": f"{app.base_url}/no-such-descriptor.json"})

    assert answer.status_code == 400
    assert "descriptor" in answer.json()["error"]


def test_disable_and_enable_notify_the_app_with_its_shared_secret(site: JiraSite, app: ConnectApp) -> None:
    site.install(app)
    app.received.clear()

    disabled = site.control("POST", "disable", json={"appKey": APP_KEY})
    assert disabled.json() == {"appStatus": 204}
    assert not site.world.connect_apps[APP_KEY].enabled
    enabled = site.control("POST", "enable", json={"appKey": APP_KEY})
    assert enabled.json() == {"appStatus": 204}
    assert site.world.connect_apps[APP_KEY].enabled

    client_key = app.tenant["clientKey"]
    assert [(c.path, c.body["eventType"], c.rejected, c.claims["iss"]) for c in app.calls("/")] == [
        ("/connect/disabled", "disabled", None, client_key),
        ("/connect/enabled", "enabled", None, client_key),
    ]


def test_uninstall_sends_a_signed_uninstalled_callback_and_forgets_the_app(site: JiraSite, app: ConnectApp) -> None:
    site.install(app)

    answer = site.control("POST", "uninstall", json={"appKey": APP_KEY})

    assert answer.json() == {"appStatus": 204}
    [uninstalled] = app.calls("/connect/uninstalled")
    assert uninstalled.rejected is None
    assert uninstalled.body["eventType"] == "uninstalled"
    assert site.world.connect_apps == {}
    assert site.control("GET", "apps").json() == []


def test_lifecycle_of_an_app_that_is_not_installed_is_a_404(site: JiraSite) -> None:
    for action in ("uninstall", "enable", "disable"):
        answer = site.control("POST", action, json={"appKey": "com.example.absent"})
        assert answer.status_code == 404, action


def test_installed_apps_are_listed_without_their_secret(site: JiraSite, app: ConnectApp) -> None:
    site.install(app)

    [listed] = site.control("GET", "apps").json()

    assert listed == {"key": APP_KEY, "clientKey": app.tenant["clientKey"], "baseUrl": app.base_url, "enabled": True}
