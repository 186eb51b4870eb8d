"""An in-memory Jira Cloud site's workflow administration (`WorkflowAdminPort`): one project OPS on Jira's default
scheme, with To Do / In Progress / Done; it records every write. A switch's task answers RUNNING to `switch_reads`
reads of it, then completes (the switch made then); while it runs, another switch is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hubsync.domain.ports import (
    JiraTask,
    JiraUnavailable,
    NewStatus,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    SwitchUnderWay,
    TaskNotFound,
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
        self.switch_reads = 0  # reads of a switch's task it stays RUNNING for
        self.switch_failure = ""  # Jira's words when the switch's task fails
        self.tasks: dict[str, JiraTask] = {}
        self._running: dict[str, tuple[int, str, str]] = {}  # task id -> reads left, project id, scheme id

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

    def switch_scheme(self, project_id: str, scheme_id: str, mappings: Mapping[str, Mapping[str, str]]) -> JiraTask:
        if self.switch_fails:
            raise JiraUnavailable("Jira answered 500 to POST /workflowscheme/project/switch")
        if self._running:
            raise SwitchUnderWay("A workflow scheme switch task is already running.")
        self.writes.append("switch_scheme")
        self.switched = {issue_type: dict(moves) for issue_type, moves in mappings.items()}
        task_id = str(10100 + len(self.tasks))
        self.tasks[task_id] = JiraTask(task_id, "ENQUEUED", 0)
        self._running[task_id] = (self.switch_reads, project_id, scheme_id)
        return self._advance(task_id) if not self.switch_reads else self.tasks[task_id]

    def task(self, task_id: str) -> JiraTask:
        if task_id not in self.tasks:
            raise TaskNotFound(task_id)
        return self._advance(task_id) if task_id in self._running else self.tasks[task_id]

    def _advance(self, task_id: str) -> JiraTask:
        """One read nearer the task's end; at its end the switch is made, or the task fails."""
        reads_left, project_id, scheme_id = self._running.pop(task_id)
        if reads_left:
            self._running[task_id] = (reads_left - 1, project_id, scheme_id)
            done = 100 * (self.switch_reads - reads_left + 1) // (self.switch_reads + 1)
            self.tasks[task_id] = JiraTask(task_id, "RUNNING", done)
        elif self.switch_failure:
            self.tasks[task_id] = JiraTask(task_id, "FAILED", 0, self.switch_failure)
        else:
            self.project_scheme_id[project_id] = scheme_id
            self.schemes[scheme_id] = replace(self.schemes[scheme_id], project_ids=frozenset({project_id}))
            self.tasks[task_id] = JiraTask(task_id, "COMPLETE", 100)
        return self.tasks[task_id]
