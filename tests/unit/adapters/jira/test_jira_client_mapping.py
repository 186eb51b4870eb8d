"""Reading an issue as Jira shows it into a `Ticket`: who moved it into its status and when (from the changelog),
its marker, and statuses outside Jira's three categories."""

from __future__ import annotations

from datetime import UTC, datetime

from hubsync.adapters.jira.dialect import Dialect
from hubsync.adapters.jira.tickets import ticket_from_issue
from hubsync.domain.ticket import FindingMarker, StatusCategory

CLOUD = Dialect("cloud")


def issue(status: dict, changelog: list[dict] | None = None, **properties: object) -> dict:
    body: dict = {
        "id": "10042",
        "key": "SEC-42",
        "fields": {
            "summary": "AWS Security Issue :: 111122223333 :: eu-west-1 :: S3 bucket is public",
            "status": status,
            "project": {"key": "SEC"},
            "labels": ["security-hub", "hubsync-0123456789ab"],
            "priority": {"name": "High"},
            "assignee": {"accountId": "5d8f2a7c41e3b90c0a7e6d21", "displayName": "Alice Developer"},
            "statuscategorychangedate": "2025-03-01T10:00:00.000+0000",
        },
        "properties": properties,
    }
    if changelog is not None:
        body["changelog"] = {"startAt": 0, "maxResults": len(changelog), "total": len(changelog),
                             "histories": changelog}
    return body


def status_change(who: str, when: str, source: tuple[str, str], target: tuple[str, str]) -> dict:
    return {"id": when, "author": {"displayName": who}, "created": when,
            "items": [{"field": "status", "fieldtype": "jira", "from": source[0], "fromString": source[1],
                       "to": target[0], "toString": target[1]}]}


APPROVED = {"id": "10005", "name": "Risk approved", "statusCategory": {"key": "done"}}
REQUEST, APPROVED_REF = ("10002", "Request risk acceptance"), ("10005", "Risk approved")


def test_who_last_moved_the_ticket_into_its_status_and_when() -> None:
    changelog = [  # newest first, as Cloud's search lists it
        status_change("Sofia Security", "2025-03-04T09:30:00.000+0000", REQUEST, APPROVED_REF),
        {"id": "3", "author": {"displayName": "Bob Developer"}, "created": "2025-03-03T08:00:00.000+0000",
         "items": [{"field": "labels", "fromString": "", "toString": "urgent"}]},
        status_change("Bob Developer", "2025-03-02T12:00:00.000+0000", APPROVED_REF, REQUEST),
        status_change("Victor Approver", "2025-03-01T10:00:00.000+0000", REQUEST, APPROVED_REF),
    ]

    ticket = ticket_from_issue(issue(APPROVED, changelog[::-1]), CLOUD)  # the order Jira lists them in is no matter

    assert ticket.status_changed_by == "Sofia Security"
    assert ticket.status_changed_at == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    assert (ticket.status, ticket.status_category) == ("Risk approved", StatusCategory.DONE)
    assert ticket.assignee == "5d8f2a7c41e3b90c0a7e6d21"


def test_without_the_change_in_the_changelog_only_when_its_category_changed_is_known() -> None:
    ticket = ticket_from_issue(issue(APPROVED, changelog=[]), CLOUD)

    assert ticket.status_changed_by is None
    assert ticket.status_changed_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_the_marker_property_is_read_and_a_foreign_shape_ignored() -> None:
    marker = {"id": "arn:aws:securityhub:eu-west-1:111122223333:finding/1", "productArn": "arn:aws:x", "key": "ab"}

    read = ticket_from_issue(issue(APPROVED, **{"hubsync.finding": marker}), CLOUD)
    foreign = ticket_from_issue(issue(APPROVED, **{"hubsync.finding": {"n": 1}}), CLOUD)

    assert read.marker == FindingMarker(marker["id"], "arn:aws:x", "ab")
    assert foreign.marker is None


def test_a_status_without_category_counts_as_to_do() -> None:
    status = {"id": "7", "name": "Legacy", "statusCategory": {"key": "undefined"}}

    assert ticket_from_issue(issue(status), CLOUD).status_category is StatusCategory.TO_DO


def test_data_center_names_people_by_user_name() -> None:
    shown = issue(APPROVED)
    shown["fields"]["assignee"] = {"name": "alice", "key": "alice", "displayName": "Alice Developer"}

    assert ticket_from_issue(shown, Dialect("datacenter")).assignee == "alice"
