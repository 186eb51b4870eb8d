"""A finding's URLs come from whoever imported it: in a ticket they become links only when they are http(s) URLs
with a host; anything else is inert text or left out, in ADF (Cloud) and wiki markup (Data Center) alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest

from hubsync.adapters.jira.documents import to_adf, to_wiki
from hubsync.domain.document import Document, link, paragraph
from hubsync.domain.finding import Resource
from hubsync.domain.rendering import render_ticket
from hubsync_sandbox.jira.adf import is_document, plain_text
from tests.unit.domain.domain_values import POLICY, a_finding

HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/path",
    "https:evil.example",
    "https:///evil.example",
    "https://docs.aws.amazon.com/\nh1. injected",
    "https://docs.aws.amazon.com/\x00",
    "https://docs.aws.amazon.com/\u202egpj.exe",
    "https://evil.example\\@docs.aws.amazon.com/",
    "https://docs.aws.amazon.com@evil.example/",
]


def _adf_hrefs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for mark in node.get("marks", ()):
            if mark.get("type") == "link":
                yield mark["attrs"]["href"]
        for child in node.get("content", ()):
            yield from _adf_hrefs(child)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_remediation_url_is_no_link_in_either_jira_flavour(url: str) -> None:
    description = render_ticket(a_finding(remediation_url=url), POLICY).description

    hrefs = list(_adf_hrefs(to_adf(description)))
    wiki = to_wiki(description)

    assert hrefs and all(urlsplit(href).scheme == "https" for href in hrefs)
    assert url not in hrefs
    assert "Remediation guide" not in wiki and "Remediation guide" not in description.to_text()
    for target in (part.split("]", 1)[0] for part in wiki.split("|")[1:]):
        assert target.startswith("https://"), wiki


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_document_never_links_a_hostile_url_it_is_given(url: str) -> None:
    document = Document.of(paragraph("See ", link("the guide", url), "."))

    [adf_paragraph] = to_adf(document)["content"]
    assert list(_adf_hrefs(adf_paragraph)) == []
    assert "".join(node.get("text", "") for node in adf_paragraph["content"]) == "See the guide."
    assert to_wiki(document) == "See the guide."
    assert document.to_text() == "See the guide."


def test_a_web_remediation_url_is_still_a_link() -> None:
    url = "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8"
    description = render_ticket(a_finding(remediation_url=url), POLICY).description

    assert url in list(_adf_hrefs(to_adf(description)))
    assert f"[Remediation guide|{url}]" in to_wiki(description)


@pytest.mark.parametrize(
    ("url", "wiki_target"),
    [
        ("https://x.test/a{noformat}b", "https://x.test/a%7Bnoformat%7Db"),
        ("https://x.test/p?q=a|b]c[d", "https://x.test/p?q=a%7Cb%5Dc%5Bd"),
        ('https://x.test/"<b>"', "https://x.test/%22%3Cb%3E%22"),
        ("https://x.test/caf\u00e9", "https://x.test/caf%C3%A9"),
    ],
)
def test_a_link_target_cannot_start_wiki_markup(url: str, wiki_target: str) -> None:
    assert to_wiki(Document.of(paragraph(link("guide", url)))) == f"[guide|{wiki_target}]"


@pytest.mark.parametrize("region", ["evil.example/#", "evil.example?", "x@evil.example", "EU-WEST-1 "])
def test_the_console_link_stays_on_the_aws_console_whatever_the_region_says(region: str) -> None:
    description = render_ticket(a_finding(region=region), POLICY).description

    hosts = {urlsplit(href).hostname for href in _adf_hrefs(to_adf(description))}

    assert hosts == {"console.aws.amazon.com"}


WIKI_MARKUP = "[]|{}!*_^~+#"
HOSTILE_TEXT = "[x|javascript:alert(1)] {html}<script>alert(1)</script>{html} !https://evil.example/x.png! *b* |"


def _markup(wiki: str) -> dict[str, int]:
    """How many unescaped markup characters the wiki text has (`\\x` and `&#46;` are literal to Jira's renderer)."""
    bare = re.sub(r"\\.|&#\d+;", "", wiki)
    return {char: bare.count(char) for char in WIKI_MARKUP}


def test_text_a_finding_carries_stays_text_in_either_jira_flavour() -> None:
    plain = a_finding(remediation_text="Block it.", account_name="payments")
    hostile = replace(
        plain,
        title=HOSTILE_TEXT,
        description=f"{HOSTILE_TEXT}\n\nh1. heading\nbq. quote\n* list\n# list\n----",
        remediation_text=HOSTILE_TEXT,
        account_name=HOSTILE_TEXT,
        product_name=HOSTILE_TEXT,
        security_control_id=HOSTILE_TEXT,
        resources=(Resource(type=HOSTILE_TEXT, id=HOSTILE_TEXT, region="eu-west-1"),),
    )

    plain_doc, hostile_doc = (render_ticket(f, POLICY).description for f in (plain, hostile))

    assert _markup(to_wiki(hostile_doc)) == _markup(to_wiki(plain_doc))
    assert not re.search(r"^\s*(?:h[1-6]\.|bq\.|[*#]+) (?:heading|quote|list)$", to_wiki(hostile_doc), re.MULTILINE)
    assert list(_adf_hrefs(to_adf(hostile_doc))) == list(_adf_hrefs(to_adf(plain_doc)))
    assert is_document(to_adf(hostile_doc))
    assert HOSTILE_TEXT in plain_text(to_adf(hostile_doc))
