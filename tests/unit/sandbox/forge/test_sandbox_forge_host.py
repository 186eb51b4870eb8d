"""Forge's host page for an app's Custom UI (forge/host.py): the resources the app was installed with, served with
the simulator's bridge.js put before everything else, the bridge's getContext and invoke answered for the frame's
module, issue and viewer, and the configure page that embeds the admin page's resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from hubsync_sandbox.forge import ForgeError, Installation
from hubsync_sandbox.forge.host import BRIDGE_SCRIPT, configure_page_path, frame_url, issue_modules
from hubsync_sandbox.jira.model import User
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import manifest

INDEX = """<!doctype html>
<html lang="en" data-platform="forge">
<head>
  <meta charset="utf-8">
  <title>Test</title>
</head>
<body><main id="app"></main><script type="module" src="./app.js"></script></body>
</html>
"""


@pytest.fixture
def resources(tmp_path: Path) -> Path:
    for name in ("panel", "admin"):
        directory = tmp_path / "static" / name
        directory.mkdir(parents=True)
        (directory / "index.html").write_text(INDEX, encoding="utf-8")
        (directory / "app.js").write_text(f"export const page = {name!r};\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def with_ui(forge_site: ForgeSite, resources: Path) -> Installation:
    installation = forge_site.install(resources=resources)
    forge_site.settle()
    forge_site.remote.received.clear()
    return installation


def get(forge_site: ForgeSite, path: str) -> requests.Response:
    return requests.get(forge_site.url + path, timeout=10)


def bridge(forge_site: ForgeSite, frame: dict[str, Any], name: str, payload: Any = None) -> requests.Response:
    return requests.post(f"{forge_site.url}/_sandbox/forge/bridge", json={"frame": frame, "name": name,
                                                                        "payload": payload}, timeout=10)


def test_the_resources_are_served_with_the_bridge_loaded_first_under_forges_csp(
    forge_site: ForgeSite, with_ui: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)
    [panel] = issue_modules(forge_site.forge, issue, alice)
    assert panel["module_key"] == "test-panel" and panel["kind"] == "panel"
    assert panel["src"] == frame_url(with_ui, "panel-ui", "test-panel", alice, issue)

    index = get(forge_site, panel["src"])
    assert index.status_code == 200
    assert "script-src 'self'" in index.headers["Content-Security-Policy"]
    html = index.text
    assert html.index(f'<script src="{BRIDGE_SCRIPT}"></script>') < html.index('src="./app.js"')
    assert "<script>" not in html  # no inline script
    script = get(forge_site, panel["src"].replace("index.html?", "app.js?"))
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.text == "export const page = 'panel';\n"
    assert "globalThis.__bridge" in get(forge_site, BRIDGE_SCRIPT).text
    assert "forgeSandboxResize" in get(forge_site, "/_sandbox/forge/static/forge-host.js").text
    assert get(forge_site, "/_sandbox/forge/static/host.py").status_code == 404
    assert get(forge_site, panel["src"].replace("index.html?", "../admin/app.js?")).status_code == 404
    assert get(forge_site, panel["src"].replace("index.html?", "secret.txt?")).status_code == 404


def test_the_bridge_answers_get_context_and_invoke_for_the_frames_user_and_issue(
    forge_site: ForgeSite, with_ui: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)
    frame = {"moduleKey": "test-panel", "issueKey": issue.key, "as": "alice"}

    context = bridge(forge_site, frame, "getContext").json()
    assert context["accountId"] == alice.account_id
    assert context["moduleKey"] == "test-panel"
    assert context["extension"]["issue"]["key"] == issue.key
    assert context["environmentId"] == with_ui.environment_id

    forge_site.remote.handle("/api/v1/panel", lambda received: (200, {"seen": received.path}))
    answer = bridge(forge_site, frame, "invoke", {"path": "/api/v1/panel?issueKey=X", "method": "GET",
                                                  "headers": {"Accept": "application/json"},
                                                  "invokeType": "ui-remote-fetch"}).json()
    assert answer["success"] is True
    assert answer["payload"]["status"] == 200
    assert answer["payload"]["body"] == {"seen": "/api/v1/panel?issueKey=X"}
    [received] = forge_site.remote.calls("/api/v1/panel")
    assert received.claims["principal"] == alice.account_id
    assert received.claims["context"]["extension"]["issue"]["key"] == issue.key

    refused = bridge(forge_site, frame, "invoke", {"functionKey": "resolver", "invokeType": "ui-function"}).json()
    assert refused["success"] is False and "invokeRemote" in refused["error"]["message"]
    assert bridge(forge_site, frame, "navigate", {}).status_code == 400


def test_the_configure_page_embeds_the_admin_resource_for_administrators_only(
    forge_site: ForgeSite, with_ui: Installation
) -> None:
    page = get(forge_site, configure_page_path(with_ui))
    assert page.status_code == 200
    assert 'data-forge-module="test-configure"' in page.text
    assert "/admin-ui/index.html?moduleKey=test-configure" in page.text
    someone = next(user for user in forge_site.world.users if not user.site_admin and user.active)
    assert get(forge_site, f"{configure_page_path(with_ui)}?as={someone.name}").status_code == 403
    assert get(forge_site, "/jira/settings/apps/configure/nope/nope").status_code == 404


def test_without_resources_the_pages_say_so_and_missing_ones_are_refused(
    forge_site: ForgeSite, installed: Installation, alice: User, tmp_path: Path
) -> None:
    issue = forge_site.create(alice)
    [panel] = issue_modules(forge_site.forge, issue, alice)
    assert panel["src"] is None
    assert "was not given to the simulator" in get(forge_site, configure_page_path(installed)).text

    forge_site.forge.uninstall()
    forge_site.settle()
    with pytest.raises(ForgeError, match=r"panel-ui, admin-ui have no index\.html"):
        forge_site.forge.install(manifest(), remote_base_url=forge_site.remote.url, resources=tmp_path)
