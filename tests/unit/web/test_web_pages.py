"""The iframe pages: the shell gets the agreed variables, AP.js only from the tenant's own site, a clear answer
when the front end is not installed, and the front end's static files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from hubsync.config import CHECKOUT_ROOT
from hubsync.domain.tenant import Tenant
from tests.unit.web.jira_requests import BASE_URL, SECRET_KEY, hs256

SHELL = "{{ {'page': page, 'surface': surface, 'issue_key': issue_key, 'project_key': project_key, " \
    "'ap_js_url': ap_js_url, 'static_url': static_url, 'api_url': api_url, 'base_url': base_url} | tojson }}"


@pytest.fixture
def resources(tmp_path: Path) -> Path:
    """A resources dir with the real descriptor and a shell that prints what it was given."""
    shutil.copytree(CHECKOUT_ROOT / "connect-descriptor", tmp_path / "connect-descriptor")
    (tmp_path / "ui-templates" / "static").mkdir(parents=True)
    (tmp_path / "ui-templates" / "shell.html").write_text(SHELL)
    (tmp_path / "ui-templates" / "static" / "app.js").write_text("console.log('hubsync');")
    return tmp_path


@pytest.fixture
def environ(resources: Path) -> dict[str, str]:
    return {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY, "HUBSYNC_RESOURCES_DIR": str(resources)}


def _signed(target: str) -> str:
    return f"{target}&jwt={hs256('GET', target)}"


def test_the_panel_renders_the_shell_with_the_agreed_variables(client: FlaskClient, tenant: Tenant) -> None:
    target = "/connect/panel?issueKey=SEC-7&projectKey=SEC&xdm_e=https%3A%2F%2Facme.atlassian.net&cp=&lic=none"
    response = client.get(_signed(target))
    assert response.status_code == 200, response.data
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert f"script-src 'self' {BASE_URL} https://acme.atlassian.net;" in response.headers["Content-Security-Policy"]
    assert json.loads(response.data) == {
        "page": "panel",
        "surface": "panel",
        "issue_key": "SEC-7",
        "project_key": "SEC",
        "ap_js_url": "https://acme.atlassian.net/atlassian-connect/all.js",
        "static_url": f"{BASE_URL}/static/ui",
        "api_url": f"{BASE_URL}/api/v1",
        "base_url": BASE_URL,
    }


def test_the_glance_is_the_panel_on_another_surface(client: FlaskClient, tenant: Tenant) -> None:
    response = client.get(_signed("/connect/panel?issueKey=SEC-7&projectKey=SEC&surface=glance"))
    assert json.loads(response.data)["surface"] == "glance"


def test_the_configure_page_renders_the_shell(client: FlaskClient, tenant: Tenant) -> None:
    response = client.get(_signed("/connect/configure?xdm_e=https%3A%2F%2Facme.atlassian.net&cp=%2Fjira"))
    assert response.status_code == 200
    shown = json.loads(response.data)
    assert (shown["page"], shown["issue_key"]) == ("configure", None)
    assert shown["ap_js_url"] == "https://acme.atlassian.net/jira/atlassian-connect/all.js"
    assert "script-src 'self' https://hubsync.example.com https://acme.atlassian.net;" in (
        response.headers["Content-Security-Policy"])  # an origin: the context path is no part of it


@pytest.mark.parametrize(
    "query",
    ["xdm_e=https%3A%2F%2Fevil.example", "cp=%2F%2Fevil.example", "cp=javascript%3Aalert(1)"],
)
def test_ap_js_comes_only_from_the_tenants_site(client: FlaskClient, tenant: Tenant, query: str) -> None:
    response = client.get(_signed(f"/connect/configure?{query}"))
    assert response.status_code == 400
    assert "error" in response.json


def test_a_panel_without_an_issue_key_is_400(client: FlaskClient, tenant: Tenant) -> None:
    response = client.get(_signed("/connect/panel?issueKey=%3Cscript%3E&projectKey=SEC"))
    assert response.status_code == 400
    assert "issueKey" in response.json["error"]


def test_without_the_shell_the_pages_say_the_front_end_is_missing(client, tenant: Tenant, resources: Path) -> None:
    (resources / "ui-templates" / "shell.html").unlink()
    response = client.get(_signed("/connect/configure?lic=none"))
    assert response.status_code == 503
    assert "shell.html" in response.json["error"]


def test_the_post_function_pages_render(client: FlaskClient, tenant: Tenant) -> None:
    for mode in ("create", "edit", "view"):
        response = client.get(_signed(f"/connect/post-function/{mode}?id=1"))
        assert response.status_code == 200
        assert b"https://acme.atlassian.net/atlassian-connect/all.js" in response.data
    assert b"/static/ui/post-function.js" in client.get(_signed("/connect/post-function/edit?id=1")).data
    assert b"/static/ui/post-function.js" not in client.get(_signed("/connect/post-function/view?id=1")).data


def test_static_files_of_the_front_end_are_served(client: FlaskClient) -> None:
    response = client.get("/static/ui/app.js")
    assert response.status_code == 200
    assert b"hubsync" in response.data
    assert client.get("/static/ui/../shell.html").status_code == 404
