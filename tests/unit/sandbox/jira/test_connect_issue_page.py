"""The Jira simulator's issue page: the issue, its transitions, and the app iframes Jira embeds and signs."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from hubsync_sandbox.jira import adf
from hubsync_sandbox.jira.connect_jwt import JwtRejected, verify_hs256
from hubsync_sandbox.jira.model import Issue, User
from tests.unit.sandbox.jira.connect_app import APP_KEY, ConnectApp, JiraSite, Servers

MODULES = {
    "webPanels": [
        {
            "key": "finding-panel",
            "name": {"value": "Security Hub finding"},
            "location": "atl.jira.view.issue.right.context",
            "url": "/panel?issue={issue.key}&project={project.key}",
        },
        {"key": "elsewhere", "name": {"value": "Not on the issue view"}, "location": "atl.general", "url": "/other"},
    ],
    "jiraIssueGlances": [
        {
            "key": "finding-glance",
            "name": {"value": "Finding"},
            "icon": {"url": "/icon.svg", "width": 24, "height": 24},
            "content": {"type": "label", "label": {"value": "Finding"}},
            "target": {"type": "web_panel", "url": "/glance/{issue.id}"},
        }
    ],
}
GLANCE_STATUS = f"com.atlassian.jira.issue:{APP_KEY}:finding-glance:status"


class _Page(HTMLParser):
    """The parts of the issue page a user looks at: iframes, transition buttons, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.iframes: list[dict[str, Any]] = []
        self.buttons: list[dict[str, Any]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))
        elif tag == "button":
            self.buttons.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(" ".join(data.split()))


@pytest.fixture
def app(servers: Servers, site: JiraSite) -> ConnectApp:
    running = ConnectApp(servers, modules=MODULES)
    assert site.install(running).status_code == 200
    return running


@pytest.fixture
def issue(site: JiraSite, alice: User) -> Issue:
    fields = {
        "project": {"key": "SEC"},
        "issuetype": {"name": "Task"},
        "summary": "S3 bucket allows public read",
        "description": adf.document("Block public access on the bucket."),
        "assignee": {"accountId": alice.account_id},
    }
    return site.world.create_issue(fields, alice)


def page(site: JiraSite, issue_key: str, **params: str) -> _Page:
    answer = requests.get(f"{site.url}/browse/{issue_key}", params=params, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    return _Page(answer.text)


def verify_iframe_src(app: ConnectApp, src: str) -> dict[str, Any]:
    """Verify an iframe URL as the app's page handler would: the `jwt` must cover the URL it arrived on."""
    assert src.startswith(app.base_url + "/")
    token = parse_qs(urlsplit(src).query)["jwt"][0]
    tenant = app.tenant or {}
    return verify_hs256(
        token,
        lambda iss: tenant["sharedSecret"] if iss == tenant["clientKey"] else None,
        "GET",
        src.removeprefix(app.base_url),
    )


def test_issue_page_shows_the_issue_and_the_transitions_from_its_status(site: JiraSite, issue: Issue) -> None:
    shown = page(site, issue.key)

    text = " ".join(shown.text)
    for expected in (issue.key, "S3 bucket allows public read", "Open", "Alice Developer", "Block public access"):
        assert expected in text
    transitions = {button["value"] for button in shown.buttons}
    assert transitions == {t.id for t in site.world.transitions(issue.key)}


def test_a_missing_issue_is_a_404(site: JiraSite) -> None:
    assert requests.get(f"{site.url}/browse/SEC-999", timeout=5).status_code == 404


def test_transition_button_moves_the_issue_as_the_signed_in_user(site: JiraSite, issue: Issue) -> None:
    answer = requests.post(
        f"{site.url}/browse/{issue.key}/transition",
        data={"transition": "81", "as": "bob"},
        allow_redirects=False,
        timeout=10,
    )

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/browse/{issue.key}?as=bob")
    assert site.world.get_issue(issue.key).status.name == "Allocated for fix"
    assert site.world.search_keys(f"key = {issue.key} AND status = 'Allocated for fix'") == [issue.key]


def test_a_refused_transition_is_shown_on_the_page(site: JiraSite, issue: Issue) -> None:
    answer = requests.post(
        f"{site.url}/browse/{issue.key}/transition", data={"transition": "81", "as": "vviewer"}, timeout=10
    )

    assert answer.status_code == 200
    assert "permission" in answer.text
    assert site.world.get_issue(issue.key).status.name == "Open"


def test_app_panel_and_glance_are_embedded_with_a_jwt_covering_their_url(
    site: JiraSite, app: ConnectApp, issue: Issue, alice: User
) -> None:
    frames = page(site, issue.key, **{"as": "alice"}).iframes

    assert [frame["title"] for frame in frames] == ["Security Hub finding", "Finding"]
    panel, glance = (frame["src"] for frame in frames)
    assert panel.startswith(f"{app.base_url}/panel?issue={issue.key}&project=SEC&")
    assert glance.startswith(f"{app.base_url}/glance/{issue.id}?")
    for src in (panel, glance):
        params = parse_qs(urlsplit(src).query, keep_blank_values=True)
        assert params["xdm_e"] == [site.url]
        assert params["cp"] == [""]
        assert params["xdm_deprecated_addon_key_do_not_use"] == [APP_KEY]
        assert {"xdm_c", "lic", "cv", "tz", "loc"} <= params.keys()
        claims = verify_iframe_src(app, src)
        assert claims["iss"] == app.tenant["clientKey"]
        assert claims["sub"] == alice.account_id
        assert claims["exp"] - claims["iat"] <= 600


def test_the_app_accepts_the_iframe_url_and_nothing_else(site: JiraSite, app: ConnectApp, issue: Issue) -> None:
    panel = page(site, issue.key).iframes[0]["src"]

    assert requests.get(panel, timeout=5).status_code == 200
    tampered = panel.replace(f"issue={issue.key}", "issue=SEC-999")
    assert requests.get(tampered, timeout=5).status_code == 401
    with pytest.raises(JwtRejected, match="qsh"):
        verify_iframe_src(app, tampered)


def test_the_default_viewer_is_the_project_lead(site: JiraSite, app: ConnectApp, issue: Issue) -> None:
    panel = page(site, issue.key).iframes[0]["src"]

    assert verify_iframe_src(app, panel)["sub"] == issue.project.lead.account_id


def test_glance_shows_its_status_property(site: JiraSite, app: ConnectApp, issue: Issue, alice: User) -> None:
    status = {"type": "lozenge", "value": {"label": "CRITICAL", "type": "removed"}}
    assert "CRITICAL" not in " ".join(page(site, issue.key).text)

    site.world.set_property(issue.key, GLANCE_STATUS, status, alice)

    assert "CRITICAL" in " ".join(page(site, issue.key).text)


def test_a_disabled_app_is_not_embedded(site: JiraSite, app: ConnectApp, issue: Issue) -> None:
    site.control("POST", "disable", json={"appKey": APP_KEY})

    assert page(site, issue.key).iframes == []


def test_context_token_is_only_good_where_context_qsh_is_allowed(
    site: JiraSite, app: ConnectApp, issue: Issue, alice: User
) -> None:
    answer = site.control("GET", "context-token", params={"appKey": APP_KEY, "issueKey": issue.key, "as": "alice"})
    assert answer.status_code == 200
    token = answer.json()["token"]
    tenant = app.tenant or {}

    def secret(iss: str) -> str | None:
        return tenant["sharedSecret"] if iss == tenant["clientKey"] else None

    claims = verify_hs256(token, secret, "GET", "/api/v1/finding?issue=SEC-1", allow_context_qsh=True)
    assert claims["qsh"] == "context-qsh"
    assert claims["sub"] == alice.account_id
    assert claims["context"]["jira"]["issue"] == {"id": issue.id, "key": issue.key, "issuetype": {"id": "10001"}}
    assert claims["context"]["jira"]["project"] == {"id": issue.project.id, "key": "SEC"}
    with pytest.raises(JwtRejected, match="context"):
        verify_hs256(token, secret, "GET", "/api/v1/finding?issue=SEC-1")


def test_context_token_needs_an_enabled_app_and_an_issue(site: JiraSite, app: ConnectApp, issue: Issue) -> None:
    def status(**params: str) -> int:
        return site.control("GET", "context-token", params=params).status_code

    assert status(appKey="com.example.absent", issueKey=issue.key) == 404
    assert status(appKey=APP_KEY, issueKey="SEC-999") == 404
    site.control("POST", "disable", json={"appKey": APP_KEY})
    assert status(appKey=APP_KEY, issueKey=issue.key) == 409


def test_the_page_loads_the_host_bridge_and_serves_the_ap_shim(site: JiraSite, app: ConnectApp, issue: Issue) -> None:
    html = requests.get(f"{site.url}/browse/{issue.key}", timeout=5).text
    host_script = next(line for line in html.splitlines() if "<script" in line).split('"')[1]

    host = requests.get(site.url + host_script, timeout=5)
    shim = requests.get(f"{site.url}/atlassian-connect/all.js", timeout=5)

    assert host.status_code == shim.status_code == 200
    assert "javascript" in shim.headers["Content-Type"]
    assert "window.AP" in shim.text
    assert "ap-call" in host.text
