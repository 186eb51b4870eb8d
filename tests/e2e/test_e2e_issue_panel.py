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
IDLE_TIMEOUT_MS = 30_000  # a busy machine (the test files run two at a time) loads the page slowly


def panel_frame(page: Any) -> Any:
    return page.frame_locator('section.panel iframe[data-app-key="io.hubsync.security-hub"]')


def test_the_panel_shows_the_finding_inside_the_issue(hubsync: Hubsync, page: Any, artifacts: Path) -> None:
    [(finding, key)] = hubsync.ticket_for(1)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    shells: list[Any] = []
    page.on("response", lambda response: shells.append(response) if "/connect/panel" in response.url else None)

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
    # The shell's Content-Security-Policy lets hubsync's scripts and the Jira site's AP.js run, and nothing else
    policy = shells[0].header_value("content-security-policy")
    assert policy is not None and f"script-src 'self' {hubsync.app_url} {hubsync.jira_url};" in policy
    assert not [text for text in console if "Content Security Policy" in text], console


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


def test_the_panel_polls_only_while_a_finding_is_linked(hubsync: Hubsync, page: Any) -> None:
    [(_, linked_key)] = hubsync.ticket_for(1)
    world = hubsync.sandbox.jira_cloud
    plain = world.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Plain work"},
                               world.projects["OPS"].lead)
    reads: list[str] = []
    page.on("request", lambda request: reads.append(request.url) if "/api/v1/panel" in request.url else None)
    page.clock.install()

    page.goto(hubsync.issue_page(plain.key))
    expect(panel_frame(page).get_by_text("No Security Hub finding is linked to this issue.")).to_be_visible()
    page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    loaded = len(reads)  # the panel's (and the glance's, when the page embeds it) first read
    page.clock.run_for(95_000)  # three refresh periods
    page.wait_for_timeout(300)  # let a request that was started be seen
    assert len(reads) == loaded, reads

    page.goto(hubsync.issue_page(linked_key))
    expect(panel_frame(page).locator('dd[data-field="workflow"]')).to_have_text("NOTIFIED")
    page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    loaded = len(reads)
    page.clock.run_for(95_000)
    deadline = time.monotonic() + 5
    while len(reads) < loaded + 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(reads) >= loaded + 3, reads  # one read per period while the finding is shown live


def test_the_front_end_links_and_handlers_refuse_anything_but_web_urls_and_functions(
    hubsync: Hubsync, page: Any
) -> None:
    world = hubsync.sandbox.jira_cloud
    plain = world.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Plain work"},
                               world.projects["OPS"].lead)
    page.goto(hubsync.issue_page(plain.key))
    expect(panel_frame(page).get_by_text("No Security Hub finding is linked to this issue.")).to_be_visible()
    frame = page.locator("section.panel iframe").element_handle().content_frame()

    checked = frame.evaluate(
        """async (domUrl) => {
            const { externalLink, h } = await import(domUrl);
            const href = (url) => { const link = externalLink("x", url); return link && link.getAttribute("href"); };
            let thrown = null;
            try { h("a", { onclick: "alert(1)" }); } catch (error) { thrown = error.name; }
            return {
                javascript: href("javascript:alert(1)"),
                spaced: href(" JavaScript:alert(1)"),
                data: href("data:text/html,<b>x</b>"),
                relative: href("/browse/SEC-1"),
                web: href("https://docs.aws.amazon.com/securityhub/"),
                handler: thrown,
            };
        }""",
        f"{hubsync.app_url}/static/ui/dom.js",
    )

    assert checked == {"javascript": None, "spaced": None, "data": None, "relative": None,
                       "web": "https://docs.aws.amazon.com/securityhub/", "handler": "TypeError"}
