"""`JiraWorkflowAdmin` where the simulator cannot show it: the scheme switch's task still running when Jira answers
(polled under the REST root, never at the 303's Location), a task that fails, and validation errors named by item.
The simulator's own exchanges are in tests/integration/test_setup_workflow.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubsync.adapters.jira.auth import ApiToken
from hubsync.adapters.jira.workflow_admin import JiraWorkflowAdmin, _reference
from hubsync.domain.ports import JiraUnavailable, StatusChoice, WorkflowEdge, WorkflowShape
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


def test_the_switch_task_is_polled_under_the_rest_root_until_it_completes() -> None:
    session, sleeps = Canned([(303, task("ENQUEUED")), (200, task("RUNNING")), (200, task("COMPLETE"))]), []
    admin(session, sleeps).switch_scheme("10001", "10002", {"10001": {"10000": "1"}, "10002": {}})
    assert session.asked == [("POST", "/workflowscheme/project/switch", False), ("GET", "/task/10100", True),
                             ("GET", "/task/10100", True)]
    assert len(sleeps) == 2


def test_a_failed_switch_task_is_an_error_with_jiras_message() -> None:
    session = Canned([(303, task("RUNNING")), (200, task("FAILED", "Issue OPS-3 could not be migrated"))])
    with pytest.raises(JiraUnavailable, match="ended FAILED: Issue OPS-3 could not be migrated"):
        admin(session, []).switch_scheme("10001", "10002", {})


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
