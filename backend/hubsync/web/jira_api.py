"""What the tenant's Jira site has, for the configure page's pickers: `/api/v1/jira`, Jira administrators only.

    GET /api/v1/jira/projects?query=SEC                       {"projects": [{"id", "key", "name"}]}
    GET /api/v1/jira/projects/<key>/issue-types               {"issueTypes": [{"id", "name"}]}
    GET /api/v1/jira/projects/<key>/statuses[?issueType=ID]   {"statuses": [{"id", "name", "category"}]}
    GET /api/v1/jira/priorities                               {"priorities": [{"id", "name"}]}
    GET /api/v1/jira/users?query=ali[&project=SEC]            {"users": [{"id", "displayName", "email"}]}

Read through hubsync's own Jira credentials (`TenantClients.projects`), after `jira_admin` said the caller is a
Jira administrator: the page must show what hubsync can use, and a developer's token must not list the site's
people. Bad input is a 400, a project Jira does not show a 404, a Jira that cannot be asked a 503; all JSON.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from hubsync.domain.policy_schema import PROJECT_KEY
from hubsync.domain.ports import JiraProjectsPort, JiraUnavailable, ProjectNotFound
from hubsync.domain.tenant import TenantNotReady, TenantWaiting
from hubsync.web.api import jira_admin
from hubsync.web.callers import verified_caller
from hubsync.web.errors import ApiError
from hubsync.web.services import services

MAX_QUERY = 100
MAX_PROJECT_KEY = 255  # Jira's longest project key
ISSUE_TYPE_ID = re.compile(r"^[0-9]{1,18}\Z")
JIRA_UNAVAILABLE = "Jira could not be asked what it has; try again in a minute"

log = logging.getLogger(__name__)

bp = Blueprint("jira_api", __name__, url_prefix="/api/v1/jira")


@bp.after_request
def _no_store(response: Response) -> Response:
    """The site's people and projects as the caller may see them now: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ProjectNotFound)
def _no_project(_error: ProjectNotFound) -> tuple[Response, int]:
    return jsonify(error="Jira has no such project, or does not show it to hubsync"), 404


@bp.errorhandler(JiraUnavailable)
@bp.errorhandler(TenantNotReady)
@bp.errorhandler(TenantWaiting)
def _unavailable(error: Exception) -> tuple[Response, int]:
    log.warning("tenant %s: could not read %s from Jira: %s", g.tenant.id, request.path, error)
    return jsonify(error=JIRA_UNAVAILABLE), 503


@bp.get("/projects")
@verified_caller()
@jira_admin
def projects() -> Response:
    found = _jira().projects(_query(required=False))
    return jsonify(projects=[{"id": p.id, "key": p.key, "name": p.name} for p in found])


@bp.get("/projects/<key>/issue-types")
@verified_caller()
@jira_admin
def issue_types(key: str) -> Response:
    found = _jira().issue_types(_project_key(key, "key"))
    return jsonify(issueTypes=[{"id": t.id, "name": t.name} for t in found])


@bp.get("/projects/<key>/statuses")
@verified_caller()
@jira_admin
def statuses(key: str) -> Response:
    project_key = _project_key(key, "key")
    issue_type = request.args.get("issueType")
    if issue_type is not None and not ISSUE_TYPE_ID.match(issue_type):
        raise _invalid("issueType", "an issue type id, digits only")
    found = _jira().statuses(project_key, issue_type)
    return jsonify(statuses=[{"id": s.id, "name": s.name, "category": s.category.value} for s in found])


@bp.get("/priorities")
@verified_caller()
@jira_admin
def priorities() -> Response:
    return jsonify(priorities=[{"id": p.id, "name": p.name} for p in _jira().priorities()])


@bp.get("/users")
@verified_caller()
@jira_admin
def users() -> Response:
    query = _query(required=True)
    project = request.args.get("project")
    found = _jira().users(query, _project_key(project, "project") if project is not None else None)
    return jsonify(users=[{"id": u.id, "displayName": u.display_name, "email": u.email} for u in found])


def _jira() -> JiraProjectsPort:
    return services().tenants.projects(g.tenant)


def _query(*, required: bool) -> str:
    query = request.args.get("query", "").strip()
    if required and not query:
        raise _invalid("query", "type part of a name or an email address")
    if len(query) > MAX_QUERY:
        raise _invalid("query", f"at most {MAX_QUERY} characters")
    return query


def _project_key(value: str, name: str) -> str:
    if len(value) > MAX_PROJECT_KEY or not PROJECT_KEY.fullmatch(value):
        raise _invalid(name, "a Jira project key: capital letters, digits or _, starting with a letter (SEC)")
    return value


def _invalid(name: str, message: str) -> ApiError:
    extra: dict[str, Any] = {"fields": {name: [message]}}
    return ApiError(400, f"{name} is not valid: {message}", **extra)
