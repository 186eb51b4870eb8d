"""The Forge Custom UI resources as `make forge-ui` built them, in Chromium, under a Content-Security-Policy as strict
as Forge's ('self' only, no inline script): the page stands in for Forge's host (the `__bridge` global its iframe
gets), and the real bundled @forge/bridge calls it. The panel asks for its issue with view.getContext() and reads
/api/v1 through invokeRemote; the configure page shows the API's error; the post function page registers its
configuration with workflowRules.onConfigure.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hubsync.config import CHECKOUT_ROOT
from hubsync.web.forge_manifest import BUILD_DIR, FORGE_DIR, RESOURCE_KEYS

BUILD = CHECKOUT_ROOT / FORGE_DIR / BUILD_DIR
ORIGIN = "https://forge-cdn.test"
FORGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
             "object-src 'none'; base-uri 'none'")
# Forge's host page, as far as the bridge needs it: getContext and invoke answered by the test, the post function's
# callback kept for the test to call; and every CSP violation reported.
HOST_SHIM = """
globalThis.__bridge = {
  callBridge: async (name, payload) => {
    if (name === "setWorkflowRuleConfigurationCallback") {
      globalThis.__onConfigure = payload.data.onConfigure;
      return true;
    }
    return JSON.parse(await globalThis.forgeHost(name, JSON.stringify(payload === undefined ? null : payload)));
  },
};
document.addEventListener("securitypolicyviolation",
  (event) => globalThis.cspViolation(`${event.violatedDirective} ${event.blockedURI}`));
"""


@pytest.fixture(scope="module")
def built() -> Path:
    if not (CHECKOUT_ROOT / "node_modules" / "@forge" / "bridge").is_dir():
        pytest.skip("node_modules is not installed (`make forge-ui` runs npm ci and builds the resources)")
    missing = [key for key in RESOURCE_KEYS if not (BUILD / key / "index.html").is_file()]
    if missing:
        pytest.fail(f"the Forge Custom UI resources are not built ({', '.join(missing)}): run `make forge-ui`")
    return BUILD


class ForgeHost:
    """What the test's Forge host was asked, and what it answers."""

    def __init__(self, context: dict[str, Any], answers: dict[str, dict[str, Any]]) -> None:
        self.context = context
        self.answers = answers  # by invokeRemote path
        self.invocations: list[dict[str, Any]] = []
        self.violations: list[str] = []

    def __call__(self, name: str, payload: str) -> str:
        if name == "getContext":
            return json.dumps(self.context)
        if name == "invoke":
            call = json.loads(payload)
            self.invocations.append(call)
            answer = self.answers.get(call["path"], {"status": 404, "headers": {}, "body": {"error": "no route"}})
            return json.dumps({"success": True, "payload": answer})
        return json.dumps(None)


@pytest.fixture
def forge_page(browser: Any, built: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(10_000)

    def serve(route: Any) -> None:
        path = urlsplit(route.request.url).path.lstrip("/")
        target = (built / path).resolve()
        if not target.is_relative_to(built.resolve()) or not target.is_file():
            route.fulfill(status=404, body="not found")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix in (".js", ".mjs"):
            content_type = "text/javascript"
        route.fulfill(status=200, body=target.read_bytes(),
                      headers={"Content-Type": content_type, "Content-Security-Policy": FORGE_CSP})

    context.route(f"{ORIGIN}/**", serve)
    context.route(lambda url: not url.startswith(ORIGIN), lambda route: route.abort())  # nothing from elsewhere
    page = context.new_page()
    yield page
    context.close()


def open_resource(page: Any, key: str, host: ForgeHost) -> None:
    page.expose_function("forgeHost", host)
    page.expose_function("cspViolation", lambda violation: host.violations.append(violation))
    page.add_init_script(HOST_SHIM)
    page.goto(f"{ORIGIN}/{key}/index.html")


def test_the_panel_reads_its_issue_through_invoke_remote(forge_page: Any) -> None:
    from playwright.sync_api import expect

    host = ForgeHost(
        {"extension": {"type": "jira:issuePanel", "issue": {"key": "SEC-7", "id": "10007"}, "project": {"key": "SEC"}}},
        {"/api/v1/panel?issueKey=SEC-7": {"status": 200, "headers": {"content-type": ["application/json"]}, "body": {
            "state": "no_finding", "message": "No Security Hub finding is linked to this issue.", "link": None,
            "timeline": [], "readAt": "2026-12-07T10:00:00Z"}}},
    )
    open_resource(forge_page, "panel", host)

    expect(forge_page.get_by_text("No Security Hub finding is linked to this issue.")).to_be_visible()
    assert host.invocations == [{"path": "/api/v1/panel?issueKey=SEC-7", "method": "GET",
                                 "headers": {"Accept": "application/json"}, "invokeType": "ui-remote-fetch"}]
    assert host.violations == []


def test_the_configure_page_shows_the_services_error(forge_page: Any) -> None:
    from playwright.sync_api import expect

    host = ForgeHost({"extension": {"type": "jira:adminPage"}},
                     {"/api/v1/settings": {"status": 403, "headers": {},
                                           "body": {"error": "hubsync is disabled on this Jira site"}}})
    open_resource(forge_page, "configure", host)

    expect(forge_page.get_by_role("alert")).to_have_text("hubsync is disabled on this Jira site")
    assert [call["path"] for call in host.invocations] == ["/api/v1/settings"]
    assert host.violations == []


def test_the_post_function_page_registers_its_configuration(forge_page: Any) -> None:
    host = ForgeHost({"extension": {"type": "jira:workflowPostFunction"}}, {})
    open_resource(forge_page, "post-function", host)

    forge_page.wait_for_function("typeof globalThis.__onConfigure === 'function'")
    assert forge_page.evaluate("globalThis.__onConfigure()") == "{}"
    assert host.invocations == []
    assert host.violations == []
