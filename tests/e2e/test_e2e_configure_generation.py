"""The configure page's Security Hub choice: a select of the generations the server offers, showing the tenant's,
saved with the settings."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.domain.tenant import SecurityHubGeneration
from tests.e2e.conftest import Hubsync

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def configure_frame(page: Any) -> Any:
    return page.frame_locator('iframe[data-app-key="io.hubsync.security-hub"]')


def test_the_page_shows_the_tenants_security_hub_and_saves_the_choice(hubsync: Hubsync, page: Any) -> None:
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    choice = frame.get_by_label("Security Hub", exact=True)
    expect(choice).to_have_value("cspm")

    choice.select_option("v2")
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    assert hubsync.current_tenant().securityhub_generation is SecurityHubGeneration.V2
    expect(frame.get_by_label("Security Hub", exact=True)).to_have_value("v2")
    page.goto(hubsync.configure_page())  # the page as a tenant on the new Security Hub opens it
    frame = configure_frame(page)
    expect(frame.get_by_test_id("escalation-tag")).to_contain_text("starts with #jira")
    expect(frame.get_by_role("button", name="Create the “Send to Jira” action")).to_have_count(0)
