"""`JiraWorkflowAdmin` where the simulator cannot show it: the scheme switch's task as Jira answers it and read again
(under the REST root, never at the 303's Location), a task that failed, Jira's 409 while another switch runs, a task
Jira lacks, and validation errors named by item.
The simulator's own exchanges are in tests/integration/test_setup_workflow.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubsync.adapters.jira.auth import ApiToken
from hubsync.adapters.jira.workflow_admin import JiraWorkflowAdmin, _reference
from hubsync.domain.ports import JiraTask, StatusChoice, SwitchUnderWay, TaskNotFound, WorkflowEdge, WorkflowShape
from hubsync.domain.ticket import StatusCategory

SITE = "https://acme.atlassian.net"


class Canned(requests.Session):
    """Answers each request with the next canned (status, body), keeping what was asked."""

    def __init__(self, answers: list[tuple[int, Any]]) -> None:
        super().__init__()
        self._answers: Iterator[tuple[int, Any]] = iter(answers)
        self.asked: list[tuple[str, str, bool]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.asked.append((method, url.removeprefix(f"{SITE}/rest/api/3"), kwargs.get("allow_redirects", True)))
        status, body = next(self._answers)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        if status == 303:
            response.headers["Location"] = f"{SITE}/rest/api/3/task/{body['id']}"
        return response


def task(status: str, message: str | None = None) -> dict[str, Any]:
    body = {"id": "10100", "self": f"{SITE}/rest/api/3/task/10100", "status": status, "progress": 50,
            "elapsedRuntime": 1, "lastUpdate": 1, "submitted": 1, "submittedBy": 1}
    return body | ({"message": message} if message else {})


def admin(session: Canned, sleeps: list[float]) -> JiraWorkflowAdmin:
    return JiraWorkflowAdmin(SITE, ApiToken("sofia@example.com", "t"), session=session, sleep=sleeps.append)


def test_the_switch_answers_jiras_task_and_the_task_is_read_under_the_rest_root() -> None:
    session = Canned([(303, task("ENQUEUED")), (200, task("RUNNING", "Migrating issues")),
                      (200, task("FAILED", "Issue OPS-3 could not be migrated"))])
    site = admin(session, [])
    assert site.switch_scheme("10001", "10002", {"10001": {"10000": "1"}, "10002": {}}) == JiraTask(
        "10100", "ENQUEUED", 50)
    assert site.task("10100") == JiraTask("10100", "RUNNING", 50, "Migrating issues")
    failed = site.task("10100")
    assert (failed.running, failed.complete, failed.message) == (False, False, "Issue OPS-3 could not be migrated")
    assert session.asked == [("POST", "/workflowscheme/project/switch", False), ("GET", "/task/10100", True),
                             ("GET", "/task/10100", True)]


def test_a_second_switch_while_one_runs_and_a_task_jira_lacks_are_their_own_errors() -> None:
    busy = {"errorMessages": ["A workflow scheme switch task is already running."], "errors": {}}
    with pytest.raises(SwitchUnderWay, match="already running"):
        admin(Canned([(409, busy)]), []).switch_scheme("10001", "10002", {})
    gone = {"errorMessages": ["The task with ID '77' does not exist."], "errors": {}}
    with pytest.raises(TaskNotFound):
        admin(Canned([(404, gone)]), []).task("77")


def test_validation_errors_name_their_status_or_transition() -> None:
    shape = WorkflowShape("w", "1", (StatusChoice("1", "Open", StatusCategory.TO_DO),
                                     StatusChoice("2", "Done", StatusCategory.DONE)),
                          (WorkflowEdge("Finish", frozenset({"1"}), "2"),))
    session = Canned([(200, {"errors": [
        {"level": "ERROR", "type": "STATUS", "message": "is not reachable",
         "elementReference": {"statusReference": _reference("2")}},
        {"level": "ERROR", "type": "TRANSITION", "message": "needs a name", "elementReference": {"transitionId": "11"}},
        {"level": "WARNING", "type": "WORKFLOW", "message": "looks odd"},
        {"level": "ERROR", "type": "SCOPE", "message": "is wrong"},
    ]})])
    assert admin(session, []).validate_workflow(shape, "d") == [
        "status Done: is not reachable", "transition Finish: needs a name", "scope: is wrong"]
