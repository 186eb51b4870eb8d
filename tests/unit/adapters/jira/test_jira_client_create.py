"""Creating tickets: marker property and labels in the create call, 50 a bulk request, Jira's refusals per draft."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubsync.adapters.jira import JiraClient
from hubsync.adapters.jira.documents import to_adf, to_wiki
from hubsync.domain.document import Document, bold, bullets, code, link, paragraph
from hubsync.domain.finding import marker_label
from hubsync_sandbox.jira import seed
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import draft, marker_for


def test_a_ticket_is_created_with_its_marker_priority_assignee_and_rich_text(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    alice = jira_any.world.user_by_email("alice@example.com")
    assert alice is not None
    assignee = alice.account_id if jira_any.flavour == "cloud" else alice.name

    [created] = jira.create_tickets([draft(7, assignee=assignee)])

    assert created.error is None
    assert jira.request_counts == {"create_tickets": 1}  # one draft: one POST /issue
    ticket = jira.get_tickets([created.key])[created.key]
    assert (ticket.status, ticket.status_category.value) == ("Open", "new")
    assert ticket.summary == "AWS Security Issue :: 111122223333 :: eu-west-1 :: finding 7"
    assert ticket.priority == "High"
    assert ticket.assignee == assignee
    assert ticket.labels == ("security-hub", marker_label(marker_for(7).key))
    assert ticket.marker == marker_for(7)
    description = jira_any.world.issues[created.key].description
    if jira_any.flavour == "cloud":
        assert description["type"] == "doc"  # ADF
    else:
        assert description == "Finding 7 needs attention."  # wiki markup


def test_many_drafts_go_fifty_to_a_bulk_request_and_keep_their_order(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)

    created = jira.create_tickets([draft(number) for number in range(53)])

    assert [c.draft_index for c in created] == list(range(53))
    assert all(c.error is None and c.key for c in created)
    assert len({c.key for c in created}) == 53
    assert jira.request_counts == {"create_tickets": 2}  # 50, then 3
    counters = jira_any.control("GET", "counters").json()
    assert counters[f"POST /rest/api/{jira_any.world.api_version}/issue/bulk"] == 2
    for c in (created[0], created[49], created[50], created[52]):
        number = int(jira_any.world.issues[c.key].summary.rsplit(" ", 1)[1])
        assert number == c.draft_index
        assert jira_any.world.issues[c.key].properties["hubsync.finding"]["key"] == marker_for(number).key


def test_jira_refusing_one_draft_fails_only_that_one_with_jiras_words(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)

    created = jira.create_tickets([draft(1), draft(2, priority="Urgent!"), draft(3)])

    assert [c.key is not None for c in created] == [True, False, True]
    assert created[1].error == "priority: Specify a valid 'priority' name"
    assert len(jira_any.world.issues) == 2


def test_a_batch_jira_refuses_entirely_reports_every_draft(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)

    created = jira.create_tickets([draft(1, project="NOPE"), draft(2, project="NOPE")])
    [single] = jira.create_tickets([draft(3, project="NOPE")])

    assert [c.key for c in created] == [None, None]
    assert all(c.error == "project: Specify a valid project ID or key" for c in (*created, single))
    assert not jira_any.world.issues


def test_drafts_without_priority_or_assignee_take_the_projects_defaults(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)

    [created] = jira.create_tickets([draft(1, priority=None, project="OPS")])

    ticket = jira.get_tickets([created.key])[created.key]
    assert ticket.priority == next(p.name for p in seed.PRIORITIES if p.id == seed.DEFAULT_PRIORITY_ID)
    assert ticket.assignee is None
    assert (ticket.project_key, ticket.status) == ("OPS", "To Do")


def test_comments_are_adf_on_cloud_and_wiki_markup_on_data_center(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    [created] = jira.create_tickets([draft(1)])
    assert created.key is not None
    document = Document.of(
        paragraph("Security Hub says ", bold("PASSED"), " for ", code("S3.8"), "."),
        bullets(link("Open the finding", "https://console.aws.amazon.com/securityhub/home#/findings")),
    )

    jira.comment(created.key, document)
    jira.comment(created.key, "A plain sentence.")

    bodies = [comment.body for comment in jira_any.world.issues[created.key].comments]
    if jira_any.flavour == "cloud":
        assert bodies == [to_adf(document), to_adf(Document.paragraph("A plain sentence."))]
    else:
        assert bodies == [to_wiki(document), "A plain sentence."]


def test_a_guard_that_says_no_stops_the_creates_not_yet_sent(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    """The sync that lost its findings' locks (the database restarted) must send no more creates: another sync may
    be creating the same tickets."""
    jira = client_of(jira_any)
    asked: list[int] = []

    class LockLost(Exception):
        pass

    def guard() -> None:
        asked.append(1)
        if len(asked) > 1:
            raise LockLost()

    before = set(jira_any.world.issues)
    with pytest.raises(LockLost):
        jira.create_tickets([draft(number) for number in range(60)], guard=guard)

    assert len(asked) == 2  # asked before each request: the first bulk of 50 went, the next did not
    assert len(set(jira_any.world.issues) - before) == 50
