"""World objects as Jira's REST API and webhooks show them, per flavour (Cloud v3 / Data Center v2).

Call these while holding the world's lock: they read live objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hubsync_sandbox.jira.model import (
    Comment,
    Issue,
    IssueType,
    Priority,
    Project,
    RemoteLink,
    Resolution,
    Status,
    StatusCategory,
    Transition,
    User,
)

if TYPE_CHECKING:
    from hubsync_sandbox.jira.world import JiraWorld

# Fields an issue has, in the order Jira lists them; `comment` is not navigable (not in search by default).
NAVIGABLE_FIELDS = (
    "summary", "issuetype", "project", "status", "statuscategorychangedate", "priority", "labels", "assignee",
    "reporter", "creator", "created", "updated", "resolution", "resolutiondate", "description",
)
ALL_FIELDS = (*NAVIGABLE_FIELDS, "comment")


def timestamp(moment: datetime) -> str:
    """Jira's timestamp format, e.g. `2025-01-31T09:15:00.000+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


def avatar_urls(world: JiraWorld, kind: str, ident: str) -> dict[str, str]:
    base = f"{world.base_url}/secure/{kind}avatar?avatarId={quote(ident)}"
    return {size: f"{base}&size={size}" for size in ("48x48", "24x24", "16x16", "32x32")}


def user(world: JiraWorld, person: User | None) -> dict[str, Any] | None:
    if person is None:
        return None
    common = {
        "avatarUrls": avatar_urls(world, "user", person.name),
        "displayName": person.display_name,
        "active": person.active,
        "timeZone": "UTC",
    }
    if world.flavour == "cloud":
        shown = {"self": f"{world.rest_base}/user?accountId={quote(person.account_id)}",
                 "accountId": person.account_id, "accountType": person.account_type}
        if person.email:
            shown["emailAddress"] = person.email
        return shown | common
    return {
        "self": f"{world.rest_base}/user?username={quote(person.name)}",
        "key": person.key,
        "name": person.name,
        "emailAddress": person.email,
    } | common


def status_category(world: JiraWorld, category: StatusCategory) -> dict[str, Any]:
    return {"self": f"{world.rest_base}/statuscategory/{category.id}", "id": category.id, "key": category.key,
            "colorName": category.color_name, "name": category.name}


def status(world: JiraWorld, shown: Status) -> dict[str, Any]:
    return {
        "self": f"{world.rest_base}/status/{shown.id}",
        "description": shown.description,
        "iconUrl": f"{world.base_url}/images/icons/statuses/generic.png",
        "name": shown.name,
        "id": shown.id,
        "statusCategory": status_category(world, shown.category),
    }


def priority(world: JiraWorld, shown: Priority, *, full: bool = False) -> dict[str, Any]:
    body = {"self": f"{world.rest_base}/priority/{shown.id}",
            "iconUrl": f"{world.base_url}/images/icons/priorities/{shown.name.lower()}.svg",
            "name": shown.name, "id": shown.id}
    if full:
        body |= {"statusColor": shown.color, "description": f"{shown.name} priority."}
    return body


def resolution(world: JiraWorld, shown: Resolution | None) -> dict[str, Any] | None:
    if shown is None:
        return None
    return {"self": f"{world.rest_base}/resolution/{shown.id}", "id": shown.id,
            "description": shown.description, "name": shown.name}


def issue_type(world: JiraWorld, shown: IssueType) -> dict[str, Any]:
    body = {"self": f"{world.rest_base}/issuetype/{shown.id}", "id": shown.id, "description": shown.description,
            "iconUrl": f"{world.base_url}/images/icons/issuetypes/{shown.name.lower()}.svg",
            "name": shown.name, "subtask": False}
    if world.flavour == "cloud":
        body["hierarchyLevel"] = 0
    return body


def project_ref(world: JiraWorld, shown: Project) -> dict[str, Any]:
    body = {"self": f"{world.rest_base}/project/{shown.id}", "id": shown.id, "key": shown.key,
            "name": shown.name, "projectTypeKey": "software",
            "avatarUrls": avatar_urls(world, "project", shown.id)}
    if world.flavour == "cloud":
        body["simplified"] = False
    return body


def project(world: JiraWorld, shown: Project) -> dict[str, Any]:
    return project_ref(world, shown) | {
        "description": "",
        "lead": user(world, shown.lead),
        "issueTypes": [issue_type(world, t) for t in shown.issue_types],
        "assigneeType": "UNASSIGNED",
        "components": [],
        "versions": [],
        "roles": {},
    }


def comment(world: JiraWorld, issue: Issue, shown: Comment) -> dict[str, Any]:
    body = {
        "self": f"{world.rest_base}/issue/{issue.id}/comment/{shown.id}",
        "id": shown.id,
        "author": user(world, shown.author),
        "body": shown.body,
        "updateAuthor": user(world, shown.author),
        "created": timestamp(shown.created),
        "updated": timestamp(shown.updated),
    }
    if world.flavour == "cloud":
        body["jsdPublic"] = True
    return body


def comment_page(world: JiraWorld, issue: Issue, start_at: int = 0, max_results: int = 5000) -> dict[str, Any]:
    page = issue.comments[start_at : start_at + max_results]
    return {"self": f"{world.rest_base}/issue/{issue.id}/comment", "startAt": start_at,
            "maxResults": max_results, "total": len(issue.comments),
            "comments": [comment(world, issue, c) for c in page]}


def field_value(world: JiraWorld, issue: Issue, name: str) -> Any:
    values = {
        "summary": lambda: issue.summary,
        "issuetype": lambda: issue_type(world, issue.issue_type),
        "project": lambda: project_ref(world, issue.project),
        "status": lambda: status(world, issue.status),
        "statuscategorychangedate": lambda: timestamp(issue.status_category_changed),
        "priority": lambda: priority(world, issue.priority),
        "labels": lambda: list(issue.labels),
        "assignee": lambda: user(world, issue.assignee),
        "reporter": lambda: user(world, issue.reporter),
        "creator": lambda: user(world, issue.creator),
        "created": lambda: timestamp(issue.created),
        "updated": lambda: timestamp(issue.updated),
        "resolution": lambda: resolution(world, issue.resolution),
        "resolutiondate": lambda: timestamp(issue.resolution_date) if issue.resolution_date else None,
        "description": lambda: issue.description,
        "comment": lambda: comment_page(world, issue),
    }
    return values[name]()


def selected_fields(requested: Iterable[str] | None, default: str) -> list[str]:
    """Jira's `fields` parameter: names, `*all`, `*navigable`, and `-name` exclusions; unknown names ignored."""
    names = [n.strip() for item in (requested or [default]) for n in item.split(",") if n.strip()] or [default]
    chosen: list[str] = []
    for name in names:
        if name == "*all":
            chosen += ALL_FIELDS
        elif name == "*navigable":
            chosen += NAVIGABLE_FIELDS
        elif name in ALL_FIELDS:
            chosen.append(name)
    excluded = {name[1:] for name in names if name.startswith("-")}
    return [name for name in dict.fromkeys(chosen) if name not in excluded]


def selected_properties(issue: Issue, requested: Iterable[str] | None) -> dict[str, Any]:
    """Jira's `properties` parameter: keys, `*all`, and `-key` exclusions."""
    names = [n.strip() for item in (requested or []) for n in item.split(",") if n.strip()]
    keys = list(issue.properties) if "*all" in names else [n for n in names if not n.startswith("-")]
    excluded = {name[1:] for name in names if name.startswith("-")}
    return {k: issue.properties[k] for k in keys if k in issue.properties and k not in excluded}


def issue(
    world: JiraWorld,
    shown: Issue,
    fields: list[str],
    properties: Iterable[str] | None = None,
    *,
    id_only: bool = False,
    expand: Iterable[str] | None = None,
) -> dict[str, Any]:
    """An issue bean with the chosen fields (and properties, the changelog and the transitions, when asked for)."""
    if id_only:
        return {"id": shown.id}
    body: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": shown.id,
        "self": f"{world.rest_base}/issue/{shown.id}",
        "key": shown.key,
        "fields": {name: field_value(world, shown, name) for name in fields},
    }
    if properties:
        body["properties"] = selected_properties(shown, properties)
    expanded = {name.strip() for item in expand or [] for name in item.split(",")}
    if "changelog" in expanded:
        body["changelog"] = changelog(world, shown)
    if "transitions" in expanded:  # what its current status offers, as GET /issue/{key}/transitions lists it
        body["transitions"] = [transition(world, t) for t in world.transitions(shown.key)]
    return body


def changelog(world: JiraWorld, shown: Issue) -> dict[str, Any]:
    """The changelog expansion: Cloud lists the newest change first, Data Center the oldest."""
    groups = shown.changelog[::-1] if world.flavour == "cloud" else shown.changelog
    histories = [{"id": group.id, "author": user(world, group.author), "created": timestamp(group.created),
                  "items": [{k: v for k, v in item.items() if v is not None} for item in group.items]}
                 for group in groups]
    return {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}


def transition(world: JiraWorld, shown: Transition, *, with_fields: bool = False) -> dict[str, Any]:
    body = {
        "id": shown.id,
        "name": shown.name,
        "to": status(world, shown.to),
        "hasScreen": shown.has_screen,
        "isGlobal": shown.is_global,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }
    if world.flavour == "datacenter":
        body = {key: body[key] for key in ("id", "name", "to", "hasScreen", "isGlobal", "isInitial",
                                           "isConditional")}
    if with_fields:
        body["fields"] = {
            name: {
                "required": False,
                "schema": {"type": "resolution", "system": "resolution"},
                "name": "Resolution",
                "key": name,
                "operations": ["set"],
                "allowedValues": [resolution(world, r) for r in world.resolutions],
            }
            for name in shown.screen_fields
        }
    return body


def remote_link(world: JiraWorld, issue_shown: Issue, link: RemoteLink) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": link.id,
        "self": f"{world.rest_base}/issue/{issue_shown.key}/remotelink/{link.id}",
        "object": link.object,
    }
    if link.global_id is not None:
        body["globalId"] = link.global_id
    if link.application is not None:
        body["application"] = link.application
    if link.relationship is not None:
        body["relationship"] = link.relationship
    return body


def webhook_payload(world: JiraWorld, event: str, event_type: str, shown: Issue, actor: User) -> dict[str, Any]:
    """The body Jira posts to webhooks for an issue event (the changelog is added by the caller)."""
    fields = {name: field_value(world, shown, name) for name in NAVIGABLE_FIELDS}
    return {
        "timestamp": int(world.now().timestamp() * 1000),
        "webhookEvent": event,
        "issue_event_type_name": event_type,
        "user": user(world, actor),
        "issue": {
            "id": shown.id,
            "self": f"{world.rest_base}/issue/{shown.id}",
            "key": shown.key,
            "fields": fields,
            "properties": [{"key": key, "value": value} for key, value in shown.properties.items()],
        },
    }
