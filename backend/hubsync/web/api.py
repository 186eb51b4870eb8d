"""The iframe API `/api/v1`: JSON for the front end in `ui-templates/static/`, called with the context JWT that
`AP.context.getToken()` hands the iframe (Connect today; Forge Remote will call the same routes).

    GET  /api/v1/panel?issueKey=SEC-1              the issue's finding, live, and the pair's sync history
    GET  /api/v1/settings                          the configure page's data
    PUT  /api/v1/settings                          save; 400 {"error", "fields": {path: [messages]}} when invalid
    POST /api/v1/settings/test-connection          {"aws": {...}} optional: test unsaved values
    POST /api/v1/settings/events-api-key           {"revokePrevious": bool}: rotate the EventBridge API key; the
                                                   new key is shown once

Routes only parse, authenticate (`verified_jira`) and hand over to `service.panel` / `service.settings`.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, g, jsonify, request

from hubsync.adapters.store import Store, TenantNotFound
from hubsync.service.panel import TenantContexts, panel_view
from hubsync.service.settings import (
    InvalidSettings,
    check_connection,
    parse_aws_settings,
    parse_settings,
    read_settings,
    rotate_events_api_key,
    save_settings,
)
from hubsync.web.events import API_KEY_HEADER
from hubsync.web.jira_auth import verified_jira
from hubsync.web.services import services

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9]\d*$")
CONTEXTS = "hubsync.api.contexts"

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.after_request
def _no_store(response: Response) -> Response:
    """Finding data and keys are per user and per moment: never cached by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/panel")
@verified_jira(context_token=True)
def panel() -> tuple[Response, int] | Response:
    issue_key = request.args.get("issueKey", "").strip().upper()
    if not ISSUE_KEY.match(issue_key):
        return _error(400, "issueKey must be a Jira issue key such as SEC-1")
    context_key = _context_issue_key()
    if context_key is not None and context_key.upper() != issue_key:
        return _error(403, f"this token was issued for {context_key}, not {issue_key}")
    return jsonify(panel_view(g.tenant, _store(), issue_key, _contexts().get))


@bp.get("/settings")
@verified_jira(context_token=True)
def get_settings() -> Response:
    return jsonify(read_settings(g.tenant, _base_url(), API_KEY_HEADER))


@bp.put("/settings")
@verified_jira(context_token=True)
def put_settings() -> tuple[Response, int] | Response:
    try:
        settings = parse_settings(request.get_json(silent=True))
    except InvalidSettings as invalid:
        return _invalid(invalid)
    try:
        tenant = save_settings(_store(), g.tenant.id, settings)
    except TenantNotFound:
        return _error(404, "this Jira site is no longer installed")
    return jsonify(read_settings(tenant, _base_url(), API_KEY_HEADER))


@bp.post("/settings/test-connection")
@verified_jira(context_token=True)
def test_connection() -> tuple[Response, int] | Response:
    body = request.get_json(silent=True)
    aws = None
    if isinstance(body, dict) and body.get("aws") is not None:
        try:
            aws = parse_aws_settings(body["aws"])
        except InvalidSettings as invalid:
            return _invalid(invalid)
    return jsonify(check_connection(g.tenant, aws).to_json())


@bp.post("/settings/events-api-key")
@verified_jira(context_token=True)
def rotate_key() -> tuple[Response, int] | Response:
    body = request.get_json(silent=True)
    revoke = isinstance(body, dict) and body.get("revokePrevious") is True
    try:
        return jsonify(rotate_events_api_key(_store(), g.tenant.id, _base_url(), revoke_previous=revoke))
    except TenantNotFound:
        return _error(404, "this Jira site is no longer installed")


def _context_issue_key() -> str | None:
    """The issue the context token was issued on, when Jira put one in its `context` claim."""
    context = g.jira_claims.get("context")
    issue = context.get("jira", {}).get("issue") if isinstance(context, dict) else None
    key = issue.get("key") if isinstance(issue, dict) else None
    return key if isinstance(key, str) and key else None


def _contexts() -> TenantContexts:
    """The app's cache of tenants' sync contexts, made on first use."""
    contexts = current_app.extensions.get(CONTEXTS)
    if contexts is None:
        contexts = current_app.extensions.setdefault(CONTEXTS, TenantContexts(_store()))
    return contexts


def _store() -> Store:
    return services().store


def _base_url() -> str:
    return services().config.base_url


def _invalid(invalid: InvalidSettings) -> tuple[Response, int]:
    return jsonify(error="the settings are not valid; see the messages by field", fields=invalid.fields), 400


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status
