"""One template, two Jira flavours: ADF for Cloud, wiki markup for Data Center; and the ticket of a finding."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

import pytest

from hubsync.domain.finding import marker_label
from hubsync.domain.policy import Policy
from hubsync.domain.rendering import (
    SUMMARY_LIMIT,
    Document,
    bold,
    bullets,
    code,
    console_url,
    escape_wiki,
    heading,
    link,
    paragraph,
    render_ticket,
    ticket_summary,
)
from hubsync_sandbox.jira.adf import is_document, plain_text
from tests.unit.domain.domain_values import POLICY, a_finding

RICH = Document.of(
    heading("What is the problem?"),
    paragraph("Bucket ", code("orders-data"), " is ", bold("public"), ": see ", link("the guide", "https://x.test/a")),
    bullets("one", [bold("two: "), "2"]),
)


# --- the document model ------------------------------------------------------------------------------------


def test_a_plain_paragraph_in_each_format():
    document = Document.paragraph("Risk accepted in SEC-12")

    assert document.to_adf() == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Risk accepted in SEC-12"}]}]}
    assert document.to_wiki() == "Risk accepted in SEC\\-12"
    assert document.to_text() == "Risk accepted in SEC-12"


def test_rich_document_is_valid_adf_with_its_marks():
    adf = RICH.to_adf()

    assert is_document(adf)
    heading_node, text, bullet_list = adf["content"]
    assert heading_node == {"type": "heading", "attrs": {"level": 2},
                            "content": [{"type": "text", "text": "What is the problem?"}]}
    marks = {node["text"]: node.get("marks") for node in text["content"]}
    assert marks["orders-data"] == [{"type": "code"}]
    assert marks["public"] == [{"type": "strong"}]
    assert marks["the guide"] == [{"type": "link", "attrs": {"href": "https://x.test/a"}}]
    assert [item["type"] for item in bullet_list["content"]] == ["listItem", "listItem"]
    assert plain_text(adf).splitlines() == ["What is the problem?", "Bucket orders-data is public: see the guide",
                                            "one", "two: 2"]


def test_rich_document_as_wiki_markup_and_text():
    assert RICH.to_wiki() == (
        "h2. What is the problem?\n\n"
        "Bucket {{orders\\-data}} is *public*: see [the guide|https://x.test/a]\n\n"
        "* one\n* *two:* 2"
    )
    assert RICH.to_text() == (
        "What is the problem?\n\nBucket orders-data is public: see the guide (https://x.test/a)\n\n- one\n- two: 2"
    )


def test_empty_text_and_line_breaks_stay_valid_adf():
    adf = Document.of(paragraph(""), paragraph("first\nsecond"), heading("")).to_adf()

    assert is_document(adf)
    assert adf["content"][0] == {"type": "paragraph"}
    assert [node["type"] for node in adf["content"][1]["content"]] == ["text", "hardBreak", "text"]


def test_bold_code_keeps_only_the_code_mark_that_adf_allows():
    [node] = Document.of(paragraph(replace(code("x"), bold=True))).to_adf()["content"][0]["content"]

    assert node["marks"] == [{"type": "code"}]


@pytest.mark.parametrize(
    ("text", "wiki"),
    [
        ("*bold* _italic_ -struck- +under+ ^sup^ ~sub~", "\\*bold\\* \\_italic\\_ \\-struck\\- \\+under\\+ \\^sup\\^ "
                                                        "\\~sub\\~"),
        ("{code} {{mono}} [link|http://x] !image.png! a|b", "\\{code\\} \\{\\{mono\\}\\} \\[link\\|http://x\\] "
                                                            "\\!image.png\\! a\\|b"),
        ("# not a list", "\\# not a list"),
        ("??citation?? but a single ? stays", "\\?\\?citation\\?\\? but a single ? stays"),
        ("back\\slash", "back\\\\slash"),
        ("h2. not a heading\nbq. not a quote", "h2&#46; not a heading\nbq&#46; not a quote"),
    ],
)
def test_wiki_special_characters_in_text_are_escaped(text, wiki):
    assert escape_wiki(text) == wiki


def test_a_finding_cannot_inject_wiki_markup_into_bold_code_links_or_lists():
    document = Document.of(
        paragraph(bold("*x*"), " ", code("{y}"), " ", link("a|b]", "https://x.test/p?q=a|b[c]")),
        bullets("line\n\nbreak"),
    )

    assert document.to_wiki() == (
        "*\\*x\\** {{\\{y\\}}} [a\\|b\\]|https://x.test/p?q=a%7Cb%5Bc%5D]\n\n* line break"
    )


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
    assert is_document(ticket.description.to_adf())


def test_workflow_guidance_follows_the_policy_on_a_stock_workflow():
    policy = Policy("OPS", status_dispositions={})

    text = render_ticket(a_finding(), policy).description.to_text()

    assert "a done status" in text
    assert "risk" not in text.split("What do I need to do with this ticket?")[1].lower()


def test_both_jira_flavours_accept_the_rendered_description(jira_any):
    """Cloud takes the ADF, Data Center the wiki text; both simulators check the exchange against Atlassian's API."""
    ticket = render_ticket(a_finding(), POLICY)
    description = ticket.description.to_adf() if jira_any.flavour == "cloud" else ticket.description.to_wiki()
    session = jira_any.session()

    created = session.post(f"{jira_any.rest}/issue", json={"fields": {
        "project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": ticket.summary,
        "description": description, "labels": list(ticket.labels), "priority": {"name": ticket.priority},
    }})
    assert created.status_code == 201, created.text
    fields = session.get(f"{jira_any.rest}/issue/{created.json()['key']}").json()["fields"]

    assert fields["description"] == description
    assert fields["summary"] == ticket.summary
