"""An in-memory Jira Cloud site's workflow administration (`WorkflowAdminPort`): one project OPS on Jira's default
scheme, with To Do / In Progress / Done; it records every write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hubsync.domain.ports import (
    JiraUnavailable,
    NewStatus,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    WorkflowAdminRefused,
    WorkflowSchemeInfo,
    WorkflowShape,
)
from hubsync.domain.ticket import StatusCategory

TODO, DOING, DONE = StatusCategory.TO_DO, StatusCategory.IN_PROGRESS, StatusCategory.DONE


class FakeAdmin:
    """A Cloud site with one project OPS on Jira's default scheme (To Do / In Progress / Done)."""

    def __init__(self) -> None:
        self.statuses = [StatusChoice("10000", "To Do", TODO), StatusChoice("3", "In Progress", DOING),
                         StatusChoice("10001", "Done", DONE)]
        self.workflows: dict[str, WorkflowShape] = {}
        self.schemes: dict[str, WorkflowSchemeInfo] = {
            "1": WorkflowSchemeInfo("1", "Default Workflow Scheme", "jira", {}, frozenset({"10001"})),
        }
        self.project_scheme_id = {"10001": "1"}
        self.issue_types = ("10001", "10002")
        self.writes: list[str] = []
        self.switched: dict[str, Mapping[str, str]] = {}
        self.validation_errors: list[str] = []
        self.refuse = False
        self.switch_fails = False

    def _check(self) -> None:
        if self.refuse:
            raise WorkflowAdminRefused("You are not authorized to perform this action.")

    def project(self, key: str) -> ProjectChoice:
        self._check()
        if key != "OPS":
            raise ProjectNotFound(key)
        return ProjectChoice("10001", "OPS", "Operations")

    def statuses_named(self, names: Sequence[str]) -> list[StatusChoice]:
        wanted = {name.casefold() for name in names}
        return [s for s in self.statuses if s.name.casefold() in wanted]

    def create_statuses(self, statuses: Sequence[NewStatus]) -> list[StatusChoice]:
        self.writes.append("create_statuses")
        made = [StatusChoice(str(20000 + len(self.statuses) + i), s.name, s.category) for i, s in enumerate(statuses)]
        self.statuses += made
        return made

    def workflow(self, name: str) -> WorkflowShape | None:
        return self.workflows.get(name)

    def validate_workflow(self, shape: WorkflowShape, description: str) -> list[str]:
        assert {s.id for s in shape.statuses} <= {s.id for s in self.statuses}
        return list(self.validation_errors)

    def create_workflow(self, shape: WorkflowShape, description: str) -> None:
        self.writes.append("create_workflow")
        self.workflows[shape.name] = shape

    def project_scheme(self, project_id: str) -> WorkflowSchemeInfo:
        return self.schemes[self.project_scheme_id[project_id]]

    def scheme_named(self, name: str) -> WorkflowSchemeInfo | None:
        return next((replace(s, project_ids=frozenset()) for s in self.schemes.values()
                     if s.name.casefold() == name.casefold()), None)

    def create_scheme(self, name: str, description: str, workflow: str) -> WorkflowSchemeInfo:
        self.writes.append("create_scheme")
        scheme = WorkflowSchemeInfo(str(len(self.schemes) + 1), name, workflow, {}, frozenset())
        self.schemes[scheme.id] = scheme
        return scheme

    def project_statuses(self, project_key: str) -> Mapping[str, list[StatusChoice]]:
        scheme = self.project_scheme("10001")
        workflow = self.workflows.get(scheme.default_workflow or "")
        now = list(workflow.statuses) if workflow else self.statuses[:3]
        return {issue_type: now for issue_type in self.issue_types}

    def switch_scheme(self, project_id: str, scheme_id: str, mappings: Mapping[str, Mapping[str, str]]) -> None:
        if self.switch_fails:
            raise JiraUnavailable("Jira answered 500 to POST /workflowscheme/project/switch")
        self.writes.append("switch_scheme")
        self.switched = {issue_type: dict(moves) for issue_type, moves in mappings.items()}
        self.project_scheme_id[project_id] = scheme_id
        self.schemes[scheme_id] = replace(self.schemes[scheme_id], project_ids=frozenset({project_id}))
