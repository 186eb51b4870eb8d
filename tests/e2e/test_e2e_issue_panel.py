"""The Security Hub panel inside the simulated Jira issue page, in a real browser."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from hubsync.domain.finding import WorkflowStatus
from tests.e2e.conftest import Hubsync

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

SYNC_WITHIN_S = 10.0


def panel_frame(page: Any) -> Any:
    return page.frame_locator('section.panel iframe[data-app-key="io.hubsync.security-hub"]')


def test_the_panel_shows_the_finding_inside_the_issue(hubsync: Hubsync, page: Any, artifacts: Path) -> None:
    [(finding, key)] = hubsync.ticket_for(1)

    page.goto(hubsync.issue_page(key))

    panel = panel_frame(page)
    expect(panel.get_by_role("heading", name=finding.title)).to_be_visible()
    expect(panel.locator(".hs-finding-head .hs-lozenge")).to_have_text("CRITICAL")
    expect(panel.locator('dd[data-field="workflow"]')).to_have_text("NOTIFIED")
    expect(panel.locator('dd[data-field="region"]')).to_have_text(finding.region)
    expect(panel.locator('dd[data-field="account"]')).to_contain_text(finding.account_id)
    expect(panel.get_by_role("link", name="Open in Security Hub console")).to_have_attribute(
        "href", re.compile(r"^https://[a-z0-9-]+\.console\.aws\.amazon\.com/securityhub/")
    )
    expect(panel.locator(".hs-timeline li")).not_to_have_count(0)
    # AP.resize fitted the iframe to the panel, as Jira does
    assert page.locator("section.panel iframe").evaluate("frame => frame.style.height") != "320px"
    page.screenshot(path=str(artifacts / "panel.png"), full_page=True)


def test_an_issue_without_a_finding_says_so(hubsync: Hubsync, page: Any) -> None:
    world = hubsync.sandbox.jira_cloud
    lead = world.projects["OPS"].lead
    issue = world.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Plain work"},
                               lead)
    page.goto(hubsync.issue_page(issue.key))
    expect(page.locator("section.panel iframe")).to_have_count(1)
    expect(panel_frame(page).get_by_text("No Security Hub finding is linked to this issue.")).to_be_visible()


def test_approving_a_risk_suppresses_the_finding_within_seconds(
    hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    [(finding, key)] = hubsync.ticket_for(1)
    page.goto(hubsync.issue_page(key))
    expect(panel_frame(page).locator('dd[data-field="workflow"]')).to_have_text("NOTIFIED")

    page.get_by_role("button", name="Request risk acceptance").click()
    page.get_by_role("button", name="Approve risk").click()
    expect(page.locator(".transitions .lozenge").first).to_have_text("Risk approved")

    started = time.monotonic()
    while hubsync.finding(finding).workflow_status is not WorkflowStatus.SUPPRESSED:
        assert time.monotonic() - started < SYNC_WITHIN_S, "the finding was not SUPPRESSED in Security Hub in time"
        time.sleep(0.1)
    suppressed = hubsync.finding(finding)
    assert "Risk accepted" in (suppressed.note_text or "") or "risk accepted" in (suppressed.note_text or "")

    page.reload()
    panel = panel_frame(page)
    expect(panel.locator('dd[data-field="workflow"]')).to_have_text("SUPPRESSED")
    expect(panel.locator(".hs-note")).to_contain_text(key)
    page.screenshot(path=str(artifacts / "panel-risk-approved.png"), full_page=True)
