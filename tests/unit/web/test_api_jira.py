"""`/api/v1/jira`: what the tenant's Jira has, for the configure page's pickers. Through Connect against the Cloud
simulator (hubsync's own credentials read it; the caller must be a Jira administrator), and through Forge's
invokeRemote; bad input is a 400, an unknown project a 404, a Jira that cannot be asked a 503, all JSON."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.ports import JiraUnreachable, PriorityChoice, ProjectChoice
from hubsync.domain.risk_workflow import STATUSES
from hubsync.domain.tenant import Tenant
from hubsync_sandbox.httpserver import free_port
from hubsync_sandbox.jira import seed
from tests.fixtures.jira import JiraSandbox
from tests.unit.web.forge_requests import FORGE_KEY, app_token, claims, fit, forge_headers
from tests.unit.web.test_api_admin import ADMINS_ONLY, as_user, install

ROUTES = ["/api/v1/jira/projects", "/api/v1/jira/projects/SEC/issue-types", "/api/v1/jira/projects/SEC/statuses",
          "/api/v1/jira/priorities", "/api/v1/jira/users?query=ali"]


@pytest.fixture
def site(jira_cloud: JiraSandbox, store: Store, app: Flask) -> JiraSandbox:
    install(jira_cloud, store)
    return jira_cloud


def admin(site: JiraSandbox) -> dict[str, str]:
    return as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL)


def test_every_jira_route_is_listed_here(app: Flask) -> None:
    """Guard: a new /api/v1/jira route is added to ROUTES, so the checks below cover it."""
    served = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/jira")}
    assert served == {"/api/v1/jira/projects", "/api/v1/jira/projects/<key>/issue-types",
                      "/api/v1/jira/projects/<key>/statuses", "/api/v1/jira/priorities", "/api/v1/jira/users"}


def test_projects_are_listed_and_searched(client: FlaskClient, site: JiraSandbox) -> None:
    every = client.get("/api/v1/jira/projects", headers=admin(site))
    some = client.get("/api/v1/jira/projects?query=sec", headers=admin(site))

    assert every.status_code == 200 and every.headers["Cache-Control"] == "no-store"
    assert [(p["key"], p["name"]) for p in every.json["projects"]] == [("OPS", "Operations"),
                                                                       ("SEC", "Security Findings")]
    assert some.json == {"projects": [{"id": site.world.project("SEC").id, "key": "SEC",
                                       "name": "Security Findings"}]}


def test_a_projects_issue_types_and_statuses(client: FlaskClient, site: JiraSandbox) -> None:
    types = client.get("/api/v1/jira/projects/SEC/issue-types", headers=admin(site)).json["issueTypes"]
    task = types[0]["id"]
    every = client.get("/api/v1/jira/projects/SEC/statuses", headers=admin(site))
    of_task = client.get(f"/api/v1/jira/projects/SEC/statuses?issueType={task}", headers=admin(site))
    ops = client.get("/api/v1/jira/projects/OPS/statuses", headers=admin(site)).json["statuses"]

    assert types == [{"id": t.id, "name": t.name} for t in site.world.project("SEC").issue_types]
    assert [s["name"] for s in every.json["statuses"]] == [status.name for status in STATUSES]
    assert of_task.json == every.json
    assert [s["category"] for s in ops] == ["new", "indeterminate", "done"]


def test_priorities_and_people(client: FlaskClient, site: JiraSandbox) -> None:
    priorities = client.get("/api/v1/jira/priorities", headers=admin(site)).json["priorities"]
    found = client.get("/api/v1/jira/users?query=ali", headers=admin(site)).json["users"]
    assignable = client.get("/api/v1/jira/users?query=vic&project=SEC", headers=admin(site)).json["users"]

    assert [p["name"] for p in priorities] == [p.name for p in seed.PRIORITIES]
    alice = site.world.user_by_email("alice@example.com")
    assert alice is not None
    assert found == [{"id": alice.account_id, "displayName": "Alice Developer", "email": "alice@example.com"}]
    assert assignable == []  # the viewer may not be assigned issues


def test_an_unknown_project_is_a_404(client: FlaskClient, site: JiraSandbox) -> None:
    for path in ("/api/v1/jira/projects/NOPE/issue-types", "/api/v1/jira/projects/NOPE/statuses",
                 "/api/v1/jira/users?query=ali&project=NOPE"):
        response = client.get(path, headers=admin(site))
        assert response.status_code == 404, path
        assert response.json == {"error": "Jira has no such project, or does not show it to hubsync"}


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/jira/projects/sec/statuses", "key"),
    ("/api/v1/jira/projects/SEC%0A/issue-types", "key"),
    ("/api/v1/jira/projects/S-1/statuses", "key"),
    ("/api/v1/jira/projects/SEC/statuses?issueType=Task", "issueType"),
    ("/api/v1/jira/projects/SEC/statuses?issueType=", "issueType"),
    ("/api/v1/jira/users", "query"),
    ("/api/v1/jira/users?query=%20%20", "query"),
    ("/api/v1/jira/users?query=ali&project=..%2Fpriority", "project"),
    (f"/api/v1/jira/users?query={'a' * 101}", "query"),
    (f"/api/v1/jira/projects?query={'a' * 101}", "query"),
])
def test_bad_input_is_a_400_naming_the_field(client: FlaskClient, site: JiraSandbox, path: str, field: str) -> None:
    site.control("DELETE", "counters")
    admin_headers = admin(site)
    before = site.control("GET", "counters").json()

    response = client.get(path, headers=admin_headers)

    assert response.status_code == 400, response.json
    assert list(response.json["fields"]) == [field]
    assert response.json["error"].startswith(f"{field} is not valid")
    asked = {k: v for k, v in site.control("GET", "counters").json().items() if "permissions" not in k}
    assert asked == {k: v for k, v in before.items() if "permissions" not in k}  # Jira was not asked


def test_a_developer_is_refused_every_jira_route(client: FlaskClient, site: JiraSandbox) -> None:
    for path in ROUTES:
        response = client.get(path, headers=as_user(site, "alice@example.com"))
        assert (response.status_code, response.json) == (403, ADMINS_ONLY), path


def test_jira_failing_is_a_503(client: FlaskClient, site: JiraSandbox) -> None:
    headers = admin(site)
    assert client.get("/api/v1/jira/priorities", headers=headers).status_code == 200  # the admin answer is kept
    for path in ROUTES:
        site.control("POST", "faults", json={"status": 500, "count": 1})
        response = client.get(path, headers=headers)
        assert response.status_code == 503, path
        assert response.json == {"error": "Jira could not be asked what it has; try again in a minute"}


def test_a_jira_that_cannot_be_reached_is_a_503(client: FlaskClient, store: Store, jira_cloud: JiraSandbox) -> None:
    install(jira_cloud, store, jira_url=f"http://127.0.0.1:{free_port()}")

    response = client.get("/api/v1/jira/projects", headers=as_user(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL))

    assert response.status_code == 503


# -- through Forge's invokeRemote --------------------------------------------------------------------------------


class ForgeSite:
    """The runtime's tenant clients for a Forge site these tests cannot reach: one administrator, two projects,
    and a Jira that fails when told to."""

    def __init__(self) -> None:
        self.down = False

    def jira(self, tenant: Tenant) -> Any:
        class Jira:
            def is_site_admin(self, account_id: str) -> bool:
                return account_id == "admin-1"

        return Jira()

    def projects(self, tenant: Tenant) -> Any:
        site = self

        class Projects:
            def projects(self, query: str = "") -> list[ProjectChoice]:
                if site.down:
                    raise JiraUnreachable("Jira did not answer")
                found = [ProjectChoice("10000", "SEC", "Security Findings"), ProjectChoice("10001", "OPS", "Ops")]
                return [p for p in found if query.casefold() in p.key.casefold()]

            def priorities(self) -> list[PriorityChoice]:
                return [PriorityChoice("1", "Highest")]

        return Projects()


def test_the_pickers_through_forge(forge_app: Flask, forge: FlaskClient, installed: Tenant) -> None:
    site = ForgeSite()
    forge_app.extensions["hubsync"].runtime.tenants = site

    def get(path: str, principal: str = "admin-1") -> Any:
        return forge.get(path, headers=forge_headers(fit(FORGE_KEY, claims(principal=principal)), app_token()))

    assert get("/api/v1/jira/projects?query=ops").json == {"projects": [{"id": "10001", "key": "OPS", "name": "Ops"}]}
    assert get("/api/v1/jira/priorities").json == {"priorities": [{"id": "1", "name": "Highest"}]}
    assert get("/api/v1/jira/priorities", principal="someone-else").status_code == 403
    site.down = True
    assert get("/api/v1/jira/projects").status_code == 503
