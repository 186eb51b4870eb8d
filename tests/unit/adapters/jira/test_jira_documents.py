"""The domain's documents in Jira's two wire formats: ADF for Cloud, wiki markup for Data Center (and the plain
text the domain reads them as)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.adapters.jira.documents import escape_wiki, to_adf, to_wiki
from hubsync.domain.document import Document, bold, bullets, code, heading, link, paragraph
from hubsync.domain.rendering import render_ticket
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

    assert to_adf(document) == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Risk accepted in SEC-12"}]}]}
    assert to_wiki(document) == "Risk accepted in SEC\\-12"
    assert document.to_text() == "Risk accepted in SEC-12"


def test_rich_document_is_valid_adf_with_its_marks():
    adf = to_adf(RICH)

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
    assert to_wiki(RICH) == (
        "h2. What is the problem?\n\n"
        "Bucket {{orders\\-data}} is *public*: see [the guide|https://x.test/a]\n\n"
        "* one\n* *two:* 2"
    )
    assert RICH.to_text() == (
        "What is the problem?\n\nBucket orders-data is public: see the guide (https://x.test/a)\n\n- one\n- two: 2"
    )


def test_empty_text_and_line_breaks_stay_valid_adf():
    adf = to_adf(Document.of(paragraph(""), paragraph("first\nsecond"), heading("")))

    assert is_document(adf)
    assert adf["content"][0] == {"type": "paragraph"}
    assert [node["type"] for node in adf["content"][1]["content"]] == ["text", "hardBreak", "text"]


def test_bold_code_keeps_only_the_code_mark_that_adf_allows():
    [node] = to_adf(Document.of(paragraph(replace(code("x"), bold=True))))["content"][0]["content"]

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

    assert to_wiki(document) == (
        "*\\*x\\** {{\\{y\\}}} [a\\|b\\]|https://x.test/p?q=a%7Cb%5Bc%5D]\n\n* line break"
    )


# --- the ticket of a finding, as each flavour takes it ----------------------------------------------------


def test_both_jira_flavours_accept_the_rendered_description(jira_any):
    """Cloud takes the ADF, Data Center the wiki text; both simulators check the exchange against Atlassian's API."""
    ticket = render_ticket(a_finding(), POLICY)
    description = to_adf(ticket.description) if jira_any.flavour == "cloud" else to_wiki(ticket.description)
    session = jira_any.session()

    created = session.post(f"{jira_any.rest}/issue", json={"fields": {
        "project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": ticket.summary,
        "description": description, "labels": list(ticket.labels), "priority": {"name": ticket.priority},
    }})
    assert created.status_code == 201, created.text
    fields = session.get(f"{jira_any.rest}/issue/{created.json()['key']}").json()["fields"]

    assert fields["description"] == description
    assert fields["summary"] == ticket.summary
