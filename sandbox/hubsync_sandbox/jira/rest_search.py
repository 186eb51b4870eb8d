"""JQL search: Cloud's `/search/jql` (token paging, no total) and Data Center's `/search` (startAt, total), and the
410 Cloud answers on the removed `/rest/api/{2,3}/search` family (CHANGE-2046)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from flask import Blueprint, Response, request

from hubsync_sandbox.jira import jql, render
from hubsync_sandbox.jira.rest_support import caller, int_arg, json_object, list_arg, reply
from hubsync_sandbox.jira.world import JiraError, JiraWorld

REMOVED_API = (
    "The requested API has been removed. Please use the newer, enhanced search-based API instead. "
    "See https://developer.atlassian.com/changelog/#CHANGE-2046 for more details."
)
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
DEFAULT_MAX_RESULTS = 50
MAX_RESULTS_ID_ONLY = 5000  # Cloud: when only id/key are asked for
MAX_RESULTS_WITH_FIELDS = 100
MAX_RESULTS_DATA_CENTER = 1000


def register_cloud(bp: Blueprint, world: JiraWorld) -> None:
    @bp.route("/search/jql", methods=["GET", "POST"])
    def search_jql() -> Response:
        if request.method == "POST":
            body = json_object()
            params = {
                "jql": body.get("jql"),
                "nextPageToken": body.get("nextPageToken"),
                "maxResults": body.get("maxResults"),
                "fields": body.get("fields"),
                "properties": body.get("properties"),
                "reconcileIssues": body.get("reconcileIssues"),
                "expand": [body["expand"]] if isinstance(body.get("expand"), str) else None,
            }
        else:
            params = {
                "jql": request.args.get("jql"),
                "nextPageToken": request.args.get("nextPageToken"),
                "maxResults": int_arg("maxResults", DEFAULT_MAX_RESULTS),
                "fields": list_arg("fields"),
                "properties": list_arg("properties"),
                "reconcileIssues": list_arg("reconcileIssues"),
                "expand": list_arg("expand"),
            }
        return reply(_search_jql(world, params))


def register_data_center(bp: Blueprint, world: JiraWorld) -> None:
    @bp.route("/search", methods=["GET", "POST"])
    def search() -> Response:
        if request.method == "POST":
            body = json_object()
            text, start_at = body.get("jql") or "", body.get("startAt") or 0
            max_results, fields = body.get("maxResults", DEFAULT_MAX_RESULTS), body.get("fields")
            expand = body.get("expand") if isinstance(body.get("expand"), list) else None
        else:
            text, start_at = request.args.get("jql", ""), int_arg("startAt", 0)
            max_results, fields = int_arg("maxResults", DEFAULT_MAX_RESULTS), list_arg("fields")
            expand = list_arg("expand")
        if not isinstance(start_at, int) or not isinstance(max_results, int) or start_at < 0:
            raise JiraError(400, ["'startAt' and 'maxResults' must be non-negative integers."])
        max_results = max(0, min(max_results, MAX_RESULTS_DATA_CENTER))
        found = world.search(_parsed(text), actor=caller(), consistent=False)
        chosen = render.selected_fields(fields, "*navigable")
        with world.lock:
            page = [render.issue(world, issue, chosen, expand=expand)
                    for issue in found[start_at : start_at + max_results]]
        return reply({"expand": "names,schema", "startAt": start_at, "maxResults": max_results,
                      "total": len(found), "issues": page})


def removed_search_blueprint() -> Blueprint:
    """Cloud's removed search endpoints, which answer 410 to every caller."""
    bp = Blueprint("jira_removed_search", __name__)

    def gone() -> Response:
        return reply({"errorMessages": [REMOVED_API], "errors": {}}, 410)

    for version in ("2", "3"):
        bp.add_url_rule(f"/rest/api/{version}/search", f"search_v{version}", gone, methods=["GET", "POST"])
        bp.add_url_rule(f"/rest/api/{version}/search/id", f"search_id_v{version}", gone, methods=["POST"])
        bp.add_url_rule(f"/rest/api/{version}/expression/eval", f"eval_v{version}", gone, methods=["POST"])
    return bp


def _search_jql(world: JiraWorld, params: dict[str, Any]) -> dict[str, Any]:
    text = params["jql"] or ""
    if not isinstance(text, str):
        raise JiraError(400, ["'jql' must be a string."])
    query = _parsed(text)
    if not query.bounded:
        raise JiraError(400, [UNBOUNDED])
    fields = params["fields"]
    if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
        raise JiraError(400, ["'fields' must be a list of field names."])
    id_only = not fields or {f.strip() for f in fields} <= {"id"}
    cap = MAX_RESULTS_ID_ONLY if not fields or {f.strip() for f in fields} <= {"id", "key"} else MAX_RESULTS_WITH_FIELDS
    max_results = params["maxResults"] if params["maxResults"] is not None else DEFAULT_MAX_RESULTS
    if not isinstance(max_results, int) or max_results < 0:
        raise JiraError(400, ["'maxResults' must be a non-negative integer."])
    max_results = min(max_results, cap)
    offset = _offset_from(params["nextPageToken"], text)
    reconcile = {str(i) for i in params["reconcileIssues"] or []}
    found = world.search(query, actor=caller(), consistent=False, reconcile_ids=reconcile)
    page = found[offset : offset + max_results]
    chosen = render.selected_fields(fields, "id")
    with world.lock:
        issues = [render.issue(world, issue, chosen, params["properties"], id_only=id_only, expand=params["expand"])
                  for issue in page]
    result: dict[str, Any] = {"issues": issues, "isLast": offset + max_results >= len(found)}
    if not result["isLast"]:
        result["nextPageToken"] = _token_for(offset + max_results, text)
    return result


def _parsed(text: str) -> jql.Query:
    try:
        return jql.parse(text)
    except jql.JqlError as exc:
        raise JiraError(400, [str(exc)]) from None


def _token_for(offset: int, text: str) -> str:
    """An opaque page token bound to its query, as Jira's are (a token from another query is refused)."""
    raw = json.dumps({"o": offset, "q": hashlib.sha256(text.encode()).hexdigest()[:16]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset_from(token: Any, text: str) -> int:
    if token in (None, ""):
        return 0
    try:
        padded = str(token) + "=" * (-len(str(token)) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        if decoded["q"] == hashlib.sha256(text.encode()).hexdigest()[:16] and int(decoded["o"]) >= 0:
            return int(decoded["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise JiraError(400, ["The provided next page token is invalid or expired."])
