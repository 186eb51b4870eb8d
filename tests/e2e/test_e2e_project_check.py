""""Check project" on the configure page, in a real browser: on a project whose create screen requires a field
hubsync does not fill, the check names that field; a save that changes to that project is refused, with the
check's items shown by the project and nothing saved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Hubsync
from tests.e2e.test_e2e_configure_page import configure_frame

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

COST_CENTRE = "Cost centre (customfield_10050) is required on OPS's create screen for Task"


@pytest.fixture
def cost_centre(hubsync: Hubsync) -> Iterator[None]:
    """OPS's create screen requires a custom field without a default, as a Jira admin may have set it up."""
    hubsync.sandbox.jira_cloud.require_field("OPS", "customfield_10050", "Cost centre")
    yield
    hubsync.sandbox.jira_cloud.required_fields.clear()


def choose_project(frame: Any, key: str) -> None:
    project = frame.get_by_role("combobox", name=re.compile(r"^Project key( \*)?$"))
    project.fill(key)
    expect(frame.get_by_role("listbox", name="Matching projects").get_by_role("option")).to_have_count(1)
    project.press("ArrowDown")
    project.press("Enter")
    expect(project).to_have_value(key)
    expect(frame.get_by_role("combobox", name=re.compile(r"^Issue type( \*)?$"))).to_have_value("Task")


def test_check_project_names_the_required_field_hubsync_does_not_fill(
    hubsync: Hubsync, cost_centre: None, page: Any, artifacts: Path
) -> None:
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    result = frame.get_by_test_id("project-check")

    frame.get_by_role("button", name="Check project").click()  # the stored project, SEC: it works
    expect(result.locator('li[data-status="ok"]', has_text="Default assignee")).to_have_count(1)
    expect(result.locator('li[data-status="failed"]')).to_have_count(0)
    expect(result).to_contain_text("Nothing Jira shows stops hubsync in SEC (Task)")  # a Connect app: no workflow

    choose_project(frame, "OPS")
    frame.get_by_role("button", name="Check project").click()

    failed = result.locator('li[data-status="failed"]', has_text="Create screen")
    expect(failed).to_contain_text(COST_CENTRE)
    expect(result.locator(".hs-message-error")).to_contain_text("stop hubsync from working in OPS (Task)")
    page.screenshot(path=str(artifacts / "configure-project-check.png"), full_page=True)


def test_a_save_that_changes_to_a_failing_project_is_refused_with_the_reasons(
    hubsync: Hubsync, cost_centre: None, page: Any, artifacts: Path
) -> None:
    before = hubsync.current_tenant()
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)

    choose_project(frame, "OPS")
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.locator(".hs-summary")).to_contain_text("the settings are not saved: the project check failed")
    expect(frame.get_by_test_id("project-check").locator('li[data-status="failed"]', has_text="Create screen")
           ).to_contain_text(COST_CENTRE)
    page.screenshot(path=str(artifacts / "configure-save-refused.png"), full_page=True)
    assert hubsync.current_tenant() == before  # nothing saved
