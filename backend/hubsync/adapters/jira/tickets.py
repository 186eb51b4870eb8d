"""Jira issue JSON ↔ hubsync's `Ticket`: the fields read, the marker property, and the create body of a draft."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hubsync.adapters.jira.dialect import Dialect
from hubsync.domain.ports import TicketDraft
from hubsync.domain.rendering import Lozenge
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker, StatusCategory, Ticket

MARKER_LABEL = re.compile(r"^hubsync-[0-9a-f]{12}$")  # `domain.finding.marker_label`'s shape
# What a ticket read asks for: the ticket's own fields, plus the issue type (workflows are per issue type).
TICKET_FIELDS = (
    "summary",
    "status",
    "priority",
    "labels",
    "assignee",
    "project",
    "issuetype",
    "statuscategorychangedate",
)
JIRA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # e.g. 2025-01-31T09:15:00.000+0000


def ticket_from_issue(issue: Mapping[str, Any], dialect: Dialect) -> Ticket:
    """A `Ticket` from an issue as GET issue or a search returns it (with `TICKET_FIELDS`, the marker property and,
    where Jira gives it, the changelog)."""
    fields = issue.get("fields") or {}
    status = fields.get("status") or {}
    priority = fields.get("priority") or {}
    changed_by, changed_at = _last_status_change(issue, status)
    return Ticket(
        key=issue["key"],
        id=str(issue["id"]),
        project_key=(fields.get("project") or {}).get("key", issue["key"].rsplit("-", 1)[0]),
        status=status.get("name", ""),
        status_category=category_of(status),
        summary=fields.get("summary") or "",
        priority=priority.get("name"),
        labels=tuple(fields.get("labels") or ()),
        assignee=dialect.user_id(fields.get("assignee")),
        marker=FindingMarker.from_property((issue.get("properties") or {}).get(MARKER_PROPERTY)),
        status_changed_by=changed_by,
        status_changed_at=changed_at,
        status_id=str(status.get("id", "")),
        issue_type_id=str((fields.get("issuetype") or {}).get("id", "")),
    )


def category_of(status: Mapping[str, Any]) -> StatusCategory:
    """A status's category; Jira's "No Category" (`undefined`) counts as to do."""
    key = (status.get("statusCategory") or {}).get("key")
    return StatusCategory(key) if key in {category.value for category in StatusCategory} else StatusCategory.TO_DO


def has_marker(ticket: Ticket) -> bool:
    """Whether a ticket carries hubsync's marker: the property, or a marker label."""
    return ticket.marker is not None or any(MARKER_LABEL.match(label) for label in ticket.labels)


def create_body(draft: TicketDraft, dialect: Dialect, glance_property: str | None = None) -> dict[str, Any]:
    """The body of POST /issue (and of one element of POST /issue/bulk) for a draft, properties included (and the
    glance's status lozenge when the app has a glance)."""
    fields: dict[str, Any] = {
        "project": {"key": draft.project_key},
        "issuetype": {"name": draft.issue_type},
        "summary": draft.summary,
        "description": dialect.rich_text(draft.description),
        "labels": list(draft.labels),
    }
    if draft.priority:
        fields["priority"] = {"name": draft.priority}
    if draft.assignee:
        fields["assignee"] = dialect.user_ref(draft.assignee)
    body: dict[str, Any] = {"fields": fields}
    properties = dict(draft.properties)
    if glance_property and draft.lozenge:
        properties[glance_property] = lozenge_property(draft.lozenge)
    if properties:
        body["properties"] = [{"key": key, "value": value} for key, value in properties.items()]
    return body


def lozenge_property(lozenge: Lozenge) -> dict[str, Any]:
    """The value of a Connect glance's status property (`com.atlassian.jira.issue:<app>:<glance>:status`)."""
    return {"type": "lozenge", "value": {"label": lozenge.label, "type": lozenge.appearance}}


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, JIRA_TIME_FORMAT)
    except ValueError:
        return None


def _last_status_change(issue: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    """Who moved the issue into its current status, and when: the newest changelog entry that did. Without one
    (no changelog, or too old to be in it), nobody, and when its status category last changed — exact for
    hubsync's decision statuses, which are entered from another category."""
    histories = (issue.get("changelog") or {}).get("histories") or ()
    entered = [
        history
        for history in histories
        if any(item.get("field") == "status" and str(item.get("to")) == str(status.get("id"))
               for item in history.get("items") or ())
    ]
    timed = [(moment, history) for history in entered if (moment := parse_time(history.get("created"))) is not None]
    if not timed:
        return None, parse_time((issue.get("fields") or {}).get("statuscategorychangedate"))
    moment, history = max(timed, key=lambda pair: pair[0])
    return (history.get("author") or {}).get("displayName"), moment
