"""Issue resources: create (single, bulk), get, edit, delete, transitions, comments, properties, remote links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from hubsync_sandbox.jira import render
from hubsync_sandbox.jira.rest_support import (
    bool_arg,
    caller,
    int_arg,
    json_body,
    json_object,
    list_arg,
    no_content,
    reply,
)
from hubsync_sandbox.jira.world import JiraError, JiraWorld, not_on_screen

MAX_BULK_CREATE = 50


def register(bp: Blueprint, world: JiraWorld) -> None:
    @bp.post("/issue")
    def create_issue() -> Response:
        return reply(_create(world, json_object()), 201)

    @bp.post("/issue/bulk")
    def create_issues() -> Response:
        """Each element is created on its own; 201 if any succeeded, 400 (same shape) if all failed."""
        try:
            updates = json_object().get("issueUpdates")
            if not isinstance(updates, list) or not updates:
                raise JiraError(400, ["'issueUpdates' must be a non-empty list."])
            if len(updates) > MAX_BULK_CREATE:
                raise JiraError(400, [f"You can create at most {MAX_BULK_CREATE} issues in one bulk request."])
        except JiraError as exc:
            error = {"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": 0}
            return reply({"issues": [], "errors": [error]}, 400)
        created, errors = [], []
        for number, element in enumerate(updates):
            try:
                if not isinstance(element, dict):
                    raise JiraError(400, ["Each element of 'issueUpdates' must be a JSON object."])
                created.append(_create(world, element))
            except JiraError as exc:
                errors.append({"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": number})
        return reply({"issues": created, "errors": errors}, 201 if created else 400)

    @bp.get("/issue/<key>")
    def get_issue(key: str) -> Response:
        with world.lock:
            issue = world.get_issue(key)
            fields = render.selected_fields(list_arg("fields"), "*all")
            return reply(render.issue(world, issue, fields, list_arg("properties"), expand=list_arg("expand")))

    @bp.put("/issue/<key>")
    def edit_issue(key: str) -> Response:
        world.get_issue(key)
        body = json_object()
        world.edit_issue(key, body.get("fields", {}), caller(), update=body.get("update"),
                         properties=body.get("properties"))
        if world.flavour == "cloud" and bool_arg("returnIssue"):
            with world.lock:
                issue = world.get_issue(key)
                return reply(render.issue(world, issue, render.selected_fields(None, "*all")))
        return no_content()

    @bp.delete("/issue/<key>")
    def delete_issue(key: str) -> Response:
        world.delete_issue(key, caller())
        return no_content()

    # -- transitions -------------------------------------------------------------------------
    @bp.get("/issue/<key>/transitions")
    def list_transitions(key: str) -> Response:
        with_fields = "transitions.fields" in (list_arg("expand") or [])
        only = request.args.get("transitionId")
        with world.lock:
            issue = world.get_issue(key)
            available = world.transitions(key)
            candidates = available
            if world.flavour == "cloud" and bool_arg("includeUnavailableTransitions"):
                candidates = list(issue.project.workflow.transitions)
            shown = []
            for transition in candidates:
                if only is not None and transition.id != only:
                    continue
                body = render.transition(world, transition, with_fields=with_fields)
                if world.flavour == "cloud":
                    body["isAvailable"] = transition in available
                shown.append(body)
        return reply({"expand": "transitions", "transitions": shown})

    @bp.post("/issue/<key>/transitions")
    def do_transition(key: str) -> Response:
        world.get_issue(key)
        body = json_object()
        transition = body.get("transition")
        if not isinstance(transition, dict) or not isinstance(transition.get("id"), str | int):
            raise JiraError(400, ["Missing 'transition' identifier"])
        update = body.get("update") or {}
        unknown = {name: not_on_screen(name) for name in update if name != "comment"}
        if unknown:
            raise JiraError(400, errors=unknown)
        comment = _comment_from_update(update.get("comment"))
        world.transition_issue(key, str(transition["id"]), caller(), body.get("fields") or {}, comment)
        return no_content()

    # -- comments ----------------------------------------------------------------------------
    @bp.get("/issue/<key>/comment")
    def list_comments(key: str) -> Response:
        start_at = int_arg("startAt", 0)
        max_results = int_arg("maxResults", 5000, minimum=1)
        with world.lock:
            issue = world.get_issue(key)
            page = render.comment_page(world, issue, start_at, max_results)
            if request.args.get("orderBy", "").lstrip("+") == "-created":
                ordered = sorted(issue.comments, key=lambda c: c.created, reverse=True)
                page["comments"] = [render.comment(world, issue, c)
                                    for c in ordered[start_at : start_at + max_results]]
            return reply(page)

    @bp.post("/issue/<key>/comment")
    def add_comment(key: str) -> Response:
        world.get_issue(key)
        body = json_object()
        comment = world.add_comment(key, body.get("body"), caller())
        with world.lock:
            return reply(render.comment(world, world.get_issue(key), comment), 201)

    # -- properties --------------------------------------------------------------------------
    @bp.get("/issue/<key>/properties")
    def property_keys(key: str) -> Response:
        with world.lock:
            issue = world.get_issue(key)
            keys = [{"self": f"{world.rest_base}/issue/{issue.id}/properties/{name}", "key": name}
                    for name in issue.properties]
        return reply({"keys": keys})

    @bp.get("/issue/<key>/properties/<property_key>")
    def get_property(key: str, property_key: str) -> Response:
        return reply({"key": property_key, "value": world.get_property(key, property_key)})

    @bp.put("/issue/<key>/properties/<property_key>")
    def set_property(key: str, property_key: str) -> Response:
        world.get_issue(key)
        created = world.set_property(key, property_key, json_body(), caller())
        return Response(status=201 if created else 200)

    @bp.delete("/issue/<key>/properties/<property_key>")
    def delete_property(key: str, property_key: str) -> Response:
        world.delete_property(key, property_key, caller())
        return no_content()

    # -- remote links ------------------------------------------------------------------------
    @bp.get("/issue/<key>/remotelink")
    def list_remote_links(key: str) -> Response:
        """All links; with `globalId`, that one link (404 when the issue has none with it)."""
        global_id = request.args.get("globalId")
        with world.lock:
            issue = world.get_issue(key)
            links = world.remote_links(key, global_id)
            if global_id is None:
                return reply([render.remote_link(world, issue, link) for link in links])
            if not links:
                raise JiraError(404, [f"No remote link with global id '{global_id}' exists on issue '{key}'."])
            return reply(render.remote_link(world, issue, links[0]))

    @bp.post("/issue/<key>/remotelink")
    def upsert_remote_link(key: str) -> Response:
        world.get_issue(key)
        link, created = world.upsert_remote_link(key, json_object(), caller())
        with world.lock:
            issue = world.get_issue(key)
            shown = render.remote_link(world, issue, link)
        # Cloud documents 201 (created) and 200 (updated); the Data Center document lists 200 only.
        status = 201 if created and world.flavour == "cloud" else 200
        return reply({"id": shown["id"], "self": shown["self"]}, status)

    @bp.delete("/issue/<key>/remotelink")
    def delete_remote_link_by_global_id(key: str) -> Response:
        global_id = request.args.get("globalId")
        world.get_issue(key)
        if not global_id:
            # Cloud documents 400 for a missing globalId; the Data Center document lists no 400 here, only 404.
            status = 400 if world.flavour == "cloud" else 404
            raise JiraError(status, ["The global id of the remote link to delete is required (globalId)."])
        world.delete_remote_links(key, caller(), global_id=global_id)
        return no_content()

    @bp.get("/issue/<key>/remotelink/<link_id>")
    def get_remote_link(key: str, link_id: str) -> Response:
        with world.lock:
            issue = world.get_issue(key)
            return reply(render.remote_link(world, issue, world.remote_link(key, link_id)))

    @bp.delete("/issue/<key>/remotelink/<link_id>")
    def delete_remote_link(key: str, link_id: str) -> Response:
        world.delete_remote_links(key, caller(), link_id=link_id)
        return no_content()


def _create(world: JiraWorld, body: dict[str, Any]) -> dict[str, Any]:
    """Create one issue from a create body (as in a single or a bulk request): {id, key, self}."""
    issue = world.create_issue(body.get("fields", {}), caller(), body.get("properties"), update=body.get("update"))
    created: dict[str, Any] = {"id": issue.id, "key": issue.key, "self": f"{world.rest_base}/issue/{issue.id}"}
    transition = body.get("transition")
    if world.flavour == "cloud" and isinstance(transition, dict) and "id" in transition:
        try:
            world.transition_issue(issue.key, str(transition["id"]), caller())
            created["transition"] = {"status": 204, "errorCollection": {"errorMessages": [], "errors": {}}}
        except JiraError as exc:
            created["transition"] = {"status": exc.status, "errorCollection": exc.body()}
    return created


def _comment_from_update(operations: Any) -> Any:
    """The body of `update.comment: [{"add": {"body": ...}}]`, as a transition request carries it."""
    if operations is None:
        return None
    if (
        not isinstance(operations, list)
        or len(operations) != 1
        or not isinstance(operations[0], dict)
        or not isinstance(operations[0].get("add"), dict)
    ):
        raise JiraError(400, errors={"comment": "Give one comment as [{\"add\": {\"body\": ...}}]."})
    return operations[0]["add"].get("body")
