"""Jira Cloud's workflow administration: statuses, workflows, workflow schemes, switching a project's scheme, and
the task that switch runs as. Data Center has none of it (its REST API cannot create workflows), so it is
registered on Cloud sites only; elsewhere these paths are a 404, as on Jira.

Who may: a Jira administrator (a person with ADMINISTER), a Forge app whose manifest holds
`manage:jira-configuration` (its app user acts as an administrator; a user token still needs an administrator
behind it), and, for the workflow-scheme operations only, a Connect app with the ADMIN scope. The status and
workflow operations are INACCESSIBLE to Connect apps whatever their scopes. Refusals are 403 error collections.

    GET  /statuses/search?searchString&projectId&statusCategory&startAt&maxResults   PageOfStatuses
    GET  /statuses/byNames?name=...&projectId                                         [JiraStatus]
    POST /statuses {scope: {type, project?: {id}}, statuses: [{name, statusCategory, description?}]}  [JiraStatus]
    POST /workflows/create/validation {payload: WorkflowCreateRequest, validationOptions?}  {errors: [...]}
    POST /workflows/create WorkflowCreateRequest                              {statuses: [...], workflows: [...]}
    GET  /workflows/search?queryString&expand=values.transitions&isActive&scope&orderBy&startAt&maxResults
    POST /workflowscheme {name, description?, defaultWorkflow?, issueTypeMappings?}   201 WorkflowScheme
    GET  /workflowscheme?startAt&maxResults | /workflowscheme/{id} | /workflowscheme/project?projectId=...
    POST /workflowscheme/project/switch {projectId, targetSchemeId, mappingsByIssueTypeOverride?}  303 -> task
                                                     (409 while another switch's task runs)
    GET  /task/{taskId}                                  TaskProgressBean: RUNNING for `world.switch_task_reads`
                                                         reads (`/_sandbox/switch-tasks`), then COMPLETE or FAILED
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from hubsync_sandbox.jira import auth
from hubsync_sandbox.jira.model import Status, Task, Workflow, WorkflowScheme
from hubsync_sandbox.jira.rest_support import caller, int_arg, json_object, reply
from hubsync_sandbox.jira.workflow_drafts import CATEGORY_BY_KEY, Draft, category_key, scope_json
from hubsync_sandbox.jira.world import JiraError, JiraWorld, User

MANAGE_CONFIGURATION = "manage:jira-configuration"
ADMIN_ONLY = "You are not authorized to perform this action. Administrator privileges are required."
ASSOCIATIONS_ADMIN_ONLY = "Only Jira administrators can access workflow scheme associations."
CONNECT_INACCESSIBLE = "Connect apps cannot access this resource: its scope is INACCESSIBLE to Connect."


def register(bp: Blueprint, world: JiraWorld) -> None:
    """Add the workflow administration routes to the Cloud API blueprint."""

    # -- statuses ------------------------------------------------------------------------------------------
    @bp.get("/statuses/search")
    def search_statuses() -> Response:
        administrator(connect_allowed=False)
        category = request.args.get("statusCategory")
        if category is not None and category not in CATEGORY_BY_KEY:
            raise JiraError(400, [f"The status category '{category}' is not valid: TODO, IN_PROGRESS or DONE."])
        found = world.search_statuses(request.args.get("projectId"), request.args.get("searchString", ""),
                                      category)
        start_at, max_results = int_arg("startAt", 0), min(int_arg("maxResults", 200, minimum=1), 200)
        page = found[start_at : start_at + max_results]
        body: dict[str, Any] = {
            "self": _page_url(world, "/statuses/search", start_at, max_results),
            "startAt": start_at, "maxResults": max_results, "total": len(found),
            "isLast": start_at + len(page) >= len(found), "values": [jira_status(s) for s in page],
        }
        if not body["isLast"]:
            body["nextPage"] = _page_url(world, "/statuses/search", start_at + max_results, max_results)
        return reply(body)

    @bp.get("/statuses/byNames")
    def statuses_by_name() -> Response:
        administrator(connect_allowed=False)
        names = [name.lower() for name in request.args.getlist("name")]
        if not names:
            raise JiraError(400, ["The 'name' parameter is required."])
        in_scope = world.search_statuses(request.args.get("projectId"))
        return reply([jira_status(status) for status in in_scope if status.name.lower() in names])

    @bp.post("/statuses")
    def create_statuses() -> Response:
        administrator(connect_allowed=False)
        body = json_object()
        scope, entries = body.get("scope"), body.get("statuses")
        if not isinstance(scope, dict) or scope.get("type") not in ("GLOBAL", "PROJECT"):
            raise JiraError(400, ["The scope must be GLOBAL, or PROJECT with the project's id."])
        project = scope.get("project")
        project_id = project.get("id") if isinstance(project, dict) else None
        if (scope["type"] == "PROJECT") != isinstance(project_id, str):
            raise JiraError(400, ["A PROJECT scope names its project's id; a GLOBAL scope names none."])
        if not isinstance(entries, list) or not entries:
            raise JiraError(400, ["'statuses' must list the statuses to create."])
        specs = []
        for entry in entries:
            if (not isinstance(entry, dict) or not isinstance(entry.get("name"), str)
                    or entry.get("statusCategory") not in CATEGORY_BY_KEY):
                raise JiraError(400, ["Each status needs a name and a statusCategory (TODO, IN_PROGRESS or DONE)."])
            description = entry.get("description")
            specs.append((entry["name"], CATEGORY_BY_KEY[entry["statusCategory"]],
                          description if isinstance(description, str) else ""))
        created = world.create_statuses(project_id, specs)
        return reply([jira_status(status) for status in created])

    # -- workflows -----------------------------------------------------------------------------------------
    @bp.post("/workflows/create/validation")
    def validate_workflows() -> Response:
        administrator(connect_allowed=False)
        body = json_object()
        if "payload" not in body:
            raise JiraError(400, ["'payload' is required: the workflow create request to validate."])
        options = body.get("validationOptions")
        levels = options.get("levels") if isinstance(options, dict) else None
        problems = world.workflow_draft(body["payload"]).problems
        shown = [p.to_json() for p in problems if levels is None or "ERROR" in levels]
        return reply({"errors": shown})

    @bp.post("/workflows/create")
    def create_workflows() -> Response:
        administrator(connect_allowed=False)
        created = world.create_workflows(json_object())
        return reply(created_json(created))

    @bp.get("/workflows/search")
    def search_workflows() -> Response:
        administrator(connect_allowed=False)
        expand = {part.strip() for part in request.args.get("expand", "").split(",") if part.strip()}
        order = request.args.get("orderBy", "name")
        if order not in ("name", "+name", "-name"):
            raise JiraError(400, [f"The sandbox Jira orders workflows by name only, not by '{order}'."])
        scope = request.args.get("scope")
        if scope is not None and scope not in ("GLOBAL", "PROJECT"):
            raise JiraError(400, [f"The scope '{scope}' is not valid: GLOBAL or PROJECT."])
        active_arg = request.args.get("isActive")
        active = None if active_arg is None else active_arg.lower() == "true"
        found = world.search_workflows(request.args.get("queryString", ""), active=active, scope=scope)
        if order == "-name":
            found.reverse()
        start_at, max_results = int_arg("startAt", 0), int_arg("maxResults", 50, minimum=1)
        page = found[start_at : start_at + max_results]
        statuses = {status.id: status for workflow in page for status in workflow.statuses}
        body: dict[str, Any] = {
            "self": _page_url(world, "/workflows/search", start_at, max_results),
            "startAt": start_at, "maxResults": max_results, "total": len(found),
            "isLast": start_at + len(page) >= len(found),
            "statuses": [workflow_status(status) for status in statuses.values()],
            "values": [workflow_json(w, transitions="values.transitions" in expand) for w in page],
        }
        if not body["isLast"]:
            body["nextPage"] = _page_url(world, "/workflows/search", start_at + max_results, max_results)
        return reply(body)

    # -- workflow schemes ----------------------------------------------------------------------------------
    @bp.post("/workflowscheme")
    def create_scheme() -> tuple[Response, int] | Response:
        administrator(connect_allowed=True)
        body = json_object()
        scheme = world.create_workflow_scheme(body.get("name"), body.get("description"),
                                              body.get("defaultWorkflow", "jira"), body.get("issueTypeMappings", {}))
        return reply(scheme_json(world, scheme), 201)

    @bp.get("/workflowscheme")
    def list_schemes() -> Response:
        administrator(connect_allowed=True)
        with world.lock:
            schemes = sorted(world.workflow_schemes.values(), key=lambda scheme: scheme.id)
            start_at, max_results = int_arg("startAt", 0), int_arg("maxResults", 50, minimum=1)
            page = schemes[start_at : start_at + max_results]
            body: dict[str, Any] = {
                "self": _page_url(world, "/workflowscheme", start_at, max_results),
                "startAt": start_at, "maxResults": max_results, "total": len(schemes),
                "isLast": start_at + len(page) >= len(schemes), "values": [scheme_json(world, s) for s in page],
            }
        if not body["isLast"]:
            body["nextPage"] = _page_url(world, "/workflowscheme", start_at + max_results, max_results)
        return reply(body)

    @bp.get("/workflowscheme/project")
    def scheme_associations() -> Response:
        administrator(connect_allowed=True, refusal=ASSOCIATIONS_ADMIN_ONLY)
        project_ids = [value for raw in request.args.getlist("projectId") for value in raw.split(",") if value]
        if not project_ids:
            raise JiraError(400, errors={"projectId": "The ID of a project has to be provided."})
        if not all(value.isdigit() for value in project_ids):
            raise JiraError(400, errors={"projectId": "The ID of a project must be a number."})
        with world.lock:
            by_scheme: dict[int, list[str]] = {}
            for project_id in dict.fromkeys(project_ids):
                if project_id in world.project_schemes:
                    by_scheme.setdefault(world.project_schemes[project_id], []).append(project_id)
            values = [{"projectIds": ids, "workflowScheme": scheme_json(world, world.workflow_schemes[scheme_id])}
                      for scheme_id, ids in by_scheme.items()]
        return reply({"values": values})

    @bp.get("/workflowscheme/<scheme_id>")
    def get_scheme(scheme_id: str) -> Response:
        administrator(connect_allowed=True)
        with world.lock:
            return reply(scheme_json(world, world.workflow_scheme(scheme_id)))

    @bp.post("/workflowscheme/project/switch")
    def switch_scheme() -> Response:
        actor = administrator(connect_allowed=True)
        body = json_object()
        project_id, scheme_id = body.get("projectId"), body.get("targetSchemeId")
        if not isinstance(project_id, str) or not isinstance(scheme_id, str):
            raise JiraError(400, ["projectId and targetSchemeId are required."])
        task = world.switch_workflow_scheme(project_id, scheme_id, _overrides(body.get("mappingsByIssueTypeOverride")),
                                            actor)
        response = reply(task_json(world, task), 303)
        response.headers["Location"] = task_url(world, task)
        return response

    @bp.get("/task/<task_id>")
    def get_task(task_id: str) -> Response:
        user = caller()
        if user is not world.task(task_id).submitted_by and not user.site_admin:
            raise JiraError(403, ["Only the user who submitted a task, or a Jira administrator, can see it."])
        return reply(task_json(world, world.read_task(task_id)))


def administrator(*, connect_allowed: bool, refusal: str = ADMIN_ONLY) -> User:
    """The caller, if it may administer workflows (see the module's docstring); a 403 otherwise."""
    user = caller()
    grant = auth.app_grant(request)
    if grant is not None and grant.kind == "connect":
        if not connect_allowed:
            raise JiraError(403, [CONNECT_INACCESSIBLE])
        if "ADMIN" not in grant.scopes:
            raise JiraError(403, ["The app's scopes do not grant access to this resource: it needs the ADMIN "
                                  "scope."])
        return user
    if grant is not None:  # Forge, through the API gateway
        if MANAGE_CONFIGURATION not in grant.scopes:
            raise JiraError(403, ["Access to the resource was denied due to missing scope grants: it needs "
                                  f"{MANAGE_CONFIGURATION}."])
        if user.account_type == "app":
            return user
    if not (user.active and user.site_admin):
        raise JiraError(403, [refusal])
    return user


def _overrides(raw: Any) -> dict[str, dict[str, str]]:
    """mappingsByIssueTypeOverride as issue type id -> old status id -> new status id."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise JiraError(400, ["mappingsByIssueTypeOverride must be a list."])
    overrides: dict[str, dict[str, str]] = {}
    for entry in raw:
        issue_type = entry.get("issueTypeId") if isinstance(entry, dict) else None
        mappings = entry.get("statusMappings") if isinstance(entry, dict) else None
        if not isinstance(issue_type, str) or not isinstance(mappings, list):
            raise JiraError(400, ["Each mapping override names an issueTypeId and its statusMappings."])
        for mapping in mappings:
            old = mapping.get("oldStatusId") if isinstance(mapping, dict) else None
            new = mapping.get("newStatusId") if isinstance(mapping, dict) else None
            if not isinstance(old, str) or not isinstance(new, str):
                raise JiraError(400, ["Each status mapping names an oldStatusId and a newStatusId."])
            overrides.setdefault(issue_type, {})[old] = new
    return overrides


# -- rendering -------------------------------------------------------------------------------------------------


def jira_status(status: Status) -> dict[str, Any]:
    return {"id": status.id, "name": status.name, "description": status.description, "scope": scope_json(status),
            "statusCategory": category_key(status)}


def workflow_status(status: Status) -> dict[str, Any]:
    """A status as the workflow operations list it: its id is also its statusReference once it exists."""
    return jira_status(status) | {"statusReference": status.id}


def workflow_json(workflow: Workflow, *, transitions: bool) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "GLOBAL"} if workflow.project_id is None else {
        "type": "PROJECT", "project": {"id": workflow.project_id}}
    body: dict[str, Any] = {
        "id": workflow.id, "name": workflow.name, "description": workflow.description, "scope": scope,
        "isEditable": True, "version": {"id": workflow.id, "versionNumber": 0},
        "statuses": [{"statusReference": status.id, "deprecated": False} for status in workflow.statuses],
    }
    if transitions:
        create_id, create_name = workflow.create_transition
        body["transitions"] = [_transition_json(create_id, create_name, "INITIAL", workflow.initial.id, [])] + [
            _transition_json(t.id, t.name, "GLOBAL" if t.is_global else "DIRECTED", t.to.id,
                             [s.id for s in workflow.statuses if t.sources and s.id in t.sources])
            for t in workflow.transitions
        ]
    return body


def _transition_json(transition_id: str, name: str, kind: str, to: str, sources: list[str]) -> dict[str, Any]:
    return {"id": transition_id, "name": name, "type": kind, "toStatusReference": to,
            "links": [{"fromStatusReference": source} for source in sources],
            "actions": [], "validators": [], "triggers": []}


def created_json(created: Draft) -> dict[str, Any]:
    return {"statuses": [workflow_status(status) for status in created.statuses.values()],
            "workflows": [workflow_json(workflow, transitions=True) for workflow in created.workflows]}


def scheme_json(world: JiraWorld, scheme: WorkflowScheme) -> dict[str, Any]:
    return {"id": scheme.id, "name": scheme.name, "description": scheme.description,
            "defaultWorkflow": scheme.default_workflow, "issueTypeMappings": dict(scheme.issue_type_mappings),
            "draft": False, "self": f"{world.rest_base}/workflowscheme/{scheme.id}"}


def task_url(world: JiraWorld, task: Task) -> str:
    return f"{world.rest_base}/task/{task.id}"


def task_json(world: JiraWorld, task: Task) -> dict[str, Any]:
    submitted = int(task.submitted.timestamp() * 1000)
    last = int((task.finished or world.now()).timestamp() * 1000)
    body: dict[str, Any] = {
        "self": task_url(world, task), "id": task.id, "description": task.description, "status": task.status,
        "submittedBy": 0, "progress": task.progress, "elapsedRuntime": last - submitted, "submitted": submitted,
        "started": submitted, "lastUpdate": last}
    if task.finished is not None:
        body["finished"] = last
    if task.message:
        body["message"] = task.message
    return body


def _page_url(world: JiraWorld, path: str, start_at: int, max_results: int) -> str:
    return f"{world.rest_base}{path}?{urlencode({'startAt': start_at, 'maxResults': max_results})}"
