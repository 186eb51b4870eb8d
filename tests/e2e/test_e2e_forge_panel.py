"""hubsync installed as a Forge app (Forge Remote) into the simulated Jira Cloud site, seen in Chromium: the issue page
and the configure page embed the Custom UI resources `make forge-ui` built, and the real @forge/bridge bundled in
them reaches hubsync through the simulator's host page (forge/host.py: `__bridge` answers getContext, and invoke by
calling hubsync with a Forge Invocation Token for the page's user and issue).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubsync.adapters.store import upgrade
from hubsync.bootstrap import build_sync_context, open_store
from hubsync.config import CHECKOUT_ROOT, Settings
from hubsync.domain.finding import WorkflowStatus
from hubsync.web.forge_manifest import BUILD_DIR, FORGE_DIR, RESOURCE_KEYS
from hubsync_sandbox.connected import installed_hubsync
from hubsync_sandbox.demo import demo_policy
from hubsync_sandbox.forge.host import configure_page_path
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import Sandbox
from tests.e2e.conftest import SECRET_KEY, Hubsync
from tests.fixtures.sandbox import SandboxContracts

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

BUILD = CHECKOUT_ROOT / FORGE_DIR / BUILD_DIR
SYNC_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def forge_hubsync(sandbox_contracts: SandboxContracts, browser: Any) -> Iterator[Hubsync]:
    missing = [key for key in RESOURCE_KEYS if not (BUILD / key / "index.html").is_file()]
    if missing:
        pytest.skip(f"the Forge Custom UI resources are not built ({', '.join(missing)}): run `make forge-ui`")
    scratch = tempfile.mkdtemp(prefix="hubsync-e2e-forge-")
    with Sandbox(wrap=sandbox_contracts.wrap) as sandbox, sandbox.exported():
        store = open_store(Settings.from_environment(
            {"HUBSYNC_DATABASE_URL": f"sqlite:///{Path(scratch) / 'hubsync.sqlite3'}",
             "HUBSYNC_SECRET_KEY": SECRET_KEY}
        ))
        try:
            upgrade(store.engine)
            default = sandbox.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
            assert default is not None
            with installed_hubsync(sandbox, store, demo_policy(default.account_id), platform="forge") as installed:
                assert installed.forge_installation is not None
                assert installed.forge_installation.resource_dirs, "installed without its Custom UI resources"
                yield Hubsync(installed, build_sync_context(installed.tenant, store))
        finally:
            store.dispose()
            shutil.rmtree(scratch, ignore_errors=True)


def panel_frame(page: Any) -> Any:
    return page.frame_locator('section.forge-panel[data-forge-module="hubsync-panel"] iframe')


def configure_url(hubsync: Hubsync) -> str:
    installation = hubsync.installed.forge_installation
    assert installation is not None
    return f"{hubsync.jira_url}{configure_page_path(installation)}?as=sofia.security@example.com"


def watch_bridge(page: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The bridge calls the page's frames made to the simulator, and the console's CSP complaints."""
    calls: list[dict[str, Any]] = []
    console: list[str] = []
    page.on("request", lambda r: calls.append(r.post_data_json) if r.url.endswith("/_sandbox/forge/bridge") else None)
    page.on("console", lambda message: console.append(message.text))
    return calls, console


def test_the_issue_page_shows_the_forge_panel_through_invoke_remote(
    forge_hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    [(finding, key)] = forge_hubsync.ticket_for(1)
    calls, console = watch_bridge(page)

    page.goto(forge_hubsync.issue_page(key))

    panel = panel_frame(page)
    expect(panel.get_by_role("heading", name=finding.title)).to_be_visible()
    expect(panel.locator('dd[data-field="workflow"]')).to_have_text("NOTIFIED")
    expect(panel.locator('dd[data-field="region"]')).to_have_text(finding.region)
    expect(panel.locator('dd[data-field="account"]')).to_contain_text(finding.account_id)
    # Sized to its content, as Forge sizes its iframes (bridge.js reports the height, forge-host.js applies it)
    frame = page.locator('section.forge-panel[data-forge-module="hubsync-panel"] iframe')
    expect(frame).not_to_have_attribute("style", "height: 240px;")
    # The issue context beside the fields: the status at a glance, without the details and the history
    context = page.frame_locator('details.forge-context[data-forge-module="hubsync-context"] iframe')
    expect(context.get_by_role("heading", name=finding.title)).to_be_visible()
    expect(context.locator(".hs-glance")).to_contain_text("NOTIFIED")
    expect(context.locator(".hs-history, dd[data-field='region']")).to_have_count(0)
    page.screenshot(path=str(artifacts / "forge-panel.png"), full_page=True)
    # The bundled @forge/bridge asked its host for the context, then called hubsync with invokeRemote
    panel_calls = [c for c in calls if c["frame"]["moduleKey"] == "hubsync-panel"]
    assert {c["name"] for c in panel_calls} >= {"getContext", "invoke"}
    invoke = next(c for c in panel_calls if c["name"] == "invoke")
    assert invoke["frame"]["issueKey"] == key
    assert invoke["payload"]["invokeType"] == "ui-remote-fetch"
    assert invoke["payload"]["path"] == f"/api/v1/panel?issueKey={key}"
    assert not [text for text in console if "Content Security Policy" in text], console


def test_approving_a_risk_suppresses_the_finding_and_the_forge_panel_shows_it(
    forge_hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    [(finding, key)] = forge_hubsync.ticket_for(1)
    page.goto(forge_hubsync.issue_page(key))
    expect(panel_frame(page).locator('dd[data-field="workflow"]')).to_have_text("NOTIFIED")

    page.get_by_role("button", name="Request risk acceptance").click()
    page.get_by_role("button", name="Approve risk").click()
    expect(page.locator(".transitions .lozenge").first).to_have_text("Risk approved")

    started = time.monotonic()
    while forge_hubsync.finding(finding).workflow_status is not WorkflowStatus.SUPPRESSED:
        assert time.monotonic() - started < SYNC_WITHIN_S, "the finding was not SUPPRESSED in Security Hub in time"
        time.sleep(0.1)

    page.reload()
    panel = panel_frame(page)
    expect(panel.locator('dd[data-field="workflow"]')).to_have_text("SUPPRESSED")
    expect(panel.locator(".hs-note")).to_contain_text(key)
    page.screenshot(path=str(artifacts / "forge-panel-risk-approved.png"), full_page=True)


def test_the_configure_page_loads_through_forge_checks_saves_and_tests_the_connection(
    forge_hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    before = forge_hubsync.current_tenant()
    calls, _ = watch_bridge(page)
    page.goto(configure_url(forge_hubsync))
    frame = page.frame_locator('section.app-page.forge iframe[data-forge-module="hubsync-configure"]')
    expect(frame.get_by_label("Project key")).to_have_value("SEC")
    expect(frame.get_by_label("Endpoint URL")).to_have_value(
        f"{forge_hubsync.app_url}/events/securityhub/{before.id}")

    expect(frame.locator('select[name="policy.priorities.CRITICAL"] option')).to_have_text(
        [priority.name for priority in jira_seed.PRIORITIES])  # the site's priorities, asked through invokeRemote

    frame.get_by_label("Security Hub role ARN").fill("arn:aws:iam::123:user/bob")
    frame.get_by_label("Project key").fill("sec")
    frame.get_by_role("button", name="Save settings").click()
    expect(frame.locator(".hs-summary")).to_contain_text("The settings were not saved")
    field = frame.locator('[data-path="aws.roleArn"]')
    expect(field.locator(".hs-field-error")).to_contain_text("is not an IAM role ARN")
    expect(frame.locator('[data-path="policy.project_key"] .hs-field-error')).to_contain_text(
        "is not a Jira project key")
    assert forge_hubsync.current_tenant() == before  # nothing saved

    frame.get_by_label("Security Hub role ARN").fill(before.aws_role_arn or "")
    frame.get_by_label("Project key").fill("SEC")
    frame.locator('select[name="policy.issue_type"]').select_option("Bug")  # a picker fed by Jira, through Forge
    frame.get_by_role("button", name="Save settings").click()
    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    saved = forge_hubsync.current_tenant()
    assert saved.policy["issue_type"] == "Bug"
    assert saved.aws_role_arn == before.aws_role_arn

    frame.get_by_role("button", name="Test connection").click()
    expect(frame.get_by_text("The connection works.")).to_be_visible()
    steps = frame.locator(".hs-steps li")
    expect(steps).to_have_count(3)
    for index in range(3):
        expect(steps.nth(index)).to_have_attribute("data-status", "ok")
    configure = page.locator('section.app-page.forge iframe')
    assert configure.evaluate("frame => frame.getBoundingClientRect().height") > 1400  # the whole form, no scrolling
    page.screenshot(path=str(artifacts / "forge-configure.png"), full_page=True)
    invoked = [(c["payload"]["method"], c["payload"]["path"]) for c in calls if c["name"] == "invoke"]
    assert ("PUT", "/api/v1/settings") in invoked
    assert all(c["frame"]["moduleKey"] == "hubsync-configure" for c in calls)
