"""The project check through the iframe API: "Check project" (`POST /api/v1/settings/check-project`) on the form's
unsaved policy or the saved one, and a settings save that changes the project, which the check's failed items
block. Against the Cloud simulator, hubsync installed as a Connect app (which may not read workflows: those items
are unknown, and do not block)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.tenant import Tenant
from hubsync_sandbox.jira import seed
from tests.fixtures.jira import JiraSandbox
from tests.unit.web.test_api_admin import as_user, database, install

CHECK = "/api/v1/settings/check-project"
AWS = {"roleArn": "arn:aws:iam::111122223333:role/hubsync-securityhub", "aggregationRegion": "eu-west-1"}
SEC = {"project_key": "SEC"}
OPS = {"project_key": "OPS", "status_dispositions": {"Done": "FIXED"}, "risk_request_status": "In Progress"}
COST_CENTRE = {"project": "OPS", "id": "customfield_10050", "name": "Cost centre"}


@pytest.fixture
def site(jira_cloud: JiraSandbox, app: Flask) -> JiraSandbox:
    return jira_cloud


@pytest.fixture
def tenant(site: JiraSandbox, store: Store) -> Tenant:
    return install(site, store)


def admin(site: JiraSandbox) -> dict[str, str]:
    return as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL)


def items(body: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["status"] for item in body["items"]}


def test_the_forms_policy_is_checked_item_by_item(client: FlaskClient, site: JiraSandbox, tenant: Tenant) -> None:
    response = client.post(CHECK, json={"policy": OPS}, headers=admin(site))

    assert response.status_code == 200, response.json
    assert response.json["ok"] is True and response.json["project"] == "OPS" and response.json["issueType"] == "Task"
    assert items(response.json) == {
        "Project and issue type": "ok", "Create screen": "ok", "Mapped statuses": "ok", "Priorities": "ok",
        # a Connect app may not read workflows: a person checks these
        "Path to a fixed status": "unknown", "Path to the risk-request status": "unknown",
        "Reopen from a fixed status": "unknown"}


def test_a_required_field_hubsync_does_not_fill_is_named(client: FlaskClient, site: JiraSandbox,
                                                         tenant: Tenant) -> None:
    assert site.control("POST", "required-fields", json=COST_CENTRE).status_code == 201

    body = client.post(CHECK, json={"policy": OPS}, headers=admin(site)).json

    assert body["ok"] is False
    [failed] = [item for item in body["items"] if item["status"] == "failed"]
    assert failed["name"] == "Create screen"
    assert "Cost centre (customfield_10050) is required on OPS's create screen for Task" in failed["message"]


def test_the_saved_policy_is_checked_without_a_body(client: FlaskClient, site: JiraSandbox, store: Store,
                                                    tenant: Tenant) -> None:
    refused = client.post(CHECK, headers=admin(site))
    assert refused.status_code == 400
    assert "no policy saved yet" in refused.json["fields"]["policy.project_key"][0]

    assert client.put("/api/v1/settings", json={"aws": AWS, "policy": SEC}, headers=admin(site)).status_code == 200
    for body in (None, {}, {"policy": None}):
        response = client.post(CHECK, json=body, headers=admin(site))
        assert (response.status_code, response.json["project"]) == (200, "SEC"), body


@pytest.mark.parametrize(("body", "field"), [
    ({"policy": {"project_key": "not a key"}}, "policy.project_key"),
    ({"policy": {"project_key": "SEC", "priorities": {"LOW": "Low"}}}, "policy.priorities"),
    ({"policy": SEC, "aws": AWS}, ""),
    ([SEC], ""),
])
def test_an_invalid_policy_is_a_400_by_field(client: FlaskClient, site: JiraSandbox, tenant: Tenant, body: Any,
                                             field: str) -> None:
    response = client.post(CHECK, json=body, headers=admin(site))
    assert response.status_code == 400
    assert field in response.json["fields"], response.json


def test_jira_that_cannot_be_asked_is_a_503(client: FlaskClient, site: JiraSandbox, tenant: Tenant) -> None:
    assert client.get("/api/v1/settings", headers=admin(site)).status_code == 200  # the admin answer, remembered
    site.control("POST", "faults", json={"status": 503, "path_prefix": "/rest/api/3/priority"})

    response = client.post(CHECK, json={"policy": SEC}, headers=admin(site))

    assert response.status_code == 503
    assert response.json["error"].startswith("the project is not checked: Jira could not be asked about project SEC")


def test_a_save_to_a_project_that_fails_the_check_is_refused_with_its_items(
    client: FlaskClient, site: JiraSandbox, store: Store, tenant: Tenant
) -> None:
    assert client.put("/api/v1/settings", json={"aws": AWS, "policy": SEC}, headers=admin(site)).status_code == 200
    site.control("POST", "required-fields", json=COST_CENTRE)
    before = database(store)

    response = client.put("/api/v1/settings", json={"aws": AWS, "policy": OPS}, headers=admin(site))

    assert response.status_code == 400
    assert "project check failed (create screen)" in response.json["error"]
    assert items(response.json["check"])["Create screen"] == "failed"
    assert database(store) == before


def test_a_save_that_keeps_the_project_is_not_checked_again(
    client: FlaskClient, site: JiraSandbox, store: Store, tenant: Tenant
) -> None:
    assert client.put("/api/v1/settings", json={"aws": AWS, "policy": OPS}, headers=admin(site)).status_code == 200
    site.control("POST", "required-fields", json=COST_CENTRE)  # OPS breaks after it was saved
    site.control("DELETE", "counters")

    kept = client.put("/api/v1/settings", json={"aws": AWS, "policy": {**OPS, "labels": ["aws"]}},
                      headers=admin(site))

    assert kept.status_code == 200, kept.json
    assert not [name for name in site.control("GET", "counters").json() if "createmeta" in name]


def test_a_first_save_is_checked_and_unknown_items_do_not_block(
    client: FlaskClient, site: JiraSandbox, tenant: Tenant
) -> None:
    missing = client.put("/api/v1/settings", json={"aws": AWS, "policy": {"project_key": "NOPE"}},
                         headers=admin(site))
    assert missing.status_code == 400 and items(missing.json["check"])["Project and issue type"] == "failed"

    saved = client.put("/api/v1/settings", json={"aws": AWS, "policy": SEC}, headers=admin(site))
    assert saved.status_code == 200, saved.json


def test_a_save_that_changes_the_project_while_jira_cannot_be_asked_is_a_503(
    client: FlaskClient, site: JiraSandbox, store: Store, tenant: Tenant
) -> None:
    assert client.get("/api/v1/settings", headers=admin(site)).status_code == 200
    site.control("POST", "faults", json={"status": 503, "path_prefix": "/rest/api/3/issue/createmeta"})
    before = database(store)

    response = client.put("/api/v1/settings", json={"aws": AWS, "policy": SEC}, headers=admin(site))

    assert response.status_code == 503
    assert response.json["error"].startswith("the settings are not saved: Jira could not be asked about project SEC")
    assert database(store) == before
