"""The Jira simulator's app pages (`/plugins/servlet/ac/<app>/<module>`): the configure page embedded and signed
as Jira does it, and the context tokens its iframe gets."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from hubsync_sandbox.jira.connect_jwt import JwtRejected, verify_hs256
from tests.unit.sandbox.jira.connect_app import APP_KEY, PREFIX, ConnectApp, JiraSite, Servers

MODULES = {
    "configurePage": {"key": "settings", "name": {"value": "Findings settings"}, "url": "/configure"},
    "adminPages": [{"key": "admin", "name": {"value": "Findings admin"}, "url": "/configure?from=admin"}],
}


class _Frames(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.iframes: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))


@pytest.fixture
def app(servers: Servers, site: JiraSite) -> ConnectApp:
    installed = ConnectApp(servers, modules=MODULES)
    assert site.install(installed).status_code == 200
    return installed


@pytest.mark.parametrize(("module_key", "path"), [("settings", "/configure"), ("admin", "/configure")])
def test_an_app_page_embeds_the_module_signed_for_the_viewer(
    site: JiraSite, app: ConnectApp, module_key: str, path: str
) -> None:
    page = requests.get(f"{site.url}/plugins/servlet/ac/{APP_KEY}/{module_key}?as=ssecurity", timeout=10)
    assert page.status_code == 200
    [frame] = _Frames(page.text).iframes
    src = urlsplit(frame["src"] or "")
    assert src.path == PREFIX + path
    params = parse_qs(src.query)
    assert params["xdm_e"] == [site.url]
    assert frame["data-token-url"] == f"/_sandbox/connect/page-context-token?appKey={APP_KEY}&as=ssecurity"

    loaded = requests.get(frame["src"] or "", timeout=10)  # the app verifies the JWT and its qsh
    assert loaded.status_code == 200
    [received] = app.calls(path)
    assert received.rejected is None
    assert received.claims is not None
    admin = site.world.user_by_name("ssecurity")
    assert admin is not None
    assert received.claims["sub"] == admin.account_id


@pytest.mark.parametrize("module_key", ["settings", "admin"])
def test_configure_and_admin_pages_are_for_jira_administrators_only(
    site: JiraSite, app: ConnectApp, module_key: str
) -> None:
    page = requests.get(f"{site.url}/plugins/servlet/ac/{APP_KEY}/{module_key}?as=alice", timeout=10)

    assert page.status_code == 403
    assert "not a Jira administrator" in page.json()["error"]
    assert app.calls("/configure") == []


def test_the_page_context_token_is_a_context_token_without_an_issue(site: JiraSite, app: ConnectApp) -> None:
    token = site.control("GET", "page-context-token", params={"appKey": APP_KEY, "as": "alice"}).json()["token"]
    secret = (app.tenant or {})["sharedSecret"]
    claims = verify_hs256(token, lambda iss: secret, "GET", "/anything", allow_context_qsh=True)
    assert claims["qsh"] == "context-qsh"
    assert claims["context"] == {"jira": {}}
    with pytest.raises(JwtRejected, match="context JWT"):
        verify_hs256(token, lambda iss: secret, "GET", "/anything")


def test_an_unknown_page_module_or_app_is_a_404(site: JiraSite, app: ConnectApp) -> None:
    assert requests.get(f"{site.url}/plugins/servlet/ac/{APP_KEY}/nope", timeout=10).status_code == 404
    assert requests.get(f"{site.url}/plugins/servlet/ac/other.app/settings", timeout=10).status_code == 404


def test_a_disabled_app_shows_no_page(site: JiraSite, app: ConnectApp) -> None:
    site.control("POST", "disable", json={"appKey": APP_KEY})
    assert requests.get(f"{site.url}/plugins/servlet/ac/{APP_KEY}/settings", timeout=10).status_code == 409
