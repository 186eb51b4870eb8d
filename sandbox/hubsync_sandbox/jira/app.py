"""The Jira simulator's Flask app: the REST API of the world's flavour, its auth, fault knobs, the
search-consistency knob and the site's rate limit.

    POST /_sandbox/search-consistency {"delay_ms": 2000}   new issues stay out of search results for 2 s
    GET  /_sandbox/search-consistency                      the current delay
    POST /_sandbox/required-fields {"project": "OPS", "id": "customfield_10050", "name": "Cost centre"}
                                                           OPS's create screen requires that custom field, with no
                                                           default: its create metadata lists it, a create without
                                                           it is a 400 {"errors": {id: "Cost centre is required."}}
    GET|DELETE /_sandbox/required-fields                   {project: {id: name}}; no required custom fields
    POST /_sandbox/rate-limit {"rate": 10, "burst": 20}    REST requests past 10 a second (bursts of 20) get 429
    GET|DELETE /_sandbox/rate-limit                        the current limit; no limit (the default)
    POST /_sandbox/switch-tasks {"running_reads": 3, "failure": null}
                                                           a project's switch of workflow scheme stays RUNNING for 3
                                                           reads of its task (GET /task/{id}), then completes (with
                                                           "failure": Jira's words, it fails, changing nothing)
    GET|DELETE /_sandbox/switch-tasks                      the current setting; switches finish at once (the default)
    /_sandbox/admin-webhooks/..., /_sandbox/server-version  admin webhooks' deliveries and retries, Data Center's
                                                           version (admin_webhooks.py)

Rate limited as Jira Cloud does it (developer.atlassian.com, "Rate limiting"): the site's REST requests share one
budget; a request past it gets 429 with `Retry-After` (whole seconds), `X-RateLimit-Reset` (when, as
`yyyy-MM-ddTHH:mmZ`), `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and `RateLimit-Reason: jira-burst-based`;
answers let through carry `X-RateLimit-Limit`, `X-RateLimit-Remaining`, and `X-RateLimit-NearLimit: true` when
less than a fifth of the budget is left.

A Cloud site's REST API also answers behind Atlassian's API gateway, `/ex/jira/<cloudId>/rest/api/3/...` (the
`apiBaseUrl` Forge hands an app): the same handlers, reached with the Bearer tokens `world.gateway_tokens` accepts
(Forge's app tokens). `enter_gateway` strips the prefix before the app routes the request, so whatever wraps the
app inside that step (the OpenAPI contract check) sees a plain `/rest/...` request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from hubsync_sandbox.jira import (
    admin_webhooks,
    auth,
    rest_directory,
    rest_issues,
    rest_search,
    rest_workflows,
    workflow_import,
)
from hubsync_sandbox.jira.jql import JqlError
from hubsync_sandbox.jira.rest_support import error_reply, reply
from hubsync_sandbox.jira.world import JiraError, JiraWorld
from hubsync_sandbox.knobs import CONTROL_PREFIX, Admission, Knobs, RateLimit

FAULT_MESSAGES = {
    429: "Rate limit exceeded.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
}
# Endpoints Jira serves without credentials (wrong credentials are still a 401).
ANONYMOUS_ENDPOINTS = {"jira_rest.server_info"}
_GATEWAY_PATH = re.compile(r"^(/ex/jira/([^/]+))(/rest/.*)$")


class _JiraFlask(Flask):
    """Flask, plus the API gateway's path prefix taken off before the WSGI app (and its wrappers) see it."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        enter_gateway(environ, self.extensions["jira_world"])
        return self.wsgi_app(environ, start_response)


def enter_gateway(environ: dict[str, Any], world: JiraWorld) -> None:
    """A request to `/ex/jira/<this site's cloudId>/rest/...` becomes one to `/rest/...` (the prefix moves to
    SCRIPT_NAME) marked as a gateway request. Other requests, and other cloudIds (a 404), are left alone."""
    match = _GATEWAY_PATH.match(environ.get("PATH_INFO", ""))
    if match is None or world.flavour != "cloud" or match.group(2) != world.cloud_id:
        return
    environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + match.group(1)
    environ["PATH_INFO"] = match.group(3)
    environ[auth.GATEWAY_CLOUD_ID] = match.group(2)


def through_gateway(wsgi_app: Callable[..., Any], world: JiraWorld) -> Callable[..., Any]:
    """`wsgi_app` with gateway requests rewritten first: wrap a contract-checking wrapper of the Jira app in it,
    so gateway requests are checked too (the app's own rewrite then finds nothing left to do)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        enter_gateway(environ, world)
        return wsgi_app(environ, start_response)

    return app


def create_jira_app(world: JiraWorld, extra_blueprints: Iterable[Blueprint] = ()) -> Flask:
    """The simulator for `world`; `extra_blueprints` (e.g. the Connect platform side) are served alongside."""
    app = _JiraFlask(__name__)
    knobs = Knobs(error_body=_fault_body)
    knobs.install(app)  # counter key: "METHOD /rule", e.g. "GET /rest/api/3/issue/<key>"
    app.extensions["jira_world"] = world
    app.extensions["sandbox_knobs"] = knobs
    limit = RateLimit()
    app.extensions["sandbox_rate_limit"] = limit
    _install_rate_limit(app, limit)
    app.register_blueprint(_api_blueprint(world))
    hooks = admin_webhooks.AdminWebhooks(world)  # Jira's admin webhooks: REST API, deliveries, control API
    world.listeners.append(hooks.on_issue_event)
    app.extensions["jira_admin_webhooks"] = hooks
    app.register_blueprint(admin_webhooks.rest_blueprint(world, hooks))
    app.register_blueprint(admin_webhooks.control_blueprint(world, hooks))
    if world.flavour == "cloud":
        app.register_blueprint(rest_search.removed_search_blueprint())
    app.register_blueprint(_consistency_blueprint(world))
    app.register_blueprint(_required_fields_blueprint(world))
    app.register_blueprint(_switch_tasks_blueprint(world))
    if world.flavour == "datacenter":  # what its admin pages do: add a status, import a workflow's XML
        app.register_blueprint(workflow_import.admin_blueprint(world))
    for blueprint in extra_blueprints:
        app.register_blueprint(blueprint)

    @app.errorhandler(JiraError)
    def _jira_error(error: JiraError) -> Response:
        return error_reply(error)

    @app.errorhandler(JqlError)
    def _jql_error(error: JqlError) -> Response:
        return reply({"errorMessages": [str(error)], "errors": {}}, 400)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/rest/"):
            return error
        return reply({"errorMessages": [error.description or error.name], "errors": {}}, error.code or 500)

    return app


def _api_blueprint(world: JiraWorld) -> Blueprint:
    bp = Blueprint("jira_rest", __name__, url_prefix=f"/rest/api/{world.api_version}")

    @bp.before_request
    def _authenticate() -> None:
        if request.endpoint in ANONYMOUS_ENDPOINTS and not request.headers.get("Authorization"):
            return
        g.jira_user = auth.authenticate(world, request)

    rest_issues.register(bp, world)
    rest_directory.register(bp, world)
    if world.flavour == "cloud":
        rest_search.register_cloud(bp, world)
        rest_workflows.register(bp, world)  # Data Center's REST API has no workflow administration
    else:
        rest_search.register_data_center(bp, world)
    return bp


def _consistency_blueprint(world: JiraWorld) -> Blueprint:
    bp = Blueprint("jira_search_consistency", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

    @bp.post("/search-consistency")
    def set_delay() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        delay = body.get("delay_ms") if isinstance(body, dict) else None
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            return jsonify(error='body must be {"delay_ms": <non-negative integer>}'), 400
        world.search_delay_ms = delay
        return jsonify(delay_ms=delay), 200

    @bp.get("/search-consistency")
    def get_delay() -> Response:
        return jsonify(delay_ms=world.search_delay_ms)

    return bp


def _required_fields_blueprint(world: JiraWorld) -> Blueprint:
    bp = Blueprint("jira_required_fields", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

    @bp.post("/required-fields")
    def require_field() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        usage = 'body must be {"project": <key>, "id": "customfield_<number>", "name": <field name>}'
        if not isinstance(body, dict) or set(body) != {"project", "id", "name"}:
            return jsonify(error=usage), 400
        project, field_id, name = body["project"], body["id"], body["name"]
        if not all(isinstance(value, str) for value in (project, field_id, name)) or not name.strip() or \
                not re.fullmatch(r"customfield_\d+", field_id):
            return jsonify(error=usage), 400
        try:
            world.require_field(project, field_id, name.strip())
        except JiraError as exc:
            return jsonify(error="; ".join(exc.error_messages)), exc.status
        return jsonify(world.required_fields), 201

    @bp.get("/required-fields")
    def list_required_fields() -> Response:
        with world.lock:
            return jsonify(world.required_fields)

    @bp.delete("/required-fields")
    def clear_required_fields() -> tuple[str, int]:
        with world.lock:
            world.required_fields.clear()
        return "", 204

    return bp


def _switch_tasks_blueprint(world: JiraWorld) -> Blueprint:
    bp = Blueprint("jira_switch_tasks", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

    def current() -> Response:
        return jsonify(running_reads=world.switch_task_reads, failure=world.switch_task_failure)

    @bp.post("/switch-tasks")
    def set_switch_tasks() -> tuple[Response, int] | Response:
        body = request.get_json(silent=True)
        reads = body.get("running_reads") if isinstance(body, dict) else None
        failure = body.get("failure") if isinstance(body, dict) else None
        if (not isinstance(body, dict) or set(body) - {"running_reads", "failure"} or not isinstance(reads, int)
                or isinstance(reads, bool) or reads < 0 or not (failure is None or isinstance(failure, str))):
            return jsonify(error='body must be {"running_reads": <non-negative integer>, "failure": <text>|null}'), 400
        with world.lock:
            world.switch_task_reads, world.switch_task_failure = reads, failure
        return current()

    @bp.get("/switch-tasks")
    def get_switch_tasks() -> Response:
        return current()

    @bp.delete("/switch-tasks")
    def reset_switch_tasks() -> tuple[str, int]:
        with world.lock:
            world.switch_task_reads, world.switch_task_failure = 0, None
        return "", 204

    return bp


def _install_rate_limit(app: Flask, limit: RateLimit) -> None:
    """Every REST request (after the fault knobs, before authentication) spends the site's budget."""

    @app.before_request
    def _spend_budget() -> Response | None:
        if not request.path.startswith("/rest/"):
            return None
        admission = limit.admit()
        if admission is None:
            return None
        g.rate_limit = admission
        if admission.admitted:
            return None
        wait = max(1, math.ceil(admission.retry_after))
        response = _fault_body(429)
        reset = datetime.now(UTC) + timedelta(seconds=wait, minutes=1)  # Jira's reset has whole minutes: round up
        response.headers["Retry-After"] = str(wait)
        response.headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%MZ")
        response.headers["RateLimit-Reason"] = "jira-burst-based"
        return response

    @app.after_request
    def _rate_limit_headers(response: Response) -> Response:
        admission: Admission | None = g.get("rate_limit")
        if admission is not None:
            response.headers["X-RateLimit-Limit"] = str(admission.limit)
            response.headers["X-RateLimit-Remaining"] = str(admission.remaining)
            if admission.admitted and admission.remaining < admission.limit / 5:
                response.headers["X-RateLimit-NearLimit"] = "true"
        return response

    app.register_blueprint(limit.blueprint("jira_rate_limit"))


def _fault_body(status: int) -> Response:
    message = FAULT_MESSAGES.get(status, "Injected fault.")
    return reply({"errorMessages": [message], "errors": {}}, status)
