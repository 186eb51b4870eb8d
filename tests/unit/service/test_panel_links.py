"""The panel links a finding's remediation URL exactly when its Jira ticket does: one rule for both."""

from __future__ import annotations

import pytest

from hubsync.domain.rendering import render_ticket
from hubsync.service.panel import finding_json
from tests.unit.adapters.jira.test_jira_documents_hostile_links import HOSTILE_URLS
from tests.unit.domain.domain_values import POLICY, a_finding

WEB_URLS = ["https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8", "http://docs.example/fix"]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_panel_shows_no_hostile_remediation_url(url: str) -> None:
    shown = finding_json(a_finding(remediation_url=url, remediation_text="Block it."))

    assert shown["remediation"] == {"text": "Block it.", "url": None}


@pytest.mark.parametrize("url", WEB_URLS + HOSTILE_URLS)
def test_the_panel_and_the_ticket_link_the_same_urls(url: str) -> None:
    finding = a_finding(remediation_url=url)

    in_panel = finding_json(finding)["remediation"]["url"]
    in_ticket = "Remediation guide" in render_ticket(finding, POLICY).description.to_text()

    assert in_panel == (url if in_ticket else None)
    assert in_ticket is (url in WEB_URLS)


@pytest.mark.parametrize("region", ["evil.example/#", "x@evil.example"])
def test_the_panels_console_link_stays_on_the_aws_console(region: str) -> None:
    assert finding_json(a_finding(region=region))["consoleUrl"].startswith("https://console.aws.amazon.com/")
