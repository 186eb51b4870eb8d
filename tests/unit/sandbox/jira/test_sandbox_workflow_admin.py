"""Jira Cloud's workflow administration on the simulated site: statuses, workflow validation and creation, workflow
schemes and switching a project that already has issues onto one; who may; and Data Center, which has none of it.
The risk workflow is built from `hubsync.domain.risk_workflow`, as an installer builds it. Every exchange is checked
against Atlassian's OpenAPI document by the `jira_sandbox` fixtures (with HUBSYNC_SPECS_DIR set)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hubsync.adapters.jira import ConnectJwt
from hubsync.domain import risk_workflow as risk
from hubsync.domain.ticket import StatusCategory
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.rest_workflows import ADMIN_ONLY, ASSOCIATIONS_ADMIN_ONLY, CONNECT_INACCESSIBLE
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox

ADMIN_TOKEN = "sandbox-api-token-sofia"
CATEGORY = {StatusCategory.TO_DO: "TODO", StatusCategory.IN_PROGRESS: "IN_PROGRESS", StatusCategory.DONE: "DONE"}
OPS_ID = "10001"
SEC_ID = "10000"
TASK, BUG = "10001", "10002"
TO_DO, DONE = "10000", "10001"  # OPS's simplified workflow


def admin(sandbox: JiraSandbox) -> requests.Session:
    """A session as the site's Jira administrator, with an API token of her own."""
    sofia = sandbox.world.user_by_email(seed.SANDBOX_JIRA_ADMIN_EMAIL)
    assert sofia is not None and sofia.site_admin
    sofia.api_token = ADMIN_TOKEN
    session = sandbox.anonymous()
    session.auth = (seed.SANDBOX_JIRA_ADMIN_EMAIL, ADMIN_TOKEN)
    return session


def existing_status_ids(sandbox: JiraSandbox, session: requests.Session) -> dict[str, str]:
    """The GLOBAL statuses of the site, by name, as a client reads them before creating a workflow."""
    page = session.get(f"{sandbox.rest}/statuses/search", params={"maxResults": 200})
    assert page.status_code == 200
    return {status["name"]: status["id"] for status in page.json()["values"]}


def risk_workflow_request(existing: dict[str, str], name: str = risk.NAME) -> dict[str, Any]:
    """The risk workflow as a WorkflowCreateRequest: statuses the site has are reused by id, the others created."""
    statuses = []
    for status in risk.STATUSES:
        entry = {"statusReference": status.key, "name": status.name, "statusCategory": CATEGORY[status.category]}
        if status.name in existing:
            entry["id"] = existing[status.name]
        statuses.append(entry)
    transitions: list[dict[str, Any]] = [{"id": "1", "name": "Create", "type": "INITIAL",
                                          "toStatusReference": risk.INITIAL, "links": []}]
    transitions += [{"id": str(11 + 10 * index), "name": move.name, "type": "DIRECTED",
                     "toStatusReference": move.target, "links": [{"fromStatusReference": move.source}]}
                    for index, move in enumerate(risk.TRANSITIONS)]
    return {"scope": {"type": "GLOBAL"}, "statuses": statuses, "workflows": [{
        "name": name, "description": "hubsync's risk workflow",
        "statuses": [{"statusReference": status.key, "properties": {}} for status in risk.STATUSES],
        "transitions": transitions,
    }]}


def create_ops_issue(sandbox: JiraSandbox, summary: str) -> str:
    created = sandbox.session().post(f"{sandbox.rest}/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": summary}})
    assert created.status_code == 201
    return str(created.json()["key"])


def status_of(sandbox: JiraSandbox, key: str) -> str:
    return str(sandbox.session().get(f"{sandbox.rest}/issue/{key}").json()["fields"]["status"]["name"])


def transition(sandbox: JiraSandbox, key: str, name: str) -> None:
    offered = sandbox.session().get(f"{sandbox.rest}/issue/{key}/transitions").json()["transitions"]
    chosen = next(t for t in offered if t["name"] == name)
    moved = sandbox.session().post(f"{sandbox.rest}/issue/{key}/transitions", json={"transition": {"id": chosen["id"]}})
    assert moved.status_code == 204


def test_the_risk_workflow_is_validated_created_and_put_on_a_project_that_has_issues(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    waiting, finished = create_ops_issue(jira_cloud, "Waiting"), create_ops_issue(jira_cloud, "Finished")
    transition(jira_cloud, finished, "Done")
    request = risk_workflow_request(existing_status_ids(jira_cloud, session))

    validation = session.post(f"{jira_cloud.rest}/workflows/create/validation", json={"payload": request})
    created = session.post(f"{jira_cloud.rest}/workflows/create", json=request)

    assert validation.status_code == 200 and validation.json() == {"errors": []}
    assert created.status_code == 200
    workflow = created.json()["workflows"][0]
    ids = {status["name"]: status["id"] for status in created.json()["statuses"]}
    assert workflow["name"] == risk.NAME and len(workflow["statuses"]) == len(risk.STATUSES)
    initial = next(t for t in workflow["transitions"] if t["type"] == "INITIAL")
    assert initial["toStatusReference"] == ids[risk.status(risk.INITIAL).name]
    found = session.get(f"{jira_cloud.rest}/workflows/search",
                        params={"queryString": "HUBSYNC risk", "expand": "values.transitions"}).json()
    assert [w["name"] for w in found["values"]] == [risk.NAME]
    assert len(found["values"][0]["transitions"]) == len(risk.TRANSITIONS) + 1

    scheme = session.post(f"{jira_cloud.rest}/workflowscheme", json={"name": "OPS: risk", "defaultWorkflow": risk.NAME})
    assert scheme.status_code == 201
    scheme_id = str(scheme.json()["id"])
    before = session.get(f"{jira_cloud.rest}/workflowscheme/project", params={"projectId": OPS_ID}).json()
    assert before["values"][0]["workflowScheme"]["defaultWorkflow"] == "Software Simplified Workflow for Project OPS"

    unmapped = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch",
                            json={"projectId": OPS_ID, "targetSchemeId": scheme_id})
    assert unmapped.status_code == 400
    assert any(waiting in message and "'To Do'" in message for message in unmapped.json()["errorMessages"])
    assert any(finished in message and "'Done'" in message for message in unmapped.json()["errorMessages"])
    assert status_of(jira_cloud, waiting) == "To Do"  # nothing moved

    opened, resolved = ids[risk.status(risk.INITIAL).name], ids[risk.status("resolved").name]
    mappings = [{"newStatusId": opened, "oldStatusId": TO_DO}, {"newStatusId": resolved, "oldStatusId": DONE}]
    switched = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch", allow_redirects=False, json={
        "projectId": OPS_ID, "targetSchemeId": scheme_id,
        "mappingsByIssueTypeOverride": [{"issueTypeId": t, "statusMappings": mappings} for t in (TASK, BUG)]})
    assert switched.status_code == 303
    task = session.get(switched.headers["Location"])
    assert task.status_code == 200 and task.json()["status"] == "COMPLETE"

    assert (status_of(jira_cloud, waiting), status_of(jira_cloud, finished)) == ("Open", "Resolved")
    after = session.get(f"{jira_cloud.rest}/workflowscheme/project", params={"projectId": [OPS_ID, SEC_ID]}).json()
    by_project = {ids[0]: value["workflowScheme"]["name"] for value in after["values"] for ids in [value["projectIds"]]}
    assert by_project == {OPS_ID: "OPS: risk", SEC_ID: "SEC: SecDevOps Risk Workflow Scheme"}
    fresh = create_ops_issue(jira_cloud, "After the switch")
    assert status_of(jira_cloud, fresh) == risk.status(risk.INITIAL).name
    transition(jira_cloud, fresh, "Request risk acceptance")
    transition(jira_cloud, fresh, "Approve risk")
    approved = jira_cloud.session().post(f"{jira_cloud.rest}/search/jql", json={
        "jql": f'project = OPS AND status = "{risk.status("approved").name}"', "fields": ["status"]}).json()
    assert [issue["key"] for issue in approved["issues"]] == [fresh]


def test_a_second_run_sees_what_the_first_created(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    request = risk_workflow_request(existing_status_ids(jira_cloud, session))
    assert session.post(f"{jira_cloud.rest}/workflows/create", json=request).status_code == 200
    assert session.post(f"{jira_cloud.rest}/workflowscheme", json={"name": "risk", "defaultWorkflow": risk.NAME}
                        ).status_code == 201

    again = session.post(f"{jira_cloud.rest}/workflows/create", json=request)
    scheme_again = session.post(f"{jira_cloud.rest}/workflowscheme",
                                json={"name": "Risk", "defaultWorkflow": risk.NAME})
    schemes = session.get(f"{jira_cloud.rest}/workflowscheme").json()

    assert again.status_code == 400
    assert again.json()["errorMessages"] == [f"A workflow with the name '{risk.NAME}' already exists."]
    assert scheme_again.status_code == 400 and "already exists" in scheme_again.json()["errors"]["name"]
    assert [scheme["name"] for scheme in schemes["values"]][-1] == "risk" and schemes["total"] == 3
    assert session.get(f"{jira_cloud.rest}/workflows/search", params={"isActive": "false"}).json()["values"][0][
        "name"] == risk.NAME


def test_statuses_are_created_in_a_scope_once_by_name(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    body: dict[str, Any] = {"scope": {"type": "GLOBAL"}, "statuses": [
        {"name": "Awaiting vendor", "statusCategory": "IN_PROGRESS", "description": "Blocked on a vendor"}]}

    created = session.post(f"{jira_cloud.rest}/statuses", json=body)
    twice = session.post(f"{jira_cloud.rest}/statuses", json=body)
    in_project = session.post(f"{jira_cloud.rest}/statuses", json=body | {
        "scope": {"type": "PROJECT", "project": {"id": OPS_ID}}})

    assert created.status_code == 200
    (status,) = created.json()
    assert status == {"id": status["id"], "name": "Awaiting vendor", "description": "Blocked on a vendor",
                      "scope": {"type": "GLOBAL"}, "statusCategory": "IN_PROGRESS"}
    assert twice.status_code == 400
    assert twice.json()["errorMessages"] == ["A status with the name 'Awaiting vendor' already exists in this scope."]
    assert in_project.status_code == 200 and in_project.json()[0]["id"] != status["id"]
    assert status["id"] in {s["id"] for s in jira_cloud.session().get(f"{jira_cloud.rest}/status").json()}
    search = session.get(f"{jira_cloud.rest}/statuses/search", params={"searchString": "awaiting"}).json()
    assert [s["id"] for s in search["values"]] == [status["id"]]
    by_name = session.get(f"{jira_cloud.rest}/statuses/byNames",
                          params={"name": ["Awaiting vendor", "Open"], "projectId": OPS_ID}).json()
    assert [s["scope"] for s in by_name] == [{"type": "PROJECT", "project": {"id": OPS_ID}}]


def test_statuses_search_pages_and_filters_by_category(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)

    first = session.get(f"{jira_cloud.rest}/statuses/search", params={"maxResults": 2}).json()
    done = session.get(f"{jira_cloud.rest}/statuses/search", params={"statusCategory": "DONE"}).json()

    assert len(first["values"]) == 2 and not first["isLast"] and "startAt=2" in first["nextPage"]
    assert first["total"] == len(jira_cloud.world.statuses())
    assert {s["statusCategory"] for s in done["values"]} == {"DONE"}


def test_validation_lists_what_is_wrong_and_create_refuses_it(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    broken: dict[str, Any] = {"scope": {"type": "GLOBAL"}, "statuses": [
        {"statusReference": "a", "name": "Open", "statusCategory": "TODO"},  # the site has an Open already
        {"statusReference": "b", "name": "Triage", "statusCategory": "TODO"},
        {"statusReference": "c", "name": "Gone", "statusCategory": "DONE", "id": "99999"},
    ], "workflows": [{
        "name": "SecDevOps Risk Workflow",  # SEC's
        "statuses": [{"statusReference": ref, "properties": {}} for ref in ("a", "b", "nowhere")],
        "transitions": [
            {"id": "11", "name": "Go", "type": "DIRECTED", "toStatusReference": "elsewhere",
             "links": [{"fromStatusReference": "a"}]},
            {"id": "11", "name": "Back", "type": "DIRECTED", "toStatusReference": "a", "links": []},
        ],
    }]}

    validation = session.post(f"{jira_cloud.rest}/workflows/create/validation", json={"payload": broken})
    created = session.post(f"{jira_cloud.rest}/workflows/create", json=broken)

    assert validation.status_code == 200
    codes = {(error["type"], error["code"]) for error in validation.json()["errors"]}
    assert codes == {
        ("STATUS", "NON_UNIQUE_STATUS_NAME"), ("STATUS", "STATUS_NOT_FOUND"), ("STATUS", "INVALID_STATUS_REFERENCE"),
        ("WORKFLOW", "NON_UNIQUE_WORKFLOW_NAME"), ("WORKFLOW", "MISSING_INITIAL_TRANSITION"),
        ("TRANSITION", "INVALID_TO_STATUS"), ("TRANSITION", "MISSING_FROM_STATUS"),
        ("TRANSITION", "NON_UNIQUE_TRANSITION_ID"),
    }
    non_unique = next(e for e in validation.json()["errors"] if e["code"] == "NON_UNIQUE_STATUS_NAME")
    assert (non_unique["level"], non_unique["elementReference"]) == ("ERROR", {"statusReference": "a"})
    assert created.status_code == 400 and len(created.json()["errorMessages"]) == len(codes)
    assert "Triage" not in {status.name for status in jira_cloud.world.statuses()}  # nothing was created


def test_a_malformed_request_is_a_400(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)

    no_statuses = session.post(f"{jira_cloud.rest}/workflows/create", json={"workflows": [{"name": "x"}]})
    no_payload = session.post(f"{jira_cloud.rest}/workflows/create/validation", json={})
    bad_scope = session.post(f"{jira_cloud.rest}/statuses", json={"scope": {"type": "PROJECT"}, "statuses": []})

    assert [r.status_code for r in (no_statuses, no_payload, bad_scope)] == [400, 400, 400]


def test_a_switch_refuses_a_mapping_to_a_status_the_new_workflow_lacks(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    create_ops_issue(jira_cloud, "Waiting")
    sec_scheme = session.post(f"{jira_cloud.rest}/workflowscheme", json={
        "name": "Risk for OPS", "defaultWorkflow": "SecDevOps Risk Workflow"}).json()

    switched = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch", json={
        "projectId": OPS_ID, "targetSchemeId": str(sec_scheme["id"]), "mappingsByIssueTypeOverride": [
            {"issueTypeId": TASK, "statusMappings": [{"oldStatusId": TO_DO, "newStatusId": TO_DO}]}]})

    assert switched.status_code == 400
    assert switched.json()["errorMessages"] == [
        f"The status with ID '{TO_DO}' is not in the workflow 'SecDevOps Risk Workflow'."]


def test_a_switch_kept_running_by_the_knob_is_made_when_its_task_completes(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    knobs = f"{jira_cloud.url}/_sandbox/switch-tasks"
    assert requests.post(knobs, json={"running_reads": -1}, timeout=5).status_code == 400
    assert requests.post(knobs, json={"running_reads": 2, "fail": "x"}, timeout=5).status_code == 400
    assert requests.post(knobs, json={"running_reads": 2}, timeout=5).json() == {"running_reads": 2, "failure": None}
    scheme = session.post(f"{jira_cloud.rest}/workflowscheme", json={
        "name": "Risk for OPS", "defaultWorkflow": "SecDevOps Risk Workflow"}).json()
    body = {"projectId": OPS_ID, "targetSchemeId": str(scheme["id"])}

    switched = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch", json=body, allow_redirects=False)
    assert switched.status_code == 303 and (switched.json()["status"], switched.json()["progress"]) == ("RUNNING", 0)
    again = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch", json=body, allow_redirects=False)
    assert again.status_code == 409 and again.json()["errorMessages"] == [
        "A workflow scheme switch task is already running."]
    reads = [session.get(switched.headers["Location"]).json() for _ in range(3)]
    assert [(read["status"], read["progress"]) for read in reads] == [("RUNNING", 33), ("RUNNING", 66),
                                                                       ("COMPLETE", 100)]
    assert "finished" not in reads[1] and "finished" in reads[2]
    assert jira_cloud.world.project("OPS").workflow.name == "SecDevOps Risk Workflow"

    assert requests.delete(knobs, timeout=5).status_code == 204
    assert requests.get(knobs, timeout=5).json() == {"running_reads": 0, "failure": None}


def test_a_switch_task_the_knob_fails_changes_nothing(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)
    requests.post(f"{jira_cloud.url}/_sandbox/switch-tasks", json={"running_reads": 0, "failure": "Out of luck"},
                  timeout=5)
    scheme = session.post(f"{jira_cloud.rest}/workflowscheme", json={
        "name": "Risk for OPS", "defaultWorkflow": "SecDevOps Risk Workflow"}).json()
    switched = session.post(f"{jira_cloud.rest}/workflowscheme/project/switch", allow_redirects=False,
                            json={"projectId": OPS_ID, "targetSchemeId": str(scheme["id"])})
    assert switched.status_code == 303
    assert (switched.json()["status"], switched.json()["message"]) == ("FAILED", "Out of luck")
    assert jira_cloud.world.project("OPS").workflow.name != "SecDevOps Risk Workflow"


def test_a_scheme_names_workflows_and_issue_types_the_site_has(jira_cloud: JiraSandbox) -> None:
    session = admin(jira_cloud)

    unknown_workflow = session.post(f"{jira_cloud.rest}/workflowscheme", json={"name": "x", "defaultWorkflow": "nope"})
    default_jira = session.post(f"{jira_cloud.rest}/workflowscheme", json={"name": "y"})
    unknown_type = session.post(f"{jira_cloud.rest}/workflowscheme", json={
        "name": "z", "defaultWorkflow": "SecDevOps Risk Workflow",
        "issueTypeMappings": {"424242": "SecDevOps Risk Workflow"}})
    mapped = session.post(f"{jira_cloud.rest}/workflowscheme", json={
        "name": "w", "defaultWorkflow": "SecDevOps Risk Workflow",
        "issueTypeMappings": {BUG: "Software Simplified Workflow for Project OPS"}})

    assert unknown_workflow.json()["errorMessages"] == ["The workflow 'nope' does not exist."]
    assert default_jira.json()["errorMessages"] == ["The workflow 'jira' does not exist."]  # Jira's default
    assert unknown_type.json()["errorMessages"] == ["The issue type with ID '424242' does not exist."]
    assert mapped.status_code == 201
    got = session.get(f"{jira_cloud.rest}/workflowscheme/{mapped.json()['id']}").json()
    assert got["issueTypeMappings"] == {BUG: "Software Simplified Workflow for Project OPS"}
    assert session.get(f"{jira_cloud.rest}/workflowscheme/999").status_code == 404


# -- who may -------------------------------------------------------------------------------------------------

APP_KEY = "com.example.hubsync"
SHARED_SECRET = "shared-secret-from-the-installed-callback-0123456789"


def connect_app(sandbox: JiraSandbox, scopes: list[str]) -> ConnectJwt:
    sandbox.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1",
                                                       SHARED_SECRET, {"name": "hubsync", "scopes": scopes})
    return ConnectJwt(APP_KEY, SHARED_SECRET, sandbox.url)


@pytest.mark.parametrize("path", ["statuses/search", "workflows/search", "workflowscheme", "workflowscheme/10000"])
def test_a_person_who_is_no_jira_administrator_is_refused(jira_cloud: JiraSandbox, path: str) -> None:
    refused = jira_cloud.session().get(f"{jira_cloud.rest}/{path}")  # the hubsync bot: no ADMINISTER

    assert refused.status_code == 403
    assert refused.json() == {"errorMessages": [ADMIN_ONLY], "errors": {}}


def test_a_non_administrator_cannot_create_or_switch(jira_cloud: JiraSandbox) -> None:
    bot = jira_cloud.session()

    statuses = bot.post(f"{jira_cloud.rest}/statuses", json={"scope": {"type": "GLOBAL"}, "statuses": [
        {"name": "Mine", "statusCategory": "TODO"}]})
    switch = bot.post(f"{jira_cloud.rest}/workflowscheme/project/switch",
                      json={"projectId": OPS_ID, "targetSchemeId": "10000"})
    associations = bot.get(f"{jira_cloud.rest}/workflowscheme/project", params={"projectId": OPS_ID})

    assert (statuses.status_code, switch.status_code) == (403, 403)
    assert associations.json()["errorMessages"] == [ASSOCIATIONS_ADMIN_ONLY]
    assert jira_cloud.world.project_schemes[OPS_ID] == 10001


def test_a_connect_app_cannot_reach_statuses_or_workflows_whatever_its_scopes(jira_cloud: JiraSandbox) -> None:
    jwt = connect_app(jira_cloud, ["READ", "WRITE", "ADMIN"])

    for path in ("statuses/search", "workflows/search"):
        refused = requests.get(f"{jira_cloud.rest}/{path}", auth=jwt, timeout=10)
        assert refused.status_code == 403
        assert refused.json()["errorMessages"] == [CONNECT_INACCESSIBLE]
    created = requests.post(f"{jira_cloud.rest}/workflows/create", auth=jwt, timeout=10, json={"workflows": []})
    assert created.status_code == 403


def test_a_connect_app_reads_workflow_schemes_with_the_admin_scope_only(jira_cloud: JiraSandbox) -> None:
    without = requests.get(f"{jira_cloud.rest}/workflowscheme", auth=connect_app(jira_cloud, ["READ", "WRITE"]),
                           timeout=10)
    with_admin = requests.get(f"{jira_cloud.rest}/workflowscheme", auth=connect_app(jira_cloud, ["read", "admin"]),
                              timeout=10)

    assert without.status_code == 403 and "ADMIN scope" in without.json()["errorMessages"][0]
    assert with_admin.status_code == 200 and with_admin.json()["total"] == 2


def test_data_center_has_no_workflow_administration(jira_dc: JiraSandbox) -> None:
    session = jira_dc.session()

    for path in ("statuses/search", "workflows/search", "workflowscheme/project?projectId=10001"):
        assert session.get(f"{jira_dc.rest}/{path}").status_code == 404
    assert session.post(f"{jira_dc.rest}/workflows/create", json={}).status_code == 404
