"""`JiraProjectsPort` over Jira's REST API: what a site has that a configure page picks from and the project check
reads — projects, their issue types and create screens, statuses and workflows, the site's priorities and people.

Both flavours share the transport (the site's rate budget, retries, Jira's own error messages). Where they differ:
Cloud searches projects (`/project/search`), Data Center lists them all (`/project`) and hubsync filters; Cloud knows
people by accountId and `query`, Data Center by user name and `username`; only Cloud can show a workflow's
transitions (`/workflowscheme/project` then `/workflows/search`, both for Jira administrators: a tenant without the
right, or a Connect app, to which the workflow API is closed, gets None).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from requests import Session
from requests.auth import AuthBase

from hubsync.adapters.jira.client import CLOUD_ACCOUNT_ID
from hubsync.adapters.jira.dialect import Dialect, Flavour
from hubsync.adapters.jira.transport import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, JiraError, JiraTransport
from hubsync.adapters.jira.workflow_search import statuses_by_issue_type, workflow_named
from hubsync.domain.ports import (
    CreateField,
    IssueTypeChoice,
    PriorityChoice,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    UserChoice,
    WorkflowShape,
)

MAX_PROJECTS = 50
MAX_USERS = 20
PAGE_SIZE = 50  # Jira's page size for create metadata and workflow searches
NOT_ALLOWED = (401, 403)  # a workflow read refused: not an administrator, or a Connect app


class JiraProjects:
    """Reads of one Jira site's configuration, for the configure page and `hubsync jira check`. Raises
    `ProjectNotFound` for a project Jira does not show, `JiraUnavailable` (its `JiraError` or `JiraUnreachable`)
    for anything else Jira refused or did not answer."""

    def __init__(
        self,
        base_url: str,
        flavour: Flavour,
        auth: AuthBase,
        *,
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.dialect = Dialect(flavour)
        # The site's process-wide budget, as every other client of the tenant spends it.
        self._http = JiraTransport(base_url, self.dialect.api_version, auth, session=session, sleep=sleep,
                                   max_retries=max_retries, timeout_s=timeout_s)

    @property
    def request_counts(self) -> dict[str, int]:
        return dict(self._http.requests_made)

    def close(self) -> None:
        self._http.close()

    def projects(self, query: str = "") -> list[ProjectChoice]:
        """Projects matching `query` in key or name, by key, at most 50."""
        query = query.strip()
        if self.dialect.cloud:
            params: dict[str, Any] = {"maxResults": MAX_PROJECTS, "orderBy": "key"}
            if query:
                params["query"] = query
            page = self._http.call("projects", "GET", "/project/search", params=params) or {}
            found = page.get("values") or []
        else:  # Data Center lists every project it shows the caller: no server-side filter
            wanted = query.casefold()
            found = [project for project in self._http.call("projects", "GET", "/project") or []
                     if wanted in str(project.get("key", "")).casefold()
                     or wanted in str(project.get("name", "")).casefold()]
            found.sort(key=lambda project: str(project.get("key", "")))
        return [ProjectChoice(str(p["id"]), str(p["key"]), str(p.get("name") or p["key"]))
                for p in found[:MAX_PROJECTS]]

    def issue_types(self, project_key: str) -> list[IssueTypeChoice]:
        """Issue types of the project's create metadata, sub-tasks left out (a finding's ticket has no parent)."""
        path = f"/issue/createmeta/{_segment(project_key)}/issuetypes"
        types = self._create_meta("issue_types", project_key, path, "issueTypes")
        return [IssueTypeChoice(str(t["id"]), str(t.get("name") or t["id"])) for t in types if not t.get("subtask")]

    def create_fields(self, project_key: str, issue_type_id: str) -> list[CreateField]:
        path = f"/issue/createmeta/{_segment(project_key)}/issuetypes/{_segment(issue_type_id)}"
        fields = self._create_meta("create_fields", project_key, path, "fields")
        return [
            CreateField(
                id=str(field.get("fieldId") or field.get("key")),
                name=str(field.get("name") or field.get("fieldId") or field.get("key")),
                required=field.get("required") is True,
                has_default=field.get("hasDefaultValue") is True,
            )
            for field in fields
            if field.get("fieldId") or field.get("key")
        ]

    def statuses(self, project_key: str, issue_type_id: str | None = None) -> list[StatusChoice]:
        """The project's statuses: of the issue type when given (none if the project has no such type), else of
        every issue type, each status once, in Jira's order."""
        answer = self._project_call("statuses", project_key, f"/project/{_segment(project_key)}/statuses")
        found: dict[str, StatusChoice] = {}
        for type_id, statuses in statuses_by_issue_type(answer).items():
            if issue_type_id is None or type_id == issue_type_id:
                for status in statuses:
                    found.setdefault(status.id, status)
        return list(found.values())

    def workflow(self, project_key: str, issue_type_id: str) -> WorkflowShape | None:
        """The workflow the project's workflow scheme maps the issue type to, with its transitions. None on Data
        Center (no API shows transitions), and on Cloud when Jira refuses the read (401/403: not a Jira
        administrator, or a Connect app) or does not show the workflow (a team-managed project has no scheme)."""
        if not self.dialect.cloud:
            return None
        project = self._project_call("workflow", project_key, f"/project/{_segment(project_key)}") or {}
        project_id = str(project.get("id"))
        try:
            schemes = self._http.call("workflow", "GET", "/workflowscheme/project", params={"projectId": project_id})
            name = _workflow_name(schemes, project_id, issue_type_id)
            if name is None:
                return None
            return self._workflow_named(name)
        except JiraError as error:
            if error.status in NOT_ALLOWED:
                return None
            raise

    def priorities(self) -> list[PriorityChoice]:
        return [PriorityChoice(str(p["id"]), str(p.get("name") or p["id"]))
                for p in self._http.call("priorities", "GET", "/priority") or []]

    def users(self, query: str, project_key: str | None = None) -> list[UserChoice]:
        """Active people (not apps) Jira's user search finds for `query` (on Cloud an accountId finds its person, so
        a stored assignee can be shown by name), assignable in the project when given; at most 20. Without a
        project, a blank query finds nobody (Jira's user search needs one)."""
        query = query.strip()
        params: dict[str, Any] = {"maxResults": MAX_USERS}
        if query and not self.dialect.cloud:
            params["username"] = query
        elif query:
            params["accountId" if CLOUD_ACCOUNT_ID.match(query) else "query"] = query
        if project_key:
            params["project"] = project_key
            found = self._project_call("users", project_key, "/user/assignable/search", params=params)
        elif query:
            found = self._http.call("users", "GET", "/user/search", params=params)
        else:
            return []
        choices = []
        for user in found or []:
            user_id = self.dialect.user_id(user)
            if user_id is None or not user.get("active", True) or user.get("accountType", "atlassian") != "atlassian":
                continue
            email = user.get("emailAddress")
            choices.append(UserChoice(user_id, str(user.get("displayName") or user_id),
                                      email if isinstance(email, str) and email else None))
        return choices[:MAX_USERS]

    # -- internals -------------------------------------------------------------------------------------------------

    def _project_call(self, operation: str, project_key: str, path: str,
                      params: Mapping[str, Any] | None = None) -> Any:
        """A GET about one project: Jira's 404 is `ProjectNotFound`."""
        try:
            return self._http.call(operation, "GET", path, params=params)
        except JiraError as error:
            if error.status == 404:
                raise ProjectNotFound(f"Jira has no project {project_key!r}, or does not show it to hubsync") from None
            raise

    def _create_meta(self, operation: str, project_key: str, path: str, cloud_key: str) -> list[dict[str, Any]]:
        """Every entry of a paged create-metadata answer (`cloud_key` on Cloud, `values` on Data Center). Jira
        answers 400 for an unknown project here; the project is then read to tell that apart from other refusals."""
        key = cloud_key if self.dialect.cloud else "values"
        try:
            return list(self._pages(operation, path, key))
        except JiraError as error:
            if error.status in (400, 404):
                self._project_call(operation, project_key, f"/project/{_segment(project_key)}")
            raise

    def _pages(self, operation: str, path: str, key: str) -> Iterator[dict[str, Any]]:
        start_at = 0
        while True:
            params = {"startAt": start_at, "maxResults": PAGE_SIZE}
            page = self._http.call(operation, "GET", path, params=params) or {}
            values = page.get(key) or []
            yield from values
            start_at += len(values)
            if not values or start_at >= int(page.get("total", 0)) or page.get("isLast") is True:
                return

    def _workflow_named(self, name: str) -> WorkflowShape | None:
        return workflow_named(lambda params: self._http.call("workflow", "GET", "/workflows/search",
                                                             params=dict(params)) or {}, name)


def _workflow_name(schemes: Any, project_id: str, issue_type_id: str) -> str | None:
    """The workflow the project's scheme maps the issue type to (else the scheme's default), or None when Jira
    lists no scheme for the project (team-managed)."""
    for association in (schemes or {}).get("values") or []:
        if project_id not in {str(pid) for pid in association.get("projectIds") or []}:
            continue
        scheme = association.get("workflowScheme") or {}
        mapped = (scheme.get("issueTypeMappings") or {}).get(issue_type_id) or scheme.get("defaultWorkflow")
        return str(mapped) if mapped else None
    return None


def _segment(value: str) -> str:
    """A path segment from caller input: quoted, so a key cannot reach another endpoint."""
    return quote(value, safe="")
