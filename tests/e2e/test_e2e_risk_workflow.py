"""The configure page of the Forge app sets the risk workflow up, seen in Chromium: the preview lists the steps and
changes nothing, the button sets the stock OPS project up (each step's outcome shown) while Jira's switch of the
project outlasts the request (the page shows its progress, the buttons off, until it ends, then a preview that finds
the project set up), and a second preview says there is nothing left to do. Through the real @forge/bridge and the
simulator's Forge host page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hubsync.domain import risk_workflow as risk
from hubsync.web import workflow_api
from tests.e2e.conftest import Hubsync
from tests.e2e.test_e2e_forge_panel import configure_url, forge_hubsync, watch_bridge

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

__all__ = ["forge_hubsync"]  # the module's hubsync, installed as a Forge app


def test_the_risk_workflow_is_previewed_then_set_up_from_the_configure_page(
    forge_hubsync: Hubsync, page: Any, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = forge_hubsync.current_tenant()
    with forge_hubsync.store.transaction() as uow:  # the admin saved OPS as the project
        uow.tenants.update(replace(tenant, policy={**tenant.policy, "project_key": "OPS"}))
    world = forge_hubsync.sandbox.jira_cloud
    before = world.project("OPS").workflow.name
    calls, _ = watch_bridge(page)

    page.goto(configure_url(forge_hubsync))
    frame = page.frame_locator('section.app-page.forge iframe[data-forge-module="hubsync-configure"]')
    section = frame.locator("section", has=frame.get_by_role("heading", name="Set up the risk workflow"))
    expect(section).to_contain_text("project OPS")
    apply = section.get_by_role("button", name="Set up the risk workflow")
    expect(apply).to_have_count(0)

    section.get_by_role("button", name="Preview the setup").click()
    plan = section.locator('[data-testid="risk-workflow-plan"] li')
    expect(plan.last).to_contain_text("switch project OPS")
    expect(section).to_contain_text(f"create workflow {risk.NAME!r}")
    assert world.project("OPS").workflow.name == before  # a preview changes nothing
    planned = plan.count()

    # Jira's switch outlasts the request: the route answers once it starts, Jira says RUNNING to 2 reads of it
    monkeypatch.setattr(workflow_api, "REQUEST_BUDGET_S", 0)
    monkeypatch.setattr(world, "switch_task_reads", 2)
    apply.click()
    progress = section.locator('[data-testid="risk-workflow-progress"]')
    expect(section.locator('[data-testid="risk-workflow-task"]')).to_have_text(
        "Jira is moving the project's issues onto the risk workflow: 33% done", timeout=15_000)
    expect(progress).to_have_attribute("value", "33")
    expect(section.get_by_role("button", name="Preview the setup")).to_be_disabled()  # no second press meanwhile
    expect(apply).to_be_disabled()
    outcomes = section.locator('[data-testid="risk-workflow-outcomes"] > li')
    expect(outcomes).to_have_count(planned - 1)  # every step but the switch Jira is still making
    for index in range(planned - 1):
        expect(outcomes.nth(index)).to_have_attribute("data-status", "ok")
    page.screenshot(path=str(artifacts / "forge-configure-risk-workflow-switching.png"), full_page=True)

    expect(section.get_by_text("Project OPS now uses the risk workflow: Jira has moved its issues.")).to_be_visible(
        timeout=15_000)
    expect(section.get_by_text("Project OPS already uses the risk workflow: nothing to do.")).to_be_visible()
    expect(progress).to_have_count(0)
    assert world.project("OPS").workflow.name == risk.NAME
    page.screenshot(path=str(artifacts / "forge-configure-risk-workflow.png"), full_page=True)

    section.get_by_role("button", name="Preview the setup").click()
    expect(section.get_by_text("Project OPS already uses the risk workflow: nothing to do.")).to_be_visible()
    expect(apply).to_have_count(0)
    invoked = [(c["payload"]["method"], c["payload"]["path"]) for c in calls if c["name"] == "invoke"]
    assert invoked.count(("POST", "/api/v1/settings/risk-workflow")) == 4  # preview, setup, preview at its end, preview
    task_reads = [path for method, path in invoked if method == "GET" and "/risk-workflow/tasks/" in path]
    assert len(task_reads) == 3 and len(set(task_reads)) == 1
