"""The ticket of a finding: one template (a `Document`) for both Jira flavours."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

import pytest

from hubsync.adapters.jira.documents import to_adf
from hubsync.domain.finding import marker_label
from hubsync.domain.policy import Policy
from hubsync.domain.rendering import SUMMARY_LIMIT, console_url, render_ticket, ticket_summary
from hubsync_sandbox.jira.adf import is_document
from tests.unit.domain.domain_values import POLICY, a_finding

# --- the ticket of a finding -------------------------------------------------------------------------------


def test_summary_names_account_region_and_title():
    assert ticket_summary(a_finding()) == (
        "AWS Security Issue :: 111122223333 :: eu-west-1 :: S3 general purpose buckets should block public access"
    )


def test_summary_is_cut_to_jiras_limit_on_one_line():
    summary = ticket_summary(a_finding(title="A\nvery " + "long " * 80 + "title"))

    assert len(summary) == SUMMARY_LIMIT
    assert summary.endswith("\u2026") and "\n" not in summary


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com"),
        ("aws-cn", "cn-north-1", "https://console.amazonaws.cn"),
    ],
)
def test_console_url_is_right_for_the_partition_and_encodes_the_finding_id(partition, region, host):
    finding_id = f"arn:{partition}:securityhub:{region}:111122223333:security-control/S3.8/finding/ab cd+ef"
    finding = a_finding(id=finding_id, region=region,
                        product_arn=f"arn:{partition}:securityhub:{region}::product/aws/securityhub")

    url = console_url(finding)

    prefix = f"{host}/securityhub/home?region={region}#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A"
    assert url.startswith(prefix)
    encoded = url.removeprefix(prefix)
    assert "/" not in encoded and ":" not in encoded and " " not in encoded and "+" not in encoded
    assert unquote(unquote(encoded)) == finding_id


def test_a_finding_of_the_new_security_hub_links_its_console_and_names_the_finding_to_look_for():
    uid = "9b1e4c7a" * 8
    finding = a_finding(id=uid, region="eu-west-1", comment_only=True,
                        product_arn="arn:aws:securityhub:eu-west-1::productv2/aws/guardduty")

    assert console_url(finding) == "https://eu-west-1.console.aws.amazon.com/securityhub/v2/home?region=eu-west-1"
    text = str(to_adf(render_ticket(finding, POLICY).description))
    assert "Open the new Security Hub console" in text and uid in text


def test_rendered_ticket_carries_labels_priority_and_everything_a_developer_needs():
    finding = a_finding(account_name="payments-prod", remediation_text="Turn on Block Public Access.",
                        remediation_url="https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html")
    policy = replace(POLICY, labels=("security-hub", "aws"))

    ticket = render_ticket(finding, policy)

    assert ticket.labels == ("security-hub", "aws", marker_label(finding.key))
    assert ticket.priority == "High"
    text = ticket.description.to_text()
    for expected in ("111122223333 (payments-prod)", "eu-west-1", "S3.8", "AWS Foundational Security Best Practices"
                     " v1.0.0", "arn:aws:s3:::orders-data (AwsS3Bucket)", finding.description,
                     "Turn on Block Public Access.", "s3-controls.html", console_url(finding), "\u201cResolved\u201d",
                     "\u201cRequest risk acceptance\u201d", "\u201cAccepted false positive\u201d",
                     marker_label(finding.key)):
        assert expected in text
    assert is_document(to_adf(ticket.description))


def test_workflow_guidance_follows_the_policy_on_a_stock_workflow():
    policy = Policy("OPS", status_dispositions={})

    text = render_ticket(a_finding(), policy).description.to_text()

    assert "a done status" in text
    assert "risk" not in text.split("What do I need to do with this ticket?")[1].lower()
