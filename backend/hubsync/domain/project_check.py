"""The project check: whether a policy can work in the Jira project it names, item by item, before the first
finding arrives (the configure page's "Check project", `hubsync jira check`, and a save that changes the project).

Pure: it is given the policy and what Jira said (`ProjectFacts`), and says for each item ok, failed (with what is
wrong and how to fix it) or unknown (Jira would not say; what to do instead). Only failed items block a save.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hubsync.domain.policy import Policy
from hubsync.domain.ports import (
    CreateField,
    IssueTypeChoice,
    PriorityChoice,
    StatusChoice,
    WorkflowEdge,
    WorkflowShape,
)
from hubsync.domain.ticket import Disposition

# What a ticket create sends (adapters/jira/tickets.py `create_body`): the priority always (the policy maps every
# severity), the assignee only when routing finds one. Jira makes the caller the reporter when none is sent.
SENT_ALWAYS = ("summary", "description", "labels", "priority")
FILLED_BY_JIRA = frozenset({"project", "issuetype", "reporter"})

PROJECT = "Project and issue type"
CREATE_SCREEN = "Create screen"
STATUS_MAPPING = "Mapped statuses"
PATH_TO_FIXED = "Path to a fixed status"
PATH_TO_REQUEST = "Path to the risk-request status"
REOPEN = "Reopen from a fixed status"
PRIORITIES = "Priorities"
ASSIGNEE = "Default assignee"


class CheckState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"  # Jira would not say (no workflow API, no right to read it): a person checks


@dataclass(frozen=True)
class CheckItem:
    name: str
    state: CheckState
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.state.value, "message": self.message}


@dataclass(frozen=True)
class ProjectCheck:
    project_key: str
    issue_type: str
    items: tuple[CheckItem, ...]

    @property
    def failed(self) -> tuple[CheckItem, ...]:
        return tuple(item for item in self.items if item.state is CheckState.FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {"project": self.project_key, "issueType": self.issue_type, "ok": self.ok,
                "items": [item.to_json() for item in self.items]}


@dataclass(frozen=True)
class ProjectFacts:
    """What Jira said about the policy's project. `issue_types` None: no such project (or hubsync cannot see it).
    The create fields, statuses and workflow are those of the policy's issue type, read only when hubsync may
    create it. `workflow` None: Jira would not show it. `assignee_found` None: not asked (no default assignee, or
    no project to ask about)."""

    issue_types: tuple[IssueTypeChoice, ...] | None
    priorities: tuple[PriorityChoice, ...]
    create_fields: tuple[CreateField, ...] = ()
    statuses: tuple[StatusChoice, ...] = ()
    workflow: WorkflowShape | None = None
    assignee_found: bool | None = None
    workflow_hidden: str = "Jira would not show it"  # why, when `workflow` is None: it depends on the tenant


def issue_type_of(policy: Policy, issue_types: Iterable[IssueTypeChoice]) -> IssueTypeChoice | None:
    """The issue type the policy names, among those hubsync may create (Jira matches names regardless of case)."""
    wanted = policy.issue_type.casefold()
    return next((each for each in issue_types if each.name.casefold() == wanted), None)


def check_project(policy: Policy, facts: ProjectFacts) -> ProjectCheck:
    """Every item of the check, in the order a Jira admin would fix them."""
    key, type_name = policy.project_key, policy.issue_type
    project = _project_item(policy, facts.issue_types)
    items = [project]
    if project.state is not CheckState.OK:
        later = f"not checked: hubsync must first be able to create {type_name} issues in {key}"
        items += [CheckItem(name, CheckState.UNKNOWN, later)
                  for name in (CREATE_SCREEN, STATUS_MAPPING, PATH_TO_FIXED, PATH_TO_REQUEST, REOPEN)]
    else:
        items += [
            _create_screen_item(policy, facts.create_fields),
            _status_mapping_item(policy, facts.statuses),
            *_workflow_items(policy, facts.workflow, facts.workflow_hidden),
        ]
    items.append(_priorities_item(policy, facts.priorities))
    if policy.default_assignee:
        items.append(_assignee_item(policy, facts.assignee_found))
    return ProjectCheck(key, type_name, tuple(items))


# -- the items ---------------------------------------------------------------------------------------------------


def _project_item(policy: Policy, issue_types: Sequence[IssueTypeChoice] | None) -> CheckItem:
    key, type_name = policy.project_key, policy.issue_type
    if issue_types is None:
        return CheckItem(PROJECT, CheckState.FAILED,
                         f"Jira shows hubsync no project {key}: check the key, and that hubsync's account (the app's "
                         "user) has the Browse projects permission in it")
    if not issue_types:
        return CheckItem(PROJECT, CheckState.FAILED,
                         f"hubsync cannot create issues in {key}: give hubsync's account (the app's user) the Create "
                         "issues permission in the project's permission scheme")
    if issue_type_of(policy, issue_types) is None:
        return CheckItem(PROJECT, CheckState.FAILED,
                         f"hubsync cannot create {type_name} issues in {key}; it may create "
                         f"{_names(each.name for each in issue_types)}: pick one of those, or add {type_name} to the "
                         "project's issue type scheme")
    return CheckItem(PROJECT, CheckState.OK, f"hubsync can create {type_name} issues in {key}")


def _create_screen_item(policy: Policy, fields: Sequence[CreateField]) -> CheckItem:
    """Jira refuses a create that leaves a required field without a default empty, or sets a field its create
    screen does not show."""
    where = f"{policy.project_key}'s create screen for {policy.issue_type}"
    sent = SENT_ALWAYS + (("assignee",) if policy.default_assignee else ())
    filled = FILLED_BY_JIRA | set(sent)
    unfilled = [each for each in fields if each.required and not each.has_default and each.id not in filled]
    shown = {each.id for each in fields}
    hidden = [name for name in sent if name not in shown]
    problems = []
    if unfilled:
        listed = _names(f"{each.name} ({each.id})" for each in unfilled)
        verb = "is" if len(unfilled) == 1 else "are"
        problems.append(f"{listed} {verb} required on {where} without a default, and hubsync does not fill "
                        f"{'it' if len(unfilled) == 1 else 'them'}: give {'it' if len(unfilled) == 1 else 'each'} a "
                        "default value in the field's context, make it optional in the field configuration, or "
                        "take it off the create screen")
    if hidden:
        problems.append(f"{where} lacks {_names(hidden)}, which hubsync sets on every ticket it creates: add "
                        f"{'it' if len(hidden) == 1 else 'them'} to the screen")
    if problems:
        return CheckItem(CREATE_SCREEN, CheckState.FAILED, "; ".join(problems))
    return CheckItem(CREATE_SCREEN, CheckState.OK,
                     f"every required field of {where} has a default or is one hubsync fills")


def _status_mapping_item(policy: Policy, statuses: Sequence[StatusChoice]) -> CheckItem:
    known = {each.name.casefold() for each in statuses}
    missing = [name for name in policy.status_dispositions if name.casefold() not in known]
    if missing:
        return CheckItem(STATUS_MAPPING, CheckState.FAILED,
                         f"the status mapping names {_names(missing)}, but {policy.project_key} has no such status for "
                         f"{policy.issue_type} (it has {_names(each.name for each in statuses)}): map the project's "
                         "own statuses instead, or set the project up with hubsync's risk workflow "
                         "(`hubsync jira setup-workflow`)")
    if not policy.status_dispositions:
        return CheckItem(STATUS_MAPPING, CheckState.OK, "no status is mapped: done statuses count as fixed")
    return CheckItem(STATUS_MAPPING, CheckState.OK,
                     f"every status of the mapping is one of {policy.project_key}'s")


def _workflow_items(policy: Policy, workflow: WorkflowShape | None, hidden: str) -> list[CheckItem]:
    if workflow is None:
        why = f"hubsync cannot read {policy.project_key}'s workflow ({hidden})"
        return [
            CheckItem(name, CheckState.UNKNOWN, f"{why}: a Jira admin checks by hand that {what}, or sets the risk "
                                                "workflow up (`hubsync jira setup-workflow` on Cloud, the file of "
                                                "`hubsync jira workflow-xml` on Data Center)")
            for name, what in (
                (PATH_TO_FIXED, "transitions lead from the initial status to a done status"),
                (PATH_TO_REQUEST, f"transitions lead from the initial status to {policy.risk_request_status!r}"),
                (REOPEN, "a transition leads from each done status back to an open one"),
            )
        ]
    return [_path_to_fixed(policy, workflow), _path_to_request(policy, workflow), _reopen(policy, workflow)]


def _path_to_fixed(policy: Policy, workflow: WorkflowShape) -> CheckItem:
    graph = _Graph(workflow)
    fixed = {each.id for each in workflow.statuses if _disposition(policy, each) is Disposition.FIXED}
    path = graph.path(workflow.initial, fixed)
    if path is None:
        which = _names(graph.name(each) for each in fixed) if fixed else "the workflow has none"
        return CheckItem(PATH_TO_FIXED, CheckState.FAILED,
                         f"no transition leads from {graph.name(workflow.initial)} to a status hubsync counts as "
                         f"fixed ({which}), so hubsync cannot close a ticket whose finding is resolved: add "
                         "transitions to a done status, or map a reachable status to FIXED")
    return CheckItem(PATH_TO_FIXED, CheckState.OK, graph.describe(workflow.initial, path))


def _path_to_request(policy: Policy, workflow: WorkflowShape) -> CheckItem:
    graph = _Graph(workflow)
    wanted = policy.risk_request_status.casefold()
    targets = {each.id for each in workflow.statuses if each.name.casefold() == wanted}
    if not targets:
        return CheckItem(PATH_TO_REQUEST, CheckState.FAILED,
                         f"the workflow {workflow.name!r} has no status {policy.risk_request_status!r}, where a "
                         "suppression in the Security Hub console becomes a request for risk acceptance: set the "
                         "risk-request status to one of the workflow's statuses, or set the risk workflow up")
    path = graph.path(workflow.initial, targets)
    if path is None:
        return CheckItem(PATH_TO_REQUEST, CheckState.FAILED,
                         f"no transition leads from {graph.name(workflow.initial)} to {policy.risk_request_status!r}: "
                         "add one to the workflow, or set the risk-request status to a status that is reachable")
    return CheckItem(PATH_TO_REQUEST, CheckState.OK, graph.describe(workflow.initial, path))


def _reopen(policy: Policy, workflow: WorkflowShape) -> CheckItem:
    graph = _Graph(workflow)
    fixed = [each for each in workflow.statuses if _disposition(policy, each) is Disposition.FIXED]
    open_ = {each.id for each in workflow.statuses if _disposition(policy, each) is Disposition.OPEN}
    if not fixed:
        return CheckItem(REOPEN, CheckState.FAILED,
                         "the workflow has no status hubsync counts as fixed, so none to reopen from: see "
                         f"{PATH_TO_FIXED.lower()!r}")
    stuck = [each.name for each in fixed if graph.path(each.id, open_) is None]
    if stuck:
        return CheckItem(REOPEN, CheckState.FAILED,
                         f"no transition leads from {_names(stuck)} back to an open status, so hubsync cannot reopen "
                         "the ticket of a finding that fails again: add a Reopen transition")
    return CheckItem(REOPEN, CheckState.OK, "; ".join(graph.describe(each.id, graph.path(each.id, open_) or ())
                                                      for each in fixed))


def _priorities_item(policy: Policy, priorities: Sequence[PriorityChoice]) -> CheckItem:
    known = {each.name.casefold() for each in priorities}
    missing = {name: [severity.value for severity, mapped in policy.priorities.items() if mapped == name]
               for name in dict.fromkeys(policy.priorities.values()) if name.casefold() not in known}
    if missing:
        listed = _names(f"{name} (for {', '.join(severities)})" for name, severities in missing.items())
        return CheckItem(PRIORITIES, CheckState.FAILED,
                         f"the site has no priority {listed}: map each severity to one of "
                         f"{_names(each.name for each in priorities)}")
    return CheckItem(PRIORITIES, CheckState.OK, "every mapped priority is one of the site's")


def _assignee_item(policy: Policy, found: bool | None) -> CheckItem:
    if found is None:
        return CheckItem(ASSIGNEE, CheckState.UNKNOWN, f"not checked: the project {policy.project_key} comes first")
    if found:
        return CheckItem(ASSIGNEE, CheckState.OK,
                         f"{policy.default_assignee} can be assigned issues in {policy.project_key}")
    return CheckItem(ASSIGNEE, CheckState.FAILED,
                     f"no active person {policy.default_assignee!r} can be assigned issues in {policy.project_key}: "
                     "pick someone with the Assignable user permission there, or leave the default assignee empty")


# -- helpers -----------------------------------------------------------------------------------------------------


def _disposition(policy: Policy, status: StatusChoice) -> Disposition:
    return policy.disposition_of_status(status.name, status.category)


class _Graph:
    """A workflow's statuses and transitions, for the shortest way (fewest transitions) between them. A global
    transition (no sources) goes from every status but its own target."""

    def __init__(self, workflow: WorkflowShape) -> None:
        self._names: Mapping[str, str] = {each.id: each.name for each in workflow.statuses}
        self._edges = workflow.edges

    def name(self, status_id: str) -> str:
        return self._names.get(status_id, status_id)

    def _leaving(self, status_id: str) -> Iterable[WorkflowEdge]:
        for edge in self._edges:
            if (status_id in edge.sources) if edge.sources is not None else edge.target != status_id:
                yield edge

    def path(self, start: str, targets: set[str]) -> tuple[WorkflowEdge, ...] | None:
        """The fewest transitions from `start` to any of `targets` (none when `start` is one); None: no way."""
        if start in targets:
            return ()
        came: dict[str, tuple[str, WorkflowEdge] | None] = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for edge in self._leaving(here):
                if edge.target in came:
                    continue
                came[edge.target] = (here, edge)
                if edge.target in targets:
                    return self._walk_back(came, edge.target)
                queue.append(edge.target)
        return None

    @staticmethod
    def _walk_back(came: Mapping[str, tuple[str, WorkflowEdge] | None], end: str) -> tuple[WorkflowEdge, ...]:
        edges: list[WorkflowEdge] = []
        step = came[end]
        while step is not None:
            edges.append(step[1])
            step = came[step[0]]
        return tuple(reversed(edges))

    def describe(self, start: str, path: Sequence[WorkflowEdge]) -> str:
        """`Open: Allocate for fix → Mark for testing → Mark as resolved reaches Resolved`."""
        if not path:
            return f"{self.name(start)} is already there"
        return f"{self.name(start)}: {' → '.join(edge.name for edge in path)} reaches {self.name(path[-1].target)}"


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    return ", ".join(listed) if listed else "none"
