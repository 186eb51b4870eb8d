"""Site metadata and people: users (by accountId on Cloud, by name on Data Center), the caller, projects,
create metadata, statuses, priorities, resolutions, issue types and server information."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from hubsync_sandbox.jira import render, seed
from hubsync_sandbox.jira.model import STATUS_CATEGORIES, IssueType, Project
from hubsync_sandbox.jira.rest_support import caller, int_arg, json_object, reply
from hubsync_sandbox.jira.world import JiraError, JiraWorld, User, version_numbers

CLOUD_BUILD_NUMBER = 100297
TEXT_FIELD = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"  # a custom field's type, in its schema
# Jira Cloud's global permission keys (GET /permissions lists them); the simulated site grants only ADMINISTER.
GLOBAL_PERMISSIONS = frozenset({
    "ADMINISTER", "SYSTEM_ADMIN", "USER_PICKER", "CREATE_SHARED_OBJECTS", "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
    "BULK_CHANGE",
})


def register(bp: Blueprint, world: JiraWorld) -> None:
    cloud = world.flavour == "cloud"
    query_param = "query" if cloud else "username"

    def users_page(users: list[User]) -> Response:
        start_at, max_results = int_arg("startAt", 0), int_arg("maxResults", 50, minimum=1)
        with world.lock:
            return reply([render.user(world, u) for u in users[start_at : start_at + max_results]])

    @bp.get("/user/assignable/search")
    def assignable_users() -> Response:
        project_key = request.args.get("project")
        issue_key = request.args.get("issueKey")
        if project_key is None and issue_key is None:
            raise JiraError(400, ["The 'project' or 'issueKey' parameter is required."])
        if issue_key is not None:
            project_key = world.get_issue(issue_key).project.key
        query = request.args.get(query_param, "")
        if cloud and request.args.get("accountId"):
            query = request.args["accountId"]
        return users_page(world.assignable_users(str(project_key), query))

    @bp.get("/user/search")
    def search_users() -> Response:
        query = request.args.get(query_param) or (request.args.get("accountId") if cloud else None)
        if not query:
            raise JiraError(400, [f"The '{query_param}' query parameter is required."])
        return users_page(world.find_users(query))

    @bp.get("/user")
    def get_user() -> Response:
        if cloud:
            ident = request.args.get("accountId", "")
            found = world.user_by_account_id(ident)
            missing = f"The user with account ID '{ident}' does not exist."
        else:
            ident = request.args.get("username") or request.args.get("key") or ""
            found = world.user_by_name(ident)
            missing = f"The user named '{ident}' does not exist."
        if found is None:
            raise JiraError(404, [missing])
        with world.lock:
            return reply(render.user(world, found))

    @bp.get("/myself")
    def myself() -> Response:
        with world.lock:
            body = render.user(world, caller()) or {}
        return reply(body | {"locale": "en_US", "groups": {"size": 0, "items": []},
                             "applicationRoles": {"size": 0, "items": []}, "expand": "groups,applicationRoles"})

    if cloud:  # Data Center has no such operation

        @bp.post("/permissions/check")
        def check_permissions() -> Response:
            return reply(_bulk_permissions(world, json_object()))

    # -- projects and create metadata --------------------------------------------------------
    if cloud:

        @bp.get("/project/search")
        def search_projects() -> Response:
            """Projects whose key or name contains `query` (case-insensitive), by key or name, a page of them."""
            wanted = request.args.get("query", "").casefold()
            order = request.args.get("orderBy", "key")
            if order.lstrip("+-") not in ("key", "name"):
                raise JiraError(400, [f"The sandbox Jira orders projects by key or name, not {order!r}."])
            start_at, max_results = int_arg("startAt", 0), min(int_arg("maxResults", 50, minimum=1), 100)
            with world.lock:
                found = [p for p in world.projects.values()
                         if wanted in p.key.casefold() or wanted in p.name.casefold()]
                found.sort(key=lambda p: p.key if order.lstrip("+-") == "key" else p.name,
                           reverse=order.startswith("-"))
                shown = [render.project_ref(world, p) for p in found[start_at : start_at + max_results]]
            last = start_at + max_results >= len(found)
            page = {"self": request.url, "maxResults": max_results, "startAt": start_at, "total": len(found),
                    "isLast": last, "values": shown}
            if not last:
                page["nextPage"] = (f"{world.rest_base}/project/search?startAt={start_at + max_results}"
                                    f"&maxResults={max_results}")
            return reply(page)

    else:  # Cloud's GET /project is deprecated for /project/search; Data Center has only this one

        @bp.get("/project")
        def all_projects() -> Response:
            with world.lock:
                return reply([render.project_ref(world, p) for p in world.projects.values()])

    @bp.get("/project/<key>")
    def get_project(key: str) -> Response:
        with world.lock:
            return reply(render.project(world, world.project(key)))

    @bp.get("/project/<key>/statuses")
    def project_statuses(key: str) -> Response:
        with world.lock:
            project = world.project(key)
            statuses = [render.status(world, s) for s in project.workflow.statuses]
            return reply([
                {"self": f"{world.rest_base}/issuetype/{t.id}", "id": t.id, "name": t.name, "subtask": False,
                 "statuses": statuses}
                for t in project.issue_types
            ])

    @bp.get("/issue/createmeta/<key>/issuetypes")
    def create_meta_issue_types(key: str) -> Response:
        with world.lock:
            types = [render.issue_type(world, t) for t in _project_or_400(world, key).issue_types]
        return reply(_page(types, "issueTypes" if cloud else "values"))

    @bp.get("/issue/createmeta/<key>/issuetypes/<type_id>")
    def create_meta_fields(key: str, type_id: str) -> Response:
        with world.lock:
            project = _project_or_400(world, key)
            issue_type = next((t for t in project.issue_types if t.id == type_id), None)
            if issue_type is None:
                raise JiraError(400, [f"The issue type with id '{type_id}' does not exist in project {key}."])
            fields = _create_fields(world, project, issue_type)
        return reply(_page(fields, "fields" if cloud else "values"))

    # -- site-wide lists ---------------------------------------------------------------------
    @bp.get("/status")
    def statuses() -> Response:
        with world.lock:
            return reply([render.status(world, s) for s in world.statuses()])

    @bp.get("/statuscategory")
    def status_categories() -> Response:
        return reply([render.status_category(world, c) for c in STATUS_CATEGORIES])

    @bp.get("/priority")
    def priorities() -> Response:
        return reply([render.priority(world, p, full=True) for p in world.priorities])

    @bp.get("/resolution")
    def resolutions() -> Response:
        return reply([render.resolution(world, r) for r in world.resolutions])

    @bp.get("/issuetype")
    def issue_types() -> Response:
        return reply([render.issue_type(world, t) for t in seed.ISSUE_TYPES])

    @bp.get("/serverInfo")
    def server_info() -> Response:
        version, numbers = world.version, version_numbers(world.version)
        major, minor, revision = numbers
        build = CLOUD_BUILD_NUMBER if cloud else major * 1_000_000 + minor * 10_000 + revision  # 10.3.6: 10030006
        now = render.timestamp(world.now())
        body = {
            "baseUrl": world.base_url,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": build,
            "buildDate": "2025-12-01T00:00:00.000+0000",
            "serverTime": now,
            "scmInfo": "4d6ea1c3e0b7a3c62e1b8f0e9d2c7a5b6f4e3d21",
            "serverTitle": "hubsync sandbox Jira",
        }
        if not cloud:
            body["databaseBuildNumber"] = build
        return reply(body)


def _bulk_permissions(world: JiraWorld, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /permissions/check` for global permissions: the ones the user holds of those asked. The simulated
    site grants one global permission, ADMINISTER, to its site admins. Asking about another user takes ADMINISTER,
    or being a Connect app (Jira lets an app's server ask about anyone). Project permissions are not simulated: a
    request naming some is refused rather than answered wrongly."""
    asker = caller()
    account_id = body.get("accountId")
    if account_id is not None and not isinstance(account_id, str):
        raise JiraError(400, ["accountId must be a string."])
    asked = body.get("globalPermissions") or []
    if not isinstance(asked, list) or not all(isinstance(key, str | None) for key in asked):
        raise JiraError(400, ["globalPermissions must be a list of permission keys."])
    unknown = {key: "Unrecognized permission" for key in asked if key is not None and key not in GLOBAL_PERMISSIONS}
    if unknown:
        raise JiraError(400, errors=unknown)
    if [entry for entry in body.get("projectPermissions") or [] if entry is not None]:
        raise JiraError(400, ["The sandbox Jira answers global permissions only; projectPermissions is not simulated."])
    someone_else = account_id is not None and account_id != asker.account_id
    if someone_else and not asker.site_admin and asker.account_type != "app":
        raise JiraError(403, ["Only Jira administrators can perform this operation."])
    with world.lock:
        user = world.user_by_account_id(account_id) if someone_else else asker
        if user is None:
            raise JiraError(400, [f"The account ID '{account_id}' is not valid."])
        held = {"ADMINISTER"} if user.active and user.site_admin else set()
    granted = [key for key in dict.fromkeys(asked) if key in held]
    return {"globalPermissions": granted, "projectPermissions": []}


def _project_or_400(world: JiraWorld, key: str) -> Project:
    try:
        return world.project(key)
    except JiraError:
        raise JiraError(400, [f"No project could be found with key '{key}'."]) from None


def _page(values: list[Any], name: str) -> dict[str, Any]:
    start_at, max_results = int_arg("startAt", 0), int_arg("maxResults", 50, minimum=1)
    return {"maxResults": max_results, "startAt": start_at, "total": len(values),
            name: values[start_at : start_at + max_results]}


def _create_fields(world: JiraWorld, project: Project, issue_type: IssueType) -> list[dict[str, Any]]:
    """The create screen's fields, described as Jira's create metadata describes them."""
    user_search = f"{world.rest_base}/user/assignable/search?project={project.key}&" + (
        "query=" if world.flavour == "cloud" else "username="
    )

    def field(key: str, name: str, schema: dict, *, required: bool = False, operations: tuple = ("set",),
              allowed: list | None = None, default: Any = None, autocomplete: str | None = None) -> dict:
        meta: dict[str, Any] = {"required": required, "schema": schema, "name": name, "fieldId": key,
                                "key": key, "hasDefaultValue": default is not None,
                                "operations": list(operations)}
        if allowed is not None:
            meta["allowedValues"] = allowed
        if default is not None:
            meta["defaultValue"] = default
        if autocomplete is not None:
            meta["autoCompleteUrl"] = autocomplete
        return meta

    default_priority = world.priority_by_id(seed.DEFAULT_PRIORITY_ID)
    return [
        field("summary", "Summary", {"type": "string", "system": "summary"}, required=True),
        field("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, required=True,
              operations=(), allowed=[render.issue_type(world, issue_type)]),
        field("project", "Project", {"type": "project", "system": "project"}, required=True,
              allowed=[render.project_ref(world, project)]),
        field("description", "Description", {"type": "string", "system": "description"}),
        field("labels", "Labels", {"type": "array", "items": "string", "system": "labels"},
              operations=("add", "set", "remove"),
              autocomplete=f"{world.rest_base}/label/suggest?query="),
        field("priority", "Priority", {"type": "priority", "system": "priority"},
              allowed=[render.priority(world, p) for p in world.priorities],
              default=render.priority(world, default_priority)),
        field("assignee", "Assignee", {"type": "user", "system": "assignee"}, autocomplete=user_search),
        field("reporter", "Reporter", {"type": "user", "system": "reporter"}, required=True,
              autocomplete=user_search),
        *(field(field_id, name, {"type": "string", "custom": TEXT_FIELD, "customId": int(field_id.rsplit("_", 1)[1])},
                required=True)
          for field_id, name in world.required_fields.get(project.key, {}).items()),
    ]
