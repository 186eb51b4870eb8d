"""`POST /api/v1/settings/risk-workflow` through Forge's invokeRemote (a Forge site, its administration a fake
port) and from a Connect iframe (refused, with the manual steps): the plan, the setup, a second run, bad input; a
switch Jira has not finished within the request's budget (202, then its task's route), a second press meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnreachable, StatusChoice, WorkflowAdminPort
from hubsync.domain.tenant import Tenant
from hubsync.domain.ticket import StatusCategory
from hubsync.service.workflow_setup import manual_steps
from hubsync.web import workflow_api
from tests.fakes.workflow_admin import FakeAdmin
from tests.unit.web.forge_requests import FORGE_KEY, app_token, claims, fit, forge_headers
from tests.unit.web.jira_requests import USER_ACCOUNT_ID, context_token, jwt_header

PATH = "/api/v1/settings/risk-workflow"


class Site:
    """The runtime's tenant clients: a Jira with one administrator, whose workflow administration is `admin`."""

    def __init__(self, admin: FakeAdmin) -> None:
        self.admin = admin
        self.down = False

    def jira(self, tenant: Tenant) -> Any:
        class Jira:
            def is_site_admin(self, account_id: str) -> bool:
                return account_id in ("admin-1", USER_ACCOUNT_ID)

        return Jira()

    def workflow_admin(self, tenant: Tenant) -> WorkflowAdminPort:
        if self.down:
            raise JiraUnreachable("Jira did not answer GET /project/OPS: ConnectionError")
        return self.admin


@pytest.fixture
def site(forge_app: Flask, installed: Tenant) -> Site:
    made = Site(FakeAdmin())
    forge_app.extensions["hubsync"].runtime.tenants = made
    return made


def post(forge: FlaskClient, body: Any, principal: str = "admin-1") -> Any:
    return forge.post(PATH, json=body, headers=forge_headers(fit(FORGE_KEY, claims(principal=principal)), app_token()))


def test_a_dry_run_then_the_setup_then_already_set_up(forge: FlaskClient, site: Site) -> None:
    plan = post(forge, {"project": "OPS", "dryRun": True})
    assert plan.status_code == 200, plan.json
    assert plan.json["dryRun"] is True and plan.json["alreadySetUp"] is False and plan.json["problems"] == []
    assert plan.json["project"] == {"id": "10001", "key": "OPS", "name": "Operations"}
    assert [s["kind"] for s in plan.json["steps"]][-2:] == ["create-scheme", "switch-project"]
    assert site.admin.writes == []

    done = post(forge, {"project": "OPS", "dryRun": False})
    assert done.status_code == 200, done.json
    assert done.json["ok"] is True
    assert [o["kind"] for o in done.json["outcomes"]].count("create-status") == len(risk.STATUSES)
    assert all(o["ok"] for o in done.json["outcomes"])
    assert site.admin.writes == ["create_statuses", "create_workflow", "create_scheme", "switch_scheme"]

    again = post(forge, {"project": "OPS", "dryRun": False})
    assert again.status_code == 200 and again.json["alreadySetUp"] is True and "outcomes" not in again.json
    assert len(site.admin.writes) == 4


def test_a_plan_with_problems_is_a_409_and_changes_nothing(forge: FlaskClient, site: Site) -> None:
    site.admin.statuses.append(StatusChoice("700", "Risk approved", StatusCategory.TO_DO))
    response = post(forge, {"project": "OPS", "dryRun": False})
    assert response.status_code == 409
    assert "Risk approved" in response.json["problems"][0] and response.json["error"]
    assert site.admin.writes == []


def test_validation_errors_come_back_per_item(forge: FlaskClient, site: Site) -> None:
    site.admin.validation_errors = ["transition Approve risk: needs a screen"]
    response = post(forge, {"project": "OPS", "dryRun": False})
    assert response.status_code == 502
    assert response.json["outcomes"][-1]["details"] == ["transition Approve risk: needs a screen"]


@pytest.mark.parametrize("body, field", [
    ({"project": "ops!"}, "project"),
    ({"project": 7}, "project"),
    ({"project": "OPS", "dryRun": "yes"}, "dryRun"),
    ({"project": "OPS", "force": True}, "force"),
])
def test_bad_input_is_a_400_by_field(forge: FlaskClient, site: Site, body: dict[str, Any], field: str) -> None:
    response = post(forge, body)
    assert response.status_code == 400 and field in response.json["fields"]
    assert site.admin.writes == []


def test_not_an_object_unknown_project_no_project_and_jira_down(forge: FlaskClient, site: Site) -> None:
    assert post(forge, ["OPS"]).status_code == 400
    assert post(forge, {"project": "NOPE", "dryRun": True}).status_code == 404
    assert post(forge, {"dryRun": True}).status_code == 400  # the installed tenant has no policy yet
    site.down = True
    assert post(forge, {"project": "OPS", "dryRun": True}).status_code == 503


def test_only_a_jira_administrator(forge: FlaskClient, site: Site) -> None:
    assert post(forge, {"project": "OPS", "dryRun": True}, principal="someone-else").status_code == 403


def test_a_connect_tenant_gets_the_manual_steps(app: Flask, client: FlaskClient, tenant: Tenant) -> None:
    app.extensions["hubsync"].runtime.tenants = Site(FakeAdmin())
    response = client.post(PATH, json={"project": "OPS", "dryRun": True},
                           headers=jwt_header(context_token(sub=USER_ACCOUNT_ID)))
    assert response.status_code == 409
    assert "Connect" in response.json["error"] and response.json["manualSteps"] == manual_steps()


def get_task(forge: FlaskClient, task_id: str, principal: str = "admin-1") -> Any:
    return forge.get(f"{PATH}/tasks/{task_id}",
                     headers=forge_headers(fit(FORGE_KEY, claims(principal=principal)), app_token()))


def test_a_switch_jira_has_not_finished_is_a_202_the_page_then_follows(
    forge: FlaskClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow_api, "REQUEST_BUDGET_S", 0)  # the budget is spent once Jira's switch starts
    site.admin.switch_reads = 2
    started = post(forge, {"project": "OPS", "dryRun": False})
    assert started.status_code == 202, started.json
    assert started.json["pending"] is True and started.json["ok"] is True
    task = started.json["task"]
    assert task == {"id": "10100", "status": "ENQUEUED", "progress": 0, "running": True, "ok": False,
                    "message": "Jira is moving the project's issues onto the risk workflow: 0% done"}
    assert started.json["message"] == task["message"]
    assert [o["kind"] for o in started.json["outcomes"]][-1] == "create-scheme"

    again = post(forge, {"project": "OPS", "dryRun": False})  # a second press while Jira switches
    assert again.status_code == 202 and again.json["task"] is None
    assert "a switch started earlier is still running" in again.json["message"]
    assert site.admin.writes.count("switch_scheme") == 1

    running = get_task(forge, task["id"])
    assert running.status_code == 200 and running.json["running"] is True and running.json["progress"] == 33
    assert running.json["message"] == "Jira is moving the project's issues onto the risk workflow: 33% done"
    assert get_task(forge, task["id"]).json["progress"] == 66
    done = get_task(forge, task["id"])
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert done.json["running"] is False and done.json["ok"] is True and done.json["status"] == "COMPLETE"
    assert post(forge, {"project": "OPS", "dryRun": True}).json["alreadySetUp"] is True


def test_a_task_that_failed_reads_as_its_failure(forge: FlaskClient, site: Site,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflow_api, "REQUEST_BUDGET_S", 0)
    site.admin.switch_reads, site.admin.switch_failure = 1, "Issue OPS-3 could not be migrated"
    task_id = post(forge, {"project": "OPS", "dryRun": False}).json["task"]["id"]
    assert get_task(forge, task_id).json["running"] is True
    failed = get_task(forge, task_id).json
    assert (failed["running"], failed["ok"], failed["status"]) == (False, False, "FAILED")
    assert failed["message"] == f"Jira's task {task_id} switching the project ended FAILED: Issue OPS-3 could not " \
                                "be migrated"


@pytest.mark.parametrize("task_id", ["abc", "12a", "-1", "1" * 20, "\uff11\uff12"])  # the last: fullwidth digits
def test_a_task_id_not_all_digits_is_a_400(forge: FlaskClient, site: Site, task_id: str) -> None:
    response = get_task(forge, task_id)
    assert response.status_code == 400 and "digits" in response.json["error"]


def test_a_task_jira_does_not_have_is_a_404_and_only_an_administrator_asks(forge: FlaskClient, site: Site) -> None:
    response = get_task(forge, "999")
    assert response.status_code == 404 and "no task 999" in response.json["error"]
    assert get_task(forge, "999", principal="someone-else").status_code == 403
    site.down = True
    assert get_task(forge, "999").status_code == 503
