"""The configure page's rule preview and the large-onboarding confirmation, as a Jira admin sees them in a real
browser: each rule counts what the Security Hub simulator holds (worked out here from the findings it holds), a
rule being edited is counted again, and a save that would create more tickets than the threshold (200, the
default) waits for the admin's confirmation in a dialog."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hubsync.domain.finding import finding_key
from hubsync.domain.link import LinkState
from tests.e2e.conftest import Hubsync
from tests.fixtures.held_findings import Raw, at_least, everything, live_new_matching, product
from tests.fixtures.securityhub import make_finding

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1"> & </li>'
HOSTILE_GENERATOR = "hubsync-e2e-hostile-title"
ONBOARDING_GENERATOR = "hubsync-e2e-onboarding"
THRESHOLD = 200  # HUBSYNC_ONBOARDING_CONFIRM_ABOVE's default
# Counting pages GetFindings at Security Hub's 3 requests a second, which the worker (syncing the findings a test
# imports) spends too: a count may take some seconds.
COUNTED = 30_000


def configure_frame(page: Any) -> Any:
    return page.frame_locator('iframe[data-app-key="io.hubsync.security-hub"]')


def rule(frame: Any, index: int) -> Any:
    return frame.locator(f'fieldset[data-path="policy.rules[{index}]"]')


def preview(frame: Any, index: int) -> Any:
    return rule(frame, index).get_by_test_id("rule-preview")


def held(hubsync: Hubsync) -> list[Raw]:
    return everything(hubsync.sandbox.securityhub_client())


def import_low(hubsync: Hubsync, generator: str, count: int, **fields: Any) -> None:
    """LOW findings of their own generator: the saved rules escalate none of them, so no ticket is made."""
    client = hubsync.sandbox.securityhub_client()
    account = everything(client)[0]["AwsAccountId"]  # one of the organization's accounts
    findings = [make_finding(GeneratorId=generator, Severity={"Label": "LOW"}, AwsAccountId=account, **fields)
                for _ in range(count)]
    for start in range(0, len(findings), 100):
        assert client.batch_import_findings(Findings=findings[start:start + 100])["FailedCount"] == 0


def test_each_rule_shows_what_security_hub_holds_and_a_changed_rule_is_counted_again(
    hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    findings = held(hubsync)
    critical = len(live_new_matching(findings, at_least("CRITICAL")))
    guardduty = len(live_new_matching(findings, at_least("HIGH"), product("GuardDuty")))
    assert critical and guardduty, "the seed no longer gives both demo rules something to match"
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)

    expect(preview(frame, 0)).to_have_attribute("data-matches", str(critical), timeout=COUNTED)
    expect(preview(frame, 0)).to_contain_text(f"Matches {critical:,} new findings now")
    expect(preview(frame, 1)).to_have_attribute("data-matches", str(guardduty))

    show = preview(frame, 0).get_by_role("button", name="Show")
    expect(show).to_have_attribute("aria-expanded", "false")
    show.click()
    hide = preview(frame, 0).get_by_role("button", name="Hide")
    expect(hide).to_have_attribute("aria-expanded", "true")
    items = preview(frame, 0).locator("li")
    expect(items).to_have_count(min(5, critical))
    expect(items.first).to_contain_text("CRITICAL")
    expect(items.first).to_contain_text("account ")

    import_low(hubsync, HOSTILE_GENERATOR, 1, Title=HOSTILE)
    frame.get_by_role("button", name="Add rule").click()
    added = rule(frame, 2)
    added.get_by_label("Minimum severity").select_option("")
    added.get_by_label("Generator ids").fill(HOSTILE_GENERATOR)  # counted again a moment after the edit

    expect(preview(frame, 2)).to_have_attribute("data-matches", "1", timeout=COUNTED)
    preview(frame, 2).get_by_role("button", name="Show").click()
    expect(preview(frame, 2).locator("li")).to_contain_text(HOSTILE)  # shown as text
    expect(preview(frame, 2).locator("img")).to_have_count(0)
    assert frame.locator("body").get_attribute("data-pwned") is None

    added.get_by_label("AWS account ids").fill("000000000000")
    added.get_by_role("button", name="Count the matches of rule 3 again").click()
    expect(preview(frame, 2)).to_contain_text("Matches no new findings now")
    added.get_by_label("AWS account ids").fill("1234")
    expect(preview(frame, 2)).to_contain_text("Not counted: fix this rule first")
    expect(preview(frame, 2)).to_contain_text("an AWS account id is 12 digits")
    page.screenshot(path=str(artifacts / "configure-rule-preview.png"), full_page=True)


def test_a_save_that_would_create_more_tickets_than_the_threshold_asks_first(
    hubsync: Hubsync, page: Any, artifacts: Path
) -> None:
    import_low(hubsync, ONBOARDING_GENERATOR, THRESHOLD + 1)
    before = hubsync.current_tenant()
    page.goto(hubsync.configure_page())
    frame = configure_frame(page)
    frame.get_by_role("button", name="Add rule").click()
    added = rule(frame, len(before.policy["rules"]))
    added.get_by_label("Minimum severity").select_option("")
    added.get_by_label("Generator ids").fill(ONBOARDING_GENERATOR)
    expect(added.get_by_test_id("rule-preview")).to_have_attribute("data-matches", str(THRESHOLD + 1),
                                                                   timeout=COUNTED)

    findings = held(hubsync)
    matching = [*live_new_matching(findings, at_least("CRITICAL")),
                *live_new_matching(findings, at_least("HIGH"), product("GuardDuty")),
                *live_new_matching(findings, lambda f: f["GeneratorId"] == ONBOARDING_GENERATOR)]
    keys = {finding_key(f["ProductArn"], f["Id"]) for f in matching}
    with hubsync.store.read() as uow:
        linked = {link.finding_key for link in uow.links.iter_links(hubsync.tenant.id)
                  if link.state is not LinkState.BROKEN}
    tickets = len(keys - linked)
    assert tickets > THRESHOLD

    frame.get_by_role("button", name="Save settings").click()
    dialog = frame.get_by_role("dialog", name=f"Create {tickets:,} tickets?")
    expect(dialog).to_be_visible(timeout=COUNTED)
    expect(dialog).to_contain_text(
        f"These rules match {tickets:,} live findings that have no ticket yet, more than {THRESHOLD}")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_in_viewport()  # not off in a tall frame's middle
    page.screenshot(path=str(artifacts / "configure-onboarding-confirm.png"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert hubsync.current_tenant().policy == before.policy  # not saved

    frame.get_by_role("button", name="Save settings").click()
    confirm = re.compile(rf"^Save and create {tickets:,} tickets$")
    frame.get_by_role("dialog").get_by_role("button", name=confirm).click(timeout=COUNTED)

    expect(frame.get_by_text("Settings saved.")).to_be_visible()
    saved = hubsync.current_tenant().policy["rules"]
    assert saved[-1]["generator_ids"] == [ONBOARDING_GENERATOR]
    assert len(saved) == len(before.policy["rules"]) + 1
