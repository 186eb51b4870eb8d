"""The configure page's Security Hub choice: absent while hubsync syncs with one Security Hub only, a select once
the server offers more than one, saved with the settings."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.domain.tenant import SecurityHubGeneration
from hubsync.service import settings as settings_module
from tests.e2e.conftest import Hubsync

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def configure_frame(page: Any) -> Any:
    return page.frame_locator('iframe[data-app-key="io.hubsync.security-hub"]')


def test_with_one_security_hub_to_sync_with_the_page_offers_no_choice(hubsync: Hubsync, page: Any) -> None:
    before = hubsync.current_tenant().securityhub_generation
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    expect(frame.get_by_label("Security Hub role ARN")).to_be_visible()
    expect(frame.locator('[name="aws.securityhubGeneration"]')).to_have_count(0)

    frame.get_by_role("button", name="Save settings").click()
    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    assert hubsync.current_tenant().securityhub_generation is before  # a form without the choice keeps the tenant's


def test_once_both_can_be_chosen_the_page_shows_the_tenants_and_saves_the_choice(
    hubsync: Hubsync, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "AVAILABLE_GENERATIONS",
                        (SecurityHubGeneration.CSPM, SecurityHubGeneration.V2))
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    choice = frame.get_by_label("Security Hub", exact=True)
    expect(choice).to_have_value("cspm")

    choice.select_option("v2")
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    assert hubsync.current_tenant().securityhub_generation is SecurityHubGeneration.V2
    expect(frame.get_by_label("Security Hub", exact=True)).to_have_value("v2")
