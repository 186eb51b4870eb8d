"""Setting up the risk workflow from the configure page: `POST /api/v1/settings/risk-workflow`, Jira admins only.

    {"project": "OPS", "dryRun": true}   -> 200 the plan: {"project", "alreadySetUp", "steps", "problems", "dryRun"}
    {"project": "OPS", "dryRun": false}  -> 200 what was done: the plan and {"ok", "outcomes": [{"kind", "ok",
                                            "text", "details"}]}

    {"project": "OPS", "dryRun": false}  -> 202 Jira still switches the project: the outcomes so far and
                                            {"pending": true, "message", "task": {"id", "status", "progress",
                                            "message", "running", "ok"} or null when a switch started earlier runs}
    GET /risk-workflow/tasks/<taskId>     -> 200 that task now: {"id", "status", "progress", "message", "running",
                                            "ok"}; an id not all digits a 400, a task Jira does not have a 404

A Forge remote call ends after 25 s, and Jira may take longer to move a big project's issues: the setup waits for
Jira's switch only until REQUEST_BUDGET_S into the request, then answers 202 and the page follows the task.
`project` defaults to the policy's. A plan with problems is a 409 (nothing was changed); a step that failed a 502
with the outcomes so far; a Connect tenant a 409 with `manualSteps`, a Data Center one a 409 saying to import the
workflow's XML; a project Jira does not show a 404; Jira that cannot be asked a 503. Bad input is a 400.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from hubsync.domain.policy_schema import PROJECT_KEY
from hubsync.service.workflow_setup import (
    NoSuchProject,
    NoSuchTask,
    SetupError,
    SetupOutcome,
    SetupRefused,
    SetupUnavailable,
    setup_risk_workflow,
    switch_task,
    task_json,
)
from hubsync.web.api import jira_admin
from hubsync.web.callers import verified_caller
from hubsync.web.errors import ApiError
from hubsync.web.services import services

MAX_PROJECT_KEY = 255  # Jira's longest project key
MAX_TASK_ID = 19  # digits of Jira's task ids (a long)
REQUEST_BUDGET_S = 15.0  # the whole setup request, well within a Forge remote call's 25 s
FIELDS = frozenset({"project", "dryRun"})

log = logging.getLogger(__name__)

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1/settings")


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/risk-workflow")
@verified_caller()
@jira_admin
def risk_workflow() -> tuple[Response, int]:
    project, dry_run = _parse(request.get_json(silent=True))
    try:
        result = setup_risk_workflow(g.tenant, services().tenants.workflow_admin, project, dry_run=dry_run,
                                     wait_s=REQUEST_BUDGET_S)
    except SetupRefused as refused:
        return jsonify(error=str(refused), manualSteps=refused.manual_steps), 409
    except NoSuchProject as missing:
        return jsonify(error=str(missing)), 404 if project else 400
    except SetupError as failed:
        return _failed(failed)
    body = result.to_json() | {"dryRun": dry_run}
    if isinstance(result, SetupOutcome) and result.pending:
        return jsonify(body), 202
    if isinstance(result, SetupOutcome) and not result.ok:
        return jsonify(body | {"error": result.outcomes[-1].text}), 502
    plan = result.plan if isinstance(result, SetupOutcome) else result
    if plan.problems:
        return jsonify(body | {"error": "the risk workflow cannot be set up on this project; nothing was changed"}), 409
    return jsonify(body), 200


@bp.get("/risk-workflow/tasks/<task_id>")
@verified_caller()
@jira_admin
def risk_workflow_task(task_id: str) -> tuple[Response, int]:
    if not (task_id.isascii() and task_id.isdigit() and len(task_id) <= MAX_TASK_ID):
        return jsonify(error="a task id is Jira's: digits only"), 400
    try:
        task = switch_task(g.tenant, services().tenants.workflow_admin, task_id)
    except SetupRefused as refused:
        return jsonify(error=str(refused), manualSteps=refused.manual_steps), 409
    except NoSuchTask as missing:
        return jsonify(error=str(missing)), 404
    except SetupError as failed:
        return _failed(failed)
    return jsonify(task_json(task)), 200


def _failed(failed: SetupError) -> tuple[Response, int]:
    if isinstance(failed, SetupUnavailable):
        log.warning("tenant %s: risk workflow setup: %s", g.tenant.id, failed)
        return jsonify(error=f"Jira could not be asked; try again in a minute ({failed})"), 503
    return jsonify(error=str(failed)), 502


def _parse(body: Any) -> tuple[str | None, bool]:
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object: {\"project\": KEY, \"dryRun\": true|false}")
    fields: dict[str, list[str]] = {name: ["is not a field of this request"] for name in body.keys() - FIELDS}
    project = body.get("project")
    if project is not None and (not isinstance(project, str) or len(project) > MAX_PROJECT_KEY
                                or not PROJECT_KEY.fullmatch(project)):
        fields["project"] = ["a Jira project key: capital letters, digits or _, starting with a letter (SEC)"]
    dry_run = body.get("dryRun", False)
    if not isinstance(dry_run, bool):
        fields["dryRun"] = ["true or false"]
    if fields:
        raise ApiError(400, "the request is not valid; see the messages by field", fields=fields)
    return project, dry_run
