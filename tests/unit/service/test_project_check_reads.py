"""The project check as a use case, on a fake Jira: what it reads, for which issue type, and Jira's failures."""

from __future__ import annotations

import pytest

from hubsync.domain import project_check as check
from hubsync.domain.policy import Policy
from hubsync.domain.ports import (
    CreateField,
    IssueTypeChoice,
    JiraUnavailable,
    PriorityChoice,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    UserChoice,
    WorkflowEdge,
    WorkflowShape,
)
from hubsync.domain.project_check import CheckState
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.domain.ticket import Disposition, StatusCategory
from hubsync.service.project_check import CannotCheckProject, project_changes, run_project_check


def tenant(auth: AuthMode, flavour: JiraFlavour = JiraFlavour.CLOUD) -> Tenant:
    return Tenant("t1", "acme", "https://acme.example.com", flavour, auth, "ext")


TENANT = tenant(AuthMode.API_TOKEN)

TODO = StatusChoice("1", "To Do", StatusCategory.TO_DO)
DONE = StatusChoice("2", "Done", StatusCategory.DONE)
POLICY = Policy("OPS", issue_type="Bug", status_dispositions={"done": Disposition.FIXED}, risk_request_status="To Do")


class FakeProjects:
    """A Jira with project OPS (Task and Bug; Bug's create screen asks for a cost centre), recording its reads."""

    def __init__(self, *, workflow: bool = True, fail: str | None = None) -> None:
        self.reads: list[tuple[str, ...]] = []
        self._workflow = workflow
        self._fail = fail

    def _read(self, *what: str) -> None:
        self.reads.append(what)
        if what[0] == self._fail:
            raise JiraUnavailable("Jira answered 503 Service unavailable")

    def projects(self, query: str = "") -> list[ProjectChoice]:
        raise AssertionError("the check reads one project, not the list")

    def issue_types(self, project_key: str) -> list[IssueTypeChoice]:
        self._read("issue_types", project_key)
        if project_key != "OPS":
            raise ProjectNotFound(project_key)
        return [IssueTypeChoice("10001", "Task"), IssueTypeChoice("10002", "Bug")]

    def create_fields(self, project_key: str, issue_type_id: str) -> list[CreateField]:
        self._read("create_fields", project_key, issue_type_id)
        return [CreateField("summary", "Summary", True, False), CreateField("description", "Description", False, False),
                CreateField("labels", "Labels", False, False), CreateField("priority", "Priority", False, True),
                CreateField("customfield_10050", "Cost centre", issue_type_id == "10002", False)]

    def statuses(self, project_key: str, issue_type_id: str | None = None) -> list[StatusChoice]:
        self._read("statuses", project_key, str(issue_type_id))
        return [TODO, DONE]

    def workflow(self, project_key: str, issue_type_id: str) -> WorkflowShape | None:
        self._read("workflow", project_key, issue_type_id)
        if not self._workflow:
            return None
        edges = (WorkflowEdge("Done", None, DONE.id), WorkflowEdge("Reopen", frozenset({DONE.id}), TODO.id))
        return WorkflowShape("Simple", TODO.id, (TODO, DONE), edges)

    def priorities(self) -> list[PriorityChoice]:
        self._read("priorities")
        return [PriorityChoice(str(n), name) for n, name in enumerate(["Highest", "High", "Medium", "Low", "Lowest"])]

    def users(self, query: str, project_key: str | None = None) -> list[UserChoice]:
        raise AssertionError("the default assignee is looked up by its id, with find_user")


class FakeUsers:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def find_user(self, query: str, project_key: str | None = None) -> str | None:
        self.asked.append((query, project_key))
        return query if query == "ann" else None


def test_the_issue_type_of_the_policy_is_read_and_its_required_field_named() -> None:
    projects = FakeProjects()
    report = run_project_check(TENANT, projects, FakeUsers(), POLICY)

    assert ("create_fields", "OPS", "10002") in projects.reads and ("workflow", "OPS", "10002") in projects.reads
    assert [item.name for item in report.failed] == [check.CREATE_SCREEN]
    assert "Cost centre (customfield_10050)" in report.failed[0].message
    task = Policy(**{**POLICY.__dict__, "issue_type": "Task"})
    assert run_project_check(TENANT, FakeProjects(), FakeUsers(), task).ok


def test_an_unknown_project_is_a_failed_item_and_nothing_else_is_read_of_it() -> None:
    projects, users = FakeProjects(), FakeUsers()
    report = run_project_check(TENANT, projects, users, Policy("NOPE", default_assignee="ann"))

    assert report.items[0].state is CheckState.FAILED and "no project NOPE" in report.items[0].message
    assert {read[0] for read in projects.reads} == {"priorities", "issue_types"}
    assert users.asked == []


def test_the_default_assignee_is_asked_in_the_project() -> None:
    users = FakeUsers()
    ann = Policy(**{**POLICY.__dict__, "default_assignee": "ann"})
    assert run_project_check(TENANT, FakeProjects(), users, ann).items
    assert users.asked == [("ann", "OPS")]
    report = run_project_check(TENANT, FakeProjects(), users, Policy(**{**POLICY.__dict__, "default_assignee": "bob"}))
    assert [item.state for item in report.items if item.name == check.ASSIGNEE] == [CheckState.FAILED]


@pytest.mark.parametrize(("who", "why"), [
    (tenant(AuthMode.PAT, JiraFlavour.DATA_CENTER), "Jira Data Center has no REST API for a workflow's transitions"),
    (tenant(AuthMode.CONNECT), "Jira does not let Connect apps read workflows"),
    (tenant(AuthMode.FORGE), "manage:jira-configuration"),
    (TENANT, "takes a Jira administrator's account"),
])
def test_a_workflow_jira_does_not_show_leaves_its_items_unknown_saying_why(who: Tenant, why: str) -> None:
    report = run_project_check(who, FakeProjects(workflow=False), FakeUsers(),
                               Policy(**{**POLICY.__dict__, "issue_type": "Task"}))
    assert report.ok
    unknown = [item for item in report.items if item.state is CheckState.UNKNOWN]
    assert [item.name for item in unknown] == [check.PATH_TO_FIXED, check.PATH_TO_REQUEST, check.REOPEN]
    assert all(why in item.message for item in unknown)


@pytest.mark.parametrize("failing", ["issue_types", "create_fields", "statuses", "workflow", "priorities"])
def test_jira_that_does_not_answer_is_said_plainly(failing: str) -> None:
    with pytest.raises(CannotCheckProject, match=r"Jira could not be asked about project OPS: .*503"):
        run_project_check(TENANT, FakeProjects(fail=failing), FakeUsers(), POLICY)


@pytest.mark.parametrize(("stored", "changes"), [
    (None, True),
    ({}, True),
    ({"project_key": "OPS", "issue_type": "Bug"}, False),
    ({"project_key": "OPS", "issue_type": "bug", "labels": ["x"]}, False),
    ({"project_key": "OPS", "issue_type": "Task"}, True),
    ({"project_key": "SEC", "issue_type": "Bug"}, True),
    ({"project_key": "not a key"}, True),
])
def test_a_save_is_checked_when_the_project_or_issue_type_changes(stored: dict[str, str] | None,
                                                                    changes: bool) -> None:
    assert project_changes(stored, POLICY) is changes
