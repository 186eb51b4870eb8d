"""The bodies Forge sends a remote, built from what the Jira world tells its listeners (Jira's webhook payloads).

Shapes follow Forge's events reference (docs/forge.md §4-§6); where the reference is silent or unverified (the
post-function event's `transition` and `workflow` fields, `associatedStatuses`), the choice is noted here and
remotes should read defensively. Users appear as `{accountId}` only, as in Forge's `Issue` type.
"""

from __future__ import annotations

from typing import Any

CREATED = "avi:jira:created:issue"
UPDATED = "avi:jira:updated:issue"
DELETED = "avi:jira:deleted:issue"
COMMENTED = "avi:jira:commented:issue"
INSTALLED = "avi:forge:installed:app"
UPGRADED = "avi:forge:upgraded:app"

# The issue fields a Forge product event carries (Forge's `Issue` type).
ISSUE_FIELDS = ("summary", "issuetype", "creator", "created", "project", "reporter", "assignee", "updated", "status")
USER_FIELDS = ("creator", "reporter", "assignee")


def event_type(payload: dict[str, Any]) -> str | None:
    """The Forge event a Jira webhook payload stands for (None: one Forge has no issue event for)."""
    webhook = payload.get("webhookEvent")
    if webhook == "jira:issue_created":
        return CREATED
    if webhook == "jira:issue_deleted":
        return DELETED
    if webhook == "jira:issue_updated":
        return COMMENTED if payload.get("issue_event_type_name") == "issue_commented" else UPDATED
    return None


def actor_id(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    return user.get("accountId") if isinstance(user, dict) else None


def issue(payload_issue: dict[str, Any]) -> dict[str, Any]:
    fields = payload_issue.get("fields", {})
    shown = {name: fields[name] for name in ISSUE_FIELDS if name in fields}
    for name in USER_FIELDS:
        if isinstance(shown.get(name), dict):
            shown[name] = {"accountId": shown[name].get("accountId")}
    return {"id": str(payload_issue["id"]), "key": payload_issue["key"], "fields": shown}


def product_event(payload: dict[str, Any], forge_type: str, self_generated: bool, cloud_id: str,
                  trigger_key: str) -> dict[str, Any]:
    """An avi:jira:*:issue event as a remote receives it."""
    actor = actor_id(payload)
    body: dict[str, Any] = {
        "eventType": forge_type,
        "selfGenerated": self_generated,
        "issue": issue(payload["issue"]),
        "atlassianId": actor,
        "associatedUsers": [{"accountId": actor}] if actor else [],
        "timestamp": str(payload.get("timestamp", "")),
        "context": {"cloudId": cloud_id, "moduleKey": trigger_key},
    }
    if forge_type == UPDATED:
        body["jiraEventTypeName"] = payload.get("issue_event_type_name")
        body["changelog"] = payload.get("changelog") or {"items": []}
        statuses = status_change(payload)
        if statuses is not None:
            # [UNVERIFIED] shape: the old and the new status, as {id, name}.
            body["associatedStatuses"] = [{"id": statuses[0], "name": statuses[2]},
                                          {"id": statuses[1], "name": statuses[3]}]
    if forge_type == COMMENTED and isinstance(payload.get("comment"), dict):
        comment = dict(payload["comment"])
        for name in ("author", "updateAuthor"):
            if isinstance(comment.get(name), dict):
                comment[name] = {"accountId": comment[name].get("accountId")}
        body["comment"] = comment
    return body


def status_change(payload: dict[str, Any]) -> tuple[str, str, str | None, str | None] | None:
    """(from id, to id, from name, to name) when an issue update moved the issue's status."""
    if payload.get("webhookEvent") != "jira:issue_updated":
        return None
    for item in (payload.get("changelog") or {}).get("items", []):
        if item.get("field") == "status":
            return str(item.get("from")), str(item.get("to")), item.get("fromString"), item.get("toString")
    return None


def post_function_event(payload: dict[str, Any], *, transition: dict[str, Any], workflow: dict[str, Any],
                        configuration: Any, post_function_id: str) -> dict[str, Any]:
    """The "run post function" event (Forge's events reference). `transition` carries `transitionId`,
    `transitionName`, `from`/`to` `{id, name}` and the `executionId` shared by every post function of this one
    transition; `workflow` carries `workflowId` and `workflowName` [UNVERIFIED field names]. `configuration` is
    what the post function's config UI saved, passed through as stored. No `context`: remotes use the FIT."""
    return {
        "issue": issue(payload["issue"]),
        "transition": transition,
        "workflow": workflow,
        "atlassianId": actor_id(payload),
        "changelog": payload.get("changelog") or {"items": []},
        "configuration": configuration,
        "postFunction": {"id": post_function_id},
    }


def lifecycle_event(forge_type: str, *, installation_id: str, account_id: str, app_id: str, version: str,
                    environment_id: str) -> dict[str, Any]:
    """avi:forge:installed:app / avi:forge:upgraded:app."""
    actor = "installerAccountId" if forge_type == INSTALLED else "upgraderAccountId"
    return {
        "eventType": forge_type,
        "id": installation_id,
        actor: account_id,
        "app": {"id": app_id, "version": version},
        "environment": {"id": environment_id},
    }


def context_event(cloud_id: str, module_key: str, context_token: str) -> dict[str, Any]:
    """The body of a scheduled trigger's and a preUninstall's call: `{context: {cloudId, moduleKey}, contextToken}`."""
    return {"context": {"cloudId": cloud_id, "moduleKey": module_key}, "contextToken": context_token}
