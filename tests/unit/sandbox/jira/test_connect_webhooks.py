"""Webhooks and workflow post functions that the Jira simulator sends to an installed Connect app."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync_sandbox.jira.model import Issue, User
from tests.unit.sandbox.jira.connect_app import APP_KEY, ConnectApp, JiraSite, Servers

FINDING_PROPERTY = "hubsync.finding"
MODULES = {
    "webhooks": [
        {
            "event": "jira:issue_created",
            "url": "/hooks/created?issue=${issue.key}",
            "filter": "project = SEC",
            "propertyKeys": [FINDING_PROPERTY],
        },
        {"event": "jira:issue_updated", "url": "/hooks/updated/${project.key}/${issue.id}", "filter": "project = SEC"},
        {"event": "jira:issue_deleted", "url": "/hooks/deleted", "filter": "project = OPS", "excludeBody": True},
    ],
    "jiraWorkflowPostFunctions": [
        {"key": "sync-on-transition", "name": {"value": "Sync finding"}, "triggered": {"url": "/connect/post-function"}}
    ],
}


@pytest.fixture
def app(servers: Servers, site: JiraSite) -> ConnectApp:
    running = ConnectApp(servers, modules=MODULES)
    assert site.install(running).status_code == 200
    return running


def create(site: JiraSite, actor: User, project: str, properties: dict[str, Any] | None = None) -> Issue:
    fields = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": f"An issue in {project}"}
    listed = [{"key": key, "value": value} for key, value in (properties or {}).items()]
    return site.world.create_issue(fields, actor, properties=listed)


def test_webhook_goes_only_to_issues_matching_its_filter_signed_and_pruned(
    site: JiraSite, app: ConnectApp, alice: User
) -> None:
    issue = create(site, alice, "SEC", {FINDING_PROPERTY: {"id": "f-1"}, "unrelated": {"x": 1}})
    create(site, alice, "OPS", {FINDING_PROPERTY: {"id": "f-2"}})

    [delivery] = site.deliveries()
    assert delivery["event"] == "jira:issue_created"
    assert delivery["url"] == f"{app.base_url}/hooks/created?issue={issue.key}"
    assert (delivery["status"], delivery["attempts"]) == (204, 1)
    [received] = app.calls("/hooks/created")
    assert received.rejected is None  # HS256 with the shared secret, iss = clientKey, qsh of POST + path + query
    assert received.claims["iss"] == app.tenant["clientKey"]
    assert received.body["webhookEvent"] == "jira:issue_created"
    assert received.body["issue"]["key"] == issue.key
    assert received.body["issue"]["properties"] == [{"key": FINDING_PROPERTY, "value": {"id": "f-1"}}]
    assert received.headers["X-Atlassian-Webhook-Flow"] == "Primary"
    assert received.headers["X-Atlassian-Webhook-Identifier"] == delivery["id"]
    assert "X-Atlassian-Webhook-Retry" not in received.headers
    assert received.headers["Atlassian-Connect-Version"]


def test_webhook_without_property_keys_carries_no_properties(site: JiraSite, app: ConnectApp, alice: User) -> None:
    issue = create(site, alice, "SEC", {FINDING_PROPERTY: {"id": "f-1"}})
    site.world.edit_issue(issue.key, {"summary": "Renamed"}, alice)

    site.deliveries()
    [received] = app.calls(f"/hooks/updated/SEC/{issue.id}")
    assert received.rejected is None
    assert "properties" not in received.body["issue"]
    assert received.body["changelog"]["items"][0]["field"] == "summary"


def test_failed_deliveries_are_retried_with_the_same_identifier(site: JiraSite, app: ConnectApp, alice: User) -> None:
    issue = create(site, alice, "SEC")
    path = f"/hooks/updated/SEC/{issue.id}"
    app.answer(path, 500, 503)

    site.world.edit_issue(issue.key, {"summary": "Renamed"}, alice)

    updated = [d for d in site.deliveries() if d["event"] == "jira:issue_updated"]
    assert [(d["status"], d["attempts"]) for d in updated] == [(204, 3)]
    calls = app.calls(path)
    assert {call.headers["X-Atlassian-Webhook-Identifier"] for call in calls} == {updated[0]["id"]}
    assert [call.headers.get("X-Atlassian-Webhook-Retry") for call in calls] == [None, "1", "2"]
    assert all(call.rejected is None for call in calls)  # each attempt freshly signed


def test_a_delivery_that_keeps_failing_is_given_up_and_recorded(site: JiraSite, app: ConnectApp, alice: User) -> None:
    issue = create(site, alice, "SEC")
    site.deliveries()
    app.answer(f"/hooks/updated/SEC/{issue.id}", 500, 500, 500, 500, 500)

    site.world.edit_issue(issue.key, {"summary": "Renamed"}, alice)

    [given_up] = [d for d in site.deliveries() if d["event"] == "jira:issue_updated"]
    assert given_up["status"] == 500
    assert given_up["attempts"] == 4


def test_deliveries_keep_the_order_of_the_events(site: JiraSite, app: ConnectApp, alice: User) -> None:
    issue = create(site, alice, "SEC")
    app.answer(f"/hooks/updated/SEC/{issue.id}", 500)  # the first update needs a retry; the rest wait for it

    for n in range(3):
        site.world.edit_issue(issue.key, {"summary": f"Version {n}"}, alice)

    site.deliveries()
    summaries = [
        call.body["issue"]["fields"]["summary"]
        for call in app.calls(f"/hooks/updated/SEC/{issue.id}")
        if call.headers.get("X-Atlassian-Webhook-Retry") is None
    ]
    assert summaries == ["Version 0", "Version 1", "Version 2"]


def test_deleted_issue_webhook_honours_exclude_body(site: JiraSite, app: ConnectApp, alice: User) -> None:
    issue = create(site, alice, "OPS")

    site.world.delete_issue(issue.key, alice)

    assert [d["event"] for d in site.deliveries()] == ["jira:issue_deleted"]
    [deleted] = app.calls("/hooks/deleted")
    assert deleted.rejected is None
    assert deleted.body is None


def test_a_disabled_app_gets_no_webhooks(site: JiraSite, app: ConnectApp, alice: User) -> None:
    site.control("POST", "disable", json={"appKey": APP_KEY})

    create(site, alice, "SEC")

    assert site.deliveries() == []
    assert app.calls("/hooks/") == []


def test_deliveries_can_be_forgotten(site: JiraSite, app: ConnectApp, alice: User) -> None:
    create(site, alice, "SEC")
    assert len(site.deliveries()) == 1

    assert site.control("DELETE", "deliveries").status_code == 204

    assert site.deliveries() == []


def test_post_function_is_called_after_each_transition_of_its_project(
    site: JiraSite, app: ConnectApp, alice: User
) -> None:
    placed = site.control(
        "POST",
        "post-functions",
        json={"appKey": APP_KEY, "moduleKey": "sync-on-transition", "projectKey": "SEC", "configuration": '{"a": 1}'},
    )
    assert placed.status_code == 201
    sec = create(site, alice, "SEC")
    ops = create(site, alice, "OPS")

    site.world.transition_issue(sec.key, "81", alice)  # Open -> Allocated for fix
    site.world.transition_issue(ops.key, "21", alice)  # not in SEC: no post function

    deliveries = [d for d in site.deliveries() if d["event"].startswith("post-function")]
    assert [(d["url"], d["status"]) for d in deliveries] == [(f"{app.base_url}/connect/post-function", 204)]
    [call] = app.calls("/connect/post-function")
    assert call.rejected is None
    assert call.body["configuration"] == {"value": '{"a": 1}'}
    assert call.body["issue"]["key"] == sec.key
    assert call.body["transition"] == {
        "transitionId": 81,
        "transitionName": "Allocate for fix",
        "from_status": "Open",
        "to_status": "Allocated for fix",
        "workflowName": sec.project.workflow.name,
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"appKey": APP_KEY, "moduleKey": "no-such-module", "projectKey": "SEC", "configuration": "{}"}, 400),
        ({"appKey": APP_KEY, "moduleKey": "sync-on-transition", "projectKey": "NOPE", "configuration": "{}"}, 400),
        ({"appKey": "com.example.absent", "moduleKey": "m", "projectKey": "SEC", "configuration": "{}"}, 404),
        ({"appKey": APP_KEY, "moduleKey": "sync-on-transition", "projectKey": "SEC"}, 400),
    ],
)
def test_a_post_function_needs_an_installed_module_and_a_project(
    site: JiraSite, app: ConnectApp, body: dict, status: int
) -> None:
    assert site.control("POST", "post-functions", json=body).status_code == status


def test_the_pauses_between_retries_are_a_knob(site: JiraSite, app: ConnectApp, alice: User) -> None:
    assert site.control("GET", "retry-delays").json() == {"delays_ms": [50, 200, 500]}
    answer = site.control("POST", "retry-delays", json={"delays_ms": [0, 0, 0, 0, 0, 10]})
    assert answer.json() == {"delays_ms": [0, 0, 0, 0, 0, 10]}
    issue = create(site, alice, "SEC")
    site.deliveries()
    app.answer(f"/hooks/updated/SEC/{issue.id}", 503, 503, 503, 503, 503, 503)  # past the default's 4 attempts

    site.world.edit_issue(issue.key, {"summary": "Renamed"}, alice)

    [updated] = [d for d in site.deliveries() if d["event"] == "jira:issue_updated"]
    assert (updated["status"], updated["attempts"]) == (204, 7)
    for body in ({"delays_ms": "soon"}, {"delays_ms": [-1]}, {"delays_ms": [1] * 21}, {}):
        assert site.control("POST", "retry-delays", json=body).status_code == 400, body
