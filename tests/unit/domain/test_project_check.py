"""The project check on its own: a policy and what Jira said, each item ok, failed (saying what and how to fix) or
unknown (Jira would not say)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from hubsync.domain import project_check as check
from hubsync.domain import risk_workflow as risk
from hubsync.domain.finding import Severity
from hubsync.domain.policy import DEFAULT_PRIORITIES, Policy
from hubsync.domain.ports import (
    CreateField,
    IssueTypeChoice,
    PriorityChoice,
    StatusChoice,
    WorkflowEdge,
    WorkflowShape,
)
from hubsync.domain.project_check import CheckState, ProjectFacts, check_project
from hubsync.domain.ticket import Disposition, StatusCategory

TASK = IssueTypeChoice("10001", "Task")
BUG = IssueTypeChoice("10002", "Bug")
PRIORITIES = tuple(PriorityChoice(str(n), name) for n, name in enumerate(DEFAULT_PRIORITIES.values(), start=1))
STOCK_FIELDS = (
    CreateField("summary", "Summary", True, False),
    CreateField("issuetype", "Issue Type", True, False),
    CreateField("project", "Project", True, False),
    CreateField("description", "Description", False, False),
    CreateField("labels", "Labels", False, False),
    CreateField("priority", "Priority", False, True),
    CreateField("assignee", "Assignee", False, False),
    CreateField("reporter", "Reporter", True, False),
)
COST_CENTRE = CreateField("customfield_10050", "Cost centre", True, False)

# hubsync's risk workflow as a site holds it (ids are the site's: here the keys).
RISK_STATUSES = tuple(StatusChoice(each.key, each.name, each.category) for each in risk.STATUSES)
RISK_WORKFLOW = WorkflowShape(
    "hubsync risk workflow", risk.INITIAL, RISK_STATUSES,
    tuple(WorkflowEdge(move.name, frozenset({move.source}), move.target) for move in risk.TRANSITIONS),
)
# Jira's simplified workflow: three global transitions, each status reachable from every other.
TODO = StatusChoice("10000", "To Do", StatusCategory.TO_DO)
DOING = StatusChoice("3", "In Progress", StatusCategory.IN_PROGRESS)
DONE = StatusChoice("10001", "Done", StatusCategory.DONE)
STOCK_WORKFLOW = WorkflowShape("Simplified", TODO.id, (TODO, DOING, DONE),
                               tuple(WorkflowEdge(each.name, None, each.id) for each in (TODO, DOING, DONE)))
# A stock project's policy: its own statuses, risk requests in "In Progress".
STOCK_POLICY = Policy("OPS", status_dispositions={"done": Disposition.FIXED}, risk_request_status="In Progress")


def risk_facts(**changes: object) -> ProjectFacts:
    facts = ProjectFacts((TASK, BUG), PRIORITIES, STOCK_FIELDS, RISK_STATUSES, RISK_WORKFLOW)
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def stock_facts(**changes: object) -> ProjectFacts:
    facts = ProjectFacts((TASK,), PRIORITIES, STOCK_FIELDS, (TODO, DOING, DONE), STOCK_WORKFLOW)
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def without(workflow: WorkflowShape, *names: str) -> WorkflowShape:
    return dataclasses.replace(workflow, edges=tuple(edge for edge in workflow.edges if edge.name not in names))


def states(policy: Policy, facts: ProjectFacts) -> dict[str, CheckState]:
    return {item.name: item.state for item in check_project(policy, facts).items}


def message(policy: Policy, facts: ProjectFacts, name: str) -> str:
    return next(item.message for item in check_project(policy, facts).items if item.name == name)


OK = CheckState.OK
FAILED = CheckState.FAILED
UNKNOWN = CheckState.UNKNOWN

CASES: list[tuple[str, Policy, Callable[[], ProjectFacts], dict[str, CheckState]]] = [
    ("the risk workflow project with the defaults", Policy("SEC"), risk_facts, {
        check.PROJECT: OK, check.CREATE_SCREEN: OK, check.STATUS_MAPPING: OK, check.PATH_TO_FIXED: OK,
        check.PATH_TO_REQUEST: OK, check.REOPEN: OK, check.PRIORITIES: OK}),
    ("a stock project with its own mapping", STOCK_POLICY, stock_facts, {
        check.PROJECT: OK, check.CREATE_SCREEN: OK, check.STATUS_MAPPING: OK, check.PATH_TO_FIXED: OK,
        check.PATH_TO_REQUEST: OK, check.REOPEN: OK, check.PRIORITIES: OK}),
    ("a stock project with the risk workflow's mapping", Policy("OPS"), stock_facts, {
        check.STATUS_MAPPING: FAILED, check.PATH_TO_REQUEST: FAILED, check.PATH_TO_FIXED: OK, check.REOPEN: OK}),
    ("no such project", Policy("NOPE"), lambda: risk_facts(issue_types=None), {
        check.PROJECT: FAILED, check.CREATE_SCREEN: UNKNOWN, check.STATUS_MAPPING: UNKNOWN,
        check.PATH_TO_FIXED: UNKNOWN, check.PATH_TO_REQUEST: UNKNOWN, check.REOPEN: UNKNOWN, check.PRIORITIES: OK}),
    ("no create permission", Policy("SEC"), lambda: risk_facts(issue_types=()), {
        check.PROJECT: FAILED, check.CREATE_SCREEN: UNKNOWN}),
    ("an issue type the project lacks", Policy("SEC", issue_type="Story"), risk_facts, {
        check.PROJECT: FAILED, check.PATH_TO_FIXED: UNKNOWN}),
    ("issue type names match regardless of case", Policy("SEC", issue_type="bug"), risk_facts, {check.PROJECT: OK}),
    ("a required field without a default", Policy("SEC"),
     lambda: risk_facts(create_fields=(*STOCK_FIELDS, COST_CENTRE)), {check.CREATE_SCREEN: FAILED}),
    ("a required field with a default", Policy("SEC"),
     lambda: risk_facts(create_fields=(*STOCK_FIELDS, dataclasses.replace(COST_CENTRE, has_default=True))),
     {check.CREATE_SCREEN: OK}),
    ("an optional custom field", Policy("SEC"),
     lambda: risk_facts(create_fields=(*STOCK_FIELDS, dataclasses.replace(COST_CENTRE, required=False))),
     {check.CREATE_SCREEN: OK}),
    ("a required assignee, no default assignee", Policy("SEC"),
     lambda: risk_facts(create_fields=tuple(dataclasses.replace(f, required=True) if f.id == "assignee" else f
                                            for f in STOCK_FIELDS)), {check.CREATE_SCREEN: FAILED}),
    ("a required assignee and a default assignee", Policy("SEC", default_assignee="ann"),
     lambda: risk_facts(assignee_found=True, create_fields=tuple(
         dataclasses.replace(f, required=True) if f.id == "assignee" else f for f in STOCK_FIELDS)),
     {check.CREATE_SCREEN: OK, check.ASSIGNEE: OK}),
    ("no priority on the create screen", Policy("SEC"),
     lambda: risk_facts(create_fields=tuple(f for f in STOCK_FIELDS if f.id != "priority")),
     {check.CREATE_SCREEN: FAILED}),
    ("a mapped status the project lacks", Policy("SEC", status_dispositions={"Closed": Disposition.FIXED}),
     risk_facts, {check.STATUS_MAPPING: FAILED}),
    ("no status mapped", Policy("SEC", status_dispositions={}), risk_facts, {check.STATUS_MAPPING: OK}),
    ("the workflow cannot be read", Policy("SEC"), lambda: risk_facts(workflow=None), {
        check.STATUS_MAPPING: OK, check.PATH_TO_FIXED: UNKNOWN, check.PATH_TO_REQUEST: UNKNOWN,
        check.REOPEN: UNKNOWN}),
    ("no way to resolve", Policy("SEC"), lambda: risk_facts(workflow=without(RISK_WORKFLOW, "Mark as resolved")),
     {check.PATH_TO_FIXED: FAILED, check.REOPEN: OK}),
    ("a status mapped FIXED makes a path", Policy("SEC", status_dispositions={"test fix": Disposition.FIXED}),
     lambda: risk_facts(workflow=without(RISK_WORKFLOW, "Mark as resolved")), {check.PATH_TO_FIXED: OK}),
    ("no way to request risk acceptance", Policy("SEC"),
     lambda: risk_facts(workflow=without(RISK_WORKFLOW, "Request risk acceptance")),
     {check.PATH_TO_REQUEST: FAILED, check.PATH_TO_FIXED: OK}),
    ("a risk-request status the workflow lacks", Policy("SEC", risk_request_status="Escalated"), risk_facts,
     {check.PATH_TO_REQUEST: FAILED}),
    ("no reopen", Policy("SEC"), lambda: risk_facts(workflow=without(RISK_WORKFLOW, "Reopen")),
     {check.REOPEN: FAILED, check.PATH_TO_FIXED: OK}),
    ("a global reopen counts from any status", Policy("SEC"), lambda: risk_facts(workflow=dataclasses.replace(
        without(RISK_WORKFLOW, "Reopen"),
        edges=(*without(RISK_WORKFLOW, "Reopen").edges, WorkflowEdge("Reopen", None, risk.INITIAL)))),
     {check.REOPEN: OK}),
    ("a workflow without a fixed status", STOCK_POLICY, lambda: stock_facts(workflow=dataclasses.replace(
        STOCK_WORKFLOW, statuses=(TODO, DOING), edges=STOCK_WORKFLOW.edges[:2])),
     {check.PATH_TO_FIXED: FAILED, check.REOPEN: FAILED}),
    ("a priority the site lacks", Policy("SEC", priorities={**DEFAULT_PRIORITIES, Severity.CRITICAL: "Blocker"}),
     risk_facts, {check.PRIORITIES: FAILED}),
    ("priority names match regardless of case",
     Policy("SEC", priorities={severity: name.upper() for severity, name in DEFAULT_PRIORITIES.items()}),
     risk_facts, {check.PRIORITIES: OK}),
    ("a default assignee who cannot be assigned", Policy("SEC", default_assignee="bob"),
     lambda: risk_facts(assignee_found=False), {check.ASSIGNEE: FAILED}),
    ("a default assignee, and no project to ask", Policy("NOPE", default_assignee="bob"),
     lambda: risk_facts(issue_types=None), {check.ASSIGNEE: UNKNOWN}),
]


@pytest.mark.parametrize(("policy", "facts", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_each_item(policy: Policy, facts: Callable[[], ProjectFacts], expected: dict[str, CheckState]) -> None:
    got = states(policy, facts())
    assert {name: got.get(name) for name in expected} == expected


def test_no_default_assignee_is_not_an_item() -> None:
    assert check.ASSIGNEE not in states(Policy("SEC"), risk_facts())


def test_only_failed_items_fail_the_check() -> None:
    unknown = check_project(Policy("SEC"), risk_facts(workflow=None))
    failed = check_project(Policy("SEC"), risk_facts(create_fields=(*STOCK_FIELDS, COST_CENTRE)))

    assert unknown.ok and unknown.to_json()["ok"] is True
    assert not failed.ok and [item.name for item in failed.failed] == [check.CREATE_SCREEN]
    assert failed.to_json()["items"][1] == {"name": check.CREATE_SCREEN, "status": "failed",
                                            "message": failed.failed[0].message}


def test_a_required_field_is_named_with_its_id_and_how_to_fix_it() -> None:
    text = message(Policy("SEC"), risk_facts(create_fields=(*STOCK_FIELDS, COST_CENTRE)), check.CREATE_SCREEN)
    assert "Cost centre (customfield_10050) is required on SEC's create screen for Task" in text
    assert "default value" in text


def test_the_messages_say_what_to_do() -> None:
    assert "Task, Bug" in message(Policy("SEC", issue_type="Story"), risk_facts(), check.PROJECT)
    mapping = message(Policy("OPS"), stock_facts(), check.STATUS_MAPPING)
    assert "resolved" in mapping and "To Do, In Progress, Done" in mapping and "setup-workflow" in mapping
    assert "Blocker (for CRITICAL)" in message(
        Policy("SEC", priorities={**DEFAULT_PRIORITIES, Severity.CRITICAL: "Blocker"}), risk_facts(), check.PRIORITIES)
    unknown = message(Policy("SEC"), risk_facts(workflow=None), check.PATH_TO_REQUEST)
    assert "Data Center" in unknown and "setup-workflow" in unknown and "Request risk acceptance" in unknown
    assert "Resolved" in message(Policy("SEC"), risk_facts(workflow=without(RISK_WORKFLOW, "Reopen")), check.REOPEN)


def test_an_ok_path_shows_the_transitions_it_takes() -> None:
    text = message(Policy("SEC"), risk_facts(), check.PATH_TO_FIXED)
    assert text == "Open: Allocate for fix → Mark for testing → Mark as resolved reaches Resolved"
