"""`POST /api/v1/settings/risk-workflow` through Forge's invokeRemote (a Forge site, its administration a fake
port) and from a Connect iframe (refused, with the manual steps): the plan, the setup, a second run, bad input."""

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
