"""The configure page's pickers, fed by the simulated Jira Cloud through /api/v1/jira, in a real browser: the
projects, a project's issue types and statuses, the site's priorities, a person found by typing part of a name;
stored values Jira does not have stay, marked as missing; a save stores what was chosen (the person by id)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from hubsync.domain.policy_schema import dump_policy, load_policy
from hubsync.domain.risk_workflow import STATUSES
from hubsync_sandbox.jira import seed
from tests.e2e.conftest import Hubsync
from tests.e2e.test_e2e_configure_page import configure_frame

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

PRIORITIES = [priority.name for priority in seed.PRIORITIES]


def picker(frame: Any, label: str) -> Any:
    """A select or a combobox by its label (a required field's label ends with " *")."""
    return frame.get_by_role("combobox", name=re.compile(rf"^{re.escape(label)}( \*)?$"))


def options(select: Any) -> list[str]:
    texts: list[str] = select.locator("option").all_inner_texts()
    return [text.strip() for text in texts]


def store_policy(hubsync: Hubsync, **changes: Any) -> None:
    """Give the tenant its policy with these settings changed."""
    tenant = hubsync.current_tenant()
    policy = dump_policy(load_policy(tenant.policy)) | changes
    with hubsync.store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, policy=policy))


def test_the_pickers_list_what_jira_has_and_a_save_stores_the_choices(
    hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    names = [status.name for status in STATUSES]
    first, resolved = STATUSES[0], next(s for s in STATUSES if s.key == "resolved")
    priorities = dict(zip(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"], PRIORITIES, strict=False))
    store_policy(hubsync, priorities={**priorities, "LOW": "Urgent"},
                 status_dispositions={first.name: first.disposition.value, "Retired": "FIXED"})
    carol = hubsync.sandbox.jira_cloud.user_by_email("carol@example.com")
    assert carol is not None
    ops = [status.name for status in hubsync.sandbox.jira_cloud.project("OPS").workflow.statuses]
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)

    # priorities: the site's, and a stored one the site does not have, kept and marked
    critical = picker(frame, "CRITICAL")
    expect(critical).to_have_value("Highest")
    assert options(critical) == PRIORITIES
    low = picker(frame, "LOW")
    expect(low).to_have_value("Urgent")
    assert options(low) == ["Urgent (not a priority of this site)", *PRIORITIES]

    # the issue type and the statuses of the stored project, SEC
    issue_type = picker(frame, "Issue type")
    expect(issue_type).to_have_value("Task")
    assert options(issue_type) == ["Task", "Bug"]
    retired = frame.locator('.hs-mapping[data-path="policy.status_dispositions.Retired"] select[data-role="status"]')
    expect(retired).to_have_value("Retired")
    assert options(retired) == ["Retired (not a status of SEC)", *names]
    request = picker(frame, "Request status")
    assert options(request) == names

    # the project picker searches Jira's projects; choosing OPS brings OPS's issue types and statuses
    project = picker(frame, "Project key")
    project.fill("")
    listbox = frame.get_by_role("listbox", name="Matching projects")
    expect(listbox.get_by_role("option")).to_have_text(["OPS Operations", "SEC Security Findings"])
    project.fill("oper")
    expect(listbox.get_by_role("option")).to_have_text(["OPS Operations"])
    project.press("ArrowDown")
    project.press("Enter")
    expect(project).to_have_value("OPS")
    expect(retired.locator("option").first).to_have_text("Retired (not a status of OPS)")
    assert options(retired)[1:] == ops

    # back to SEC, by keyboard only
    project.fill("SEC")
    expect(listbox.get_by_role("option")).to_have_text(["SEC Security Findings"])
    project.press("ArrowDown")
    project.press("Enter")
    expect(retired.locator("option").first).to_have_text("Retired (not a status of SEC)")

    # the default assignee: found by typing part of a name, shown with the email, stored by id
    assignee = frame.get_by_label("Default assignee")
    assignee.fill("car")
    people = frame.get_by_role("listbox", name="Matching people")
    expect(people.get_by_role("option")).to_have_text(["Carol Developer carol@example.com"])
    people.get_by_role("option").click()
    expect(assignee).to_have_value("Carol Developer (carol@example.com)")

    # a status mapping added now offers the project's statuses
    frame.get_by_role("button", name="Add status").click()
    added = picker(frame, "Jira status 3")
    expect(added.locator("option")).to_have_count(len(names) + 1)
    assert options(added) == ["Choose a status", *names]
    added.select_option(resolved.name)
    picker(frame, "Meaning of status 3").select_option("FIXED")

    # what Jira does not have is not saved by mistake: the project check would refuse it
    frame.get_by_role("button", name="Remove status Retired").click()
    low.select_option(PRIORITIES[3])
    issue_type.select_option("Bug")
    critical.select_option("High")
    page.screenshot(path=str(artifacts / "configure-pickers.png"), full_page=True)
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    saved = hubsync.current_tenant().policy
    assert saved["project_key"] == "SEC" and saved["issue_type"] == "Bug"
    assert saved["default_assignee"] == carol.account_id
    assert saved["priorities"]["CRITICAL"] == "High" and saved["priorities"]["LOW"] == PRIORITIES[3]
    assert saved["status_dispositions"] == {first.name: first.disposition.value, resolved.name: "FIXED"}

    # read back: the stored person is shown by name
    page.reload()
    expect(configure_frame(page).get_by_label("Default assignee")).to_have_value(
        "Carol Developer (carol@example.com)")
