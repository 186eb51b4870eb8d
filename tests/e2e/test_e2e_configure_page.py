"""The configure page as a Jira admin sees it, embedded by the simulated Jira, in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Hubsync

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def configure_frame(page: Any) -> Any:
    return page.frame_locator('iframe[data-app-key="io.hubsync.security-hub"]')


def field(frame: Any, path: str) -> Any:
    return frame.locator(f'[data-path="{path}"]')


def test_invalid_settings_show_errors_by_their_fields_then_valid_ones_save(
    hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    before = hubsync.current_tenant()
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    expect(frame.get_by_label("ExternalId")).to_have_value(before.external_id)
    expect(frame.get_by_label("Endpoint URL")).to_have_value(f"{hubsync.app_url}/events/securityhub/{before.id}")
    expect(frame.get_by_label("API key header")).to_have_value("X-Hubsync-Api-Key")
    expect(frame.get_by_label("Project key")).to_have_value("SEC")

    frame.get_by_label("Security Hub role ARN").fill("arn:aws:iam::123:user/bob")
    frame.get_by_label("Project key").fill("sec")
    frame.get_by_label("AWS account ids").first.fill("111122223333, 1234")
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.locator(".hs-summary")).to_have_text(
        "The settings were not saved: fix the fields marked below. (3 problems)"
    )
    expect(field(frame, "aws.roleArn").locator(".hs-field-error")).to_contain_text("is not an IAM role ARN")
    expect(frame.get_by_label("Security Hub role ARN")).to_have_attribute("aria-invalid", "true")
    expect(field(frame, "policy.project_key").locator(".hs-field-error")).to_contain_text("is not a Jira project key")
    expect(field(frame, "policy.rules[0].account_ids").locator(".hs-field-error")).to_have_text(
        "entry 2: an AWS account id is 12 digits"
    )
    page.screenshot(path=str(artifacts / "configure-invalid.png"), full_page=True)
    assert hubsync.current_tenant() == before  # nothing saved

    frame.get_by_label("Security Hub role ARN").fill(before.aws_role_arn or "")
    frame.get_by_label("Project key").fill("SEC")
    frame.get_by_label("AWS account ids").first.fill("")
    frame.locator('select[name="policy.issue_type"]').select_option("Bug")  # a picker fed by Jira
    frame.get_by_role("button", name="Save settings").click()

    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    expect(frame.locator(".hs-field-error:not([hidden])")).to_have_count(0)
    saved = hubsync.current_tenant()
    assert saved.policy["issue_type"] == "Bug"
    assert saved.aws_role_arn == before.aws_role_arn
    assert saved.jira_secret == before.jira_secret

    frame.get_by_role("button", name="Test connection").click()
    steps = frame.locator(".hs-steps li")
    expect(steps).to_have_count(3)
    expect(frame.get_by_text("The connection works.")).to_be_visible()
    for index in range(3):
        expect(steps.nth(index)).to_have_attribute("data-status", "ok")
    page.screenshot(path=str(artifacts / "configure.png"), full_page=True)


def test_rotating_the_events_key_shows_it_once(hubsync: Hubsync, page: Any) -> None:
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    rotate = frame.get_by_role("button", name="Rotate API key")
    rotate.click()
    frame.get_by_role("button", name="Confirm: rotate the key").click()
    key = frame.get_by_label("New API key")
    expect(key).not_to_have_value("")
    with hubsync.store.read() as uow:
        assert uow.tenants.verify_events_api_key(hubsync.tenant.id, key.input_value())

    page.reload()
    expect(configure_frame(page).get_by_label("New API key")).to_have_count(0)


def test_the_custom_action_button_creates_send_to_jira_once_and_shows_its_pattern(hubsync: Hubsync, page: Any) -> None:
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    button = frame.get_by_role("button", name="Create the “Send to Jira” action")

    button.click()
    expect(frame.get_by_text("Created the custom action")).to_be_visible()
    arn = frame.get_by_label("Action target ARN").input_value()
    expect(frame.get_by_test_id("custom-action-pattern")).to_contain_text("Security Hub Findings - Custom Action")
    button.click()
    expect(frame.get_by_text("was already there")).to_be_visible()

    targets = hubsync.sandbox.securityhub_client().describe_action_targets()["ActionTargets"]
    assert [t["ActionTargetArn"] for t in targets if t["Name"] == "Send to Jira"] == [arn]


def test_a_number_the_browser_cannot_read_is_a_field_error_not_a_never_expiring_acceptance(
    hubsync: Hubsync, page: Any
) -> None:
    before = hubsync.current_tenant()
    saves: list[str] = []
    page.on("request", lambda request: saves.append(request.url) if request.method == "PUT" else None)
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    days = frame.get_by_label("Acceptance lasts (days)")
    expect(days).to_have_value(str(before.policy.get("risk_acceptance_days", 365)))

    days.fill("")
    days.press_sequentially("1e")  # Chromium lets one type it; the field's value then reads as ""
    frame.get_by_role("button", name="Save settings").click()

    expect(field(frame, "policy.risk_acceptance_days").locator(".hs-field-error")).to_have_text(
        "Enter a whole number, or leave the field empty."
    )
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(frame.locator(".hs-summary")).to_contain_text("The settings were not saved")
    assert saves == []
    assert hubsync.current_tenant() == before
