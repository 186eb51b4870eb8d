"""`WorkflowAdminPort` over Jira Cloud's REST v3: statuses (`/statuses`), workflows (`/workflows/...`), workflow
schemes (`/workflowscheme`) and a project's scheme switch, which Jira runs as a task (`/task/{id}`) the caller
follows.

These endpoints need the Administer Jira global permission (an API token of an administrator's account) or a Forge
app's `manage:jira-configuration` scope; Jira's 401 and 403 become `WorkflowAdminRefused`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from requests import Session
from requests.auth import AuthBase

from hubsync.adapters.jira.transport import JiraError, JiraTransport
from hubsync.adapters.jira.workflow_search import (
    CATEGORY_NAMES,
    CATEGORY_OF_NAME,
    statuses_by_issue_type,
    workflow_named,
)
from hubsync.domain.ports import (
    JiraTask,
    NewStatus,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    SwitchUnderWay,
    TaskNotFound,
    WorkflowAdminRefused,
    WorkflowEdge,
    WorkflowSchemeInfo,
    WorkflowShape,
)
from hubsync.domain.ticket import StatusCategory

STATUS_PAGE = 200
_REFERENCES = uuid.UUID("5b0d3c52-4f8e-4d8a-9a53-6f1f0c2b9e71")  # names this module's status references


class JiraWorkflowAdmin:
    """One Jira Cloud site's workflow administration; `auth` an `ApiToken` or a `ForgeAppToken`."""

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        *,
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = JiraTransport(base_url, "3", auth, session=session, sleep=sleep)

    def close(self) -> None:
        self._http.close()

    def project(self, key: str) -> ProjectChoice:
        try:
            body = self._call("GET", f"/project/{key}")
        except JiraError as error:
            if error.status == 404:
                raise ProjectNotFound(key) from error
            raise
        return ProjectChoice(str(body["id"]), str(body["key"]), str(body.get("name") or body["key"]))

    def statuses_named(self, names: Sequence[str]) -> list[StatusChoice]:
        """Global statuses, every page (the search matches parts of names; the exact, case-insensitive match is
        made here)."""
        wanted = {name.casefold() for name in names}
        return [status for status in self._global_statuses() if status.name.casefold() in wanted]

    def create_statuses(self, statuses: Sequence[NewStatus]) -> list[StatusChoice]:
        body = {
            "scope": {"type": "GLOBAL"},
            "statuses": [
                {"name": each.name, "statusCategory": CATEGORY_NAMES[each.category], "description": each.description}
                for each in statuses
            ],
        }
        created = self._call("POST", "/statuses", json=body) or []
        return [_status(each) for each in created]

    def workflow(self, name: str) -> WorkflowShape | None:
        return workflow_named(lambda params: self._call("GET", "/workflows/search", params=dict(params)) or {}, name)

    def validate_workflow(self, design: WorkflowShape, description: str) -> list[str]:
        body = {"payload": _create_body(design, description), "validationOptions": {"levels": ["ERROR"]}}
        answer = self._call("POST", "/workflows/create/validation", json=body) or {}
        names = {_reference(s.id): s.name for s in design.statuses}
        transitions = {str(i): edge.name for i, edge in _numbered(design)}
        return [_validation_error(error, names, transitions) for error in answer.get("errors") or []
                if error.get("level", "ERROR") == "ERROR"]

    def create_workflow(self, design: WorkflowShape, description: str) -> None:
        self._call("POST", "/workflows/create", json=_create_body(design, description))

    def project_scheme(self, project_id: str) -> WorkflowSchemeInfo:
        answer = self._call("GET", "/workflowscheme/project", params={"projectId": project_id}) or {}
        for association in answer.get("values") or []:
            if project_id in {str(each) for each in association.get("projectIds") or []}:
                return _scheme(association.get("workflowScheme") or {}, association.get("projectIds") or [])
        return WorkflowSchemeInfo("", "Default Workflow Scheme", None, {}, frozenset({project_id}))

    def scheme_named(self, name: str) -> WorkflowSchemeInfo | None:
        start = 0
        while True:
            page = self._call("GET", "/workflowscheme", params={"startAt": start, "maxResults": 50}) or {}
            values = page.get("values") or []
            for scheme in values:
                if str(scheme.get("name") or "").casefold() == name.casefold():
                    return _scheme(scheme, [])
            if page.get("isLast", True) or not values:
                return None
            start += len(values)

    def create_scheme(self, name: str, description: str, workflow: str) -> WorkflowSchemeInfo:
        body = {"name": name, "description": description, "defaultWorkflow": workflow}
        return _scheme(self._call("POST", "/workflowscheme", json=body) or {}, [])

    def project_statuses(self, project_key: str) -> Mapping[str, list[StatusChoice]]:
        try:
            answer = self._call("GET", f"/project/{project_key}/statuses") or []
        except JiraError as error:
            if error.status == 404:
                raise ProjectNotFound(project_key) from error
            raise
        return statuses_by_issue_type(answer)

    def switch_scheme(self, project_id: str, scheme_id: str, mappings: Mapping[str, Mapping[str, str]]) -> JiraTask:
        body = {
            "projectId": project_id,
            "targetSchemeId": scheme_id,
            "mappingsByIssueTypeOverride": [
                {"issueTypeId": issue_type,
                 "statusMappings": [{"oldStatusId": old, "newStatusId": new} for old, new in moves.items()]}
                for issue_type, moves in mappings.items() if moves
            ],
        }
        # Jira answers 303 with the task, its Location on the site itself: `task` reads it under the REST root
        try:
            task = self._call("POST", "/workflowscheme/project/switch", json=body, follow_redirects=False)
        except JiraError as error:
            if error.status == 409:
                raise SwitchUnderWay("; ".join(error.messages) or "another switch is running") from error
            raise
        return _task(task or {})

    def task(self, task_id: str) -> JiraTask:
        try:
            return _task(self._call("GET", f"/task/{task_id}") or {})
        except JiraError as error:
            if error.status == 404:
                raise TaskNotFound(task_id) from error
            raise

    # -- helpers ------------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._http.call("workflow_admin", method, path, **kwargs)
        except JiraError as error:
            if error.status in (401, 403):
                raise WorkflowAdminRefused("; ".join(error.messages) or f"{error.status}") from error
            raise

    def _global_statuses(self) -> Iterator[StatusChoice]:
        start = 0
        while True:
            page = self._call("GET", "/statuses/search", params={"startAt": start, "maxResults": STATUS_PAGE}) or {}
            values = page.get("values") or []
            for each in values:
                if (each.get("scope") or {}).get("type", "GLOBAL") == "GLOBAL":
                    yield _status(each)
            if page.get("isLast", True) or not values:
                return
            start += len(values)


def _reference(status_id: str) -> str:
    """The `statusReference` a workflow request names a status by: stable for a status id."""
    return str(uuid.uuid5(_REFERENCES, status_id))


def _numbered(design: WorkflowShape) -> Iterator[tuple[int, WorkflowEdge]]:
    """Transition ids as Jira numbers them: 1 is the initial transition, then 11, 21, ..."""
    for index, edge in enumerate(design.edges):
        yield 11 + 10 * index, edge


def _create_body(design: WorkflowShape, description: str) -> dict[str, Any]:
    categories = {s.id: s.category for s in design.statuses}
    transitions: list[dict[str, Any]] = [{
        "id": "1", "name": "Create", "type": "INITIAL", "toStatusReference": _reference(design.initial),
        "links": [], "actions": [], "validators": [], "triggers": [], "properties": {},
    }]
    for number, edge in _numbered(design):
        transitions.append({
            "id": str(number), "name": edge.name, "type": "GLOBAL" if edge.sources is None else "DIRECTED",
            "toStatusReference": _reference(edge.target),
            "links": [] if edge.sources is None else [
                {"fromStatusReference": _reference(source)} for source in sorted(edge.sources)
            ],
            "actions": [], "validators": [], "triggers": [], "properties": {},
        })
    return {
        "scope": {"type": "GLOBAL"},
        "statuses": [
            {"id": s.id, "name": s.name, "statusCategory": CATEGORY_NAMES[categories[s.id]],
             "statusReference": _reference(s.id)}
            for s in design.statuses
        ],
        "workflows": [{
            "name": design.name,
            "description": description,
            "statuses": [{"statusReference": _reference(s.id), "properties": {}} for s in design.statuses],
            "transitions": transitions,
        }],
    }


def _status(body: Mapping[str, Any]) -> StatusChoice:
    return StatusChoice(str(body["id"]), str(body.get("name") or ""),
                        CATEGORY_OF_NAME.get(str(body.get("statusCategory")), StatusCategory.TO_DO))


def _scheme(body: Mapping[str, Any], project_ids: Sequence[Any]) -> WorkflowSchemeInfo:
    mappings = body.get("issueTypeMappings") or {}
    return WorkflowSchemeInfo(
        id=str(body.get("id", "")),
        name=str(body.get("name") or ""),
        default_workflow=body.get("defaultWorkflow"),
        issue_type_workflows={str(k): str(v) for k, v in mappings.items()},
        project_ids=frozenset(str(each) for each in project_ids),
    )


def _task(body: Mapping[str, Any]) -> JiraTask:
    progress = body.get("progress")
    return JiraTask(str(body.get("id") or ""), str(body.get("status") or ""),
                    progress if isinstance(progress, int) and not isinstance(progress, bool) else 0,
                    str(body.get("message") or ""))


def _validation_error(error: Mapping[str, Any], statuses: Mapping[str, str], transitions: Mapping[str, str]) -> str:
    """One validation error, naming the status or transition it is about where Jira says."""
    where = error.get("elementReference") or {}
    item = str(error.get("type") or "WORKFLOW").lower().replace("_", " ")
    if where.get("statusReference"):
        item = f"status {statuses.get(where['statusReference'], where['statusReference'])}"
    elif where.get("transitionId"):
        item = f"transition {transitions.get(str(where['transitionId']), where['transitionId'])}"
    return f"{item}: {error.get('message') or error.get('code') or 'invalid'}"
