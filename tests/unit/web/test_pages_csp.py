"""Every HTML page hubsync serves carries one Content-Security-Policy: scripts only from files (none inline), no
plugins, no `<base>`, and framed only by the verified tenant's Jira site (by nothing when no tenant is proven)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from hubsync.config import CHECKOUT_ROOT
from hubsync.domain.tenant import Tenant
from tests.unit.web.jira_requests import BASE_URL, JIRA_URL, SECRET_KEY, hs256

PAGES = [
    "/connect/panel?issueKey=SEC-7&projectKey=SEC",
    "/connect/panel?issueKey=SEC-7&projectKey=SEC&surface=glance",
    "/connect/configure?lic=none",
    "/connect/post-function/create?id=1",
    "/connect/post-function/edit?id=1",
    "/connect/post-function/view?id=1",
]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


@pytest.fixture
def environ() -> dict[str, str]:
    """The real front end (ui-templates/) of the checkout."""
    return {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY, "HUBSYNC_RESOURCES_DIR": str(CHECKOUT_ROOT)}


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        assert name not in parsed, f"{name} twice in {policy}"
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize("target", PAGES)
def test_every_page_has_a_policy_framed_only_by_the_tenants_site(
    client: FlaskClient, tenant: Tenant, target: str
) -> None:
    response = client.get(f"{target}&jwt={hs256('GET', target)}")

    assert response.status_code == 200, response.data
    assert response.mimetype == "text/html"
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == [JIRA_URL]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "default-src" in policy
    assert policy["script-src"] == ["'self'", BASE_URL, JIRA_URL]  # hubsync's files and the site's AP.js
    for sources in policy.values():
        assert not {"'unsafe-eval'", "*", "data:", "https:", "http:"} & set(sources)
    assert "'unsafe-inline'" not in policy["script-src"] + policy["default-src"]


@pytest.mark.parametrize("target", PAGES)
def test_no_page_has_an_inline_script(client: FlaskClient, tenant: Tenant, target: str) -> None:
    html = client.get(f"{target}&jwt={hs256('GET', target)}").get_data(as_text=True)

    assert "<script" in html  # AP.js and the front end, from files
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)


def test_the_post_function_page_saves_its_configuration_from_a_file(client: FlaskClient, tenant: Tenant) -> None:
    target = "/connect/post-function/edit?id=1"
    html = client.get(f"{target}&jwt={hs256('GET', target)}").get_data(as_text=True)

    script = re.search(r'<script src="([^"]+/post-function\.js)"', html)
    assert script is not None, html
    served = client.get(script[1].removeprefix(BASE_URL))
    assert served.status_code == 200
    # the file hands the configuration to the transport, which registers it with AP.js from a served file too
    assert b'import("./transport.js")' in served.data and b"onSaveConfiguration(" in served.data
    transport = client.get(script[1].removeprefix(BASE_URL).replace("post-function.js", "transport.js"))
    assert transport.status_code == 200
    assert b"window.AP.jira.WorkflowConfiguration.onSave(configuration)" in transport.data


def test_an_answer_without_a_verified_tenant_may_be_framed_by_nobody(client: FlaskClient) -> None:
    response = client.get("/connect/configure?lic=none", headers={"Accept": "text/html"})

    assert response.status_code == 401
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
