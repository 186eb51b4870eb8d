"""The Data Center simulator's stand-ins for its admin pages: Add status, and Import from XML (read as Jira keeps a
workflow: steps on site statuses, step, common and global actions, the resolution set or cleared by post functions),
refusing what Jira could not use."""

from __future__ import annotations

import pytest

from hubsync.adapters.jira.workflow_xml import render_workflow_xml
from hubsync.domain import risk_workflow as risk
from hubsync_sandbox.jira.model import DONE, IN_PROGRESS, TO_DO, ResolutionUpdate, Status
from hubsync_sandbox.jira.workflow_import import WorkflowXmlError, parse_workflow_xml
from tests.fixtures.jira import JiraSandbox

OPEN, DOING, DONE_ = Status("1", "Open", TO_DO), Status("3", "In Progress", IN_PROGRESS), Status("6", "Closed", DONE)
SITE = {status.id: status for status in (OPEN, DOING, DONE_)}
RESOLUTIONS = {"1", "2"}
UPDATE_FIELD = "com.atlassian.jira.workflow.function.issue.UpdateIssueFieldFunction"
CREATE = ('<initial-actions><action id="1" name="Create"><results>'
          '<unconditional-result old-status="null" status="open" step="1"/></results></action></initial-actions>')


def action(action_id: int, name: str, step: int, functions: str = "") -> str:
    return (f'<action id="{action_id}" name="{name}"><results><unconditional-result old-status="Not Done" '
            f'status="Done" step="{step}"><post-functions>{functions}</post-functions></unconditional-result>'
            '</results></action>')


def update_field(name: str, value: str, class_name: str = UPDATE_FIELD) -> str:
    return (f'<function type="class"><arg name="class.name">{class_name}</arg><arg name="field.name">{name}</arg>'
            f'<arg name="field.value">{value}</arg></function>')


def step(step_id: int, name: str, status_id: str, actions: str = "") -> str:
    return (f'<step id="{step_id}" name="{name}"><meta name="jira.status.id">{status_id}</meta>'
            f'<actions>{actions}</actions></step>')


def workflow(steps: str, *, extra: str = "", head: str = "") -> bytes:
    return f"{head}<workflow>{CREATE}{extra}<steps>{steps}</steps></workflow>".encode()


def test_the_risk_workflow_xml_reads_back_as_the_domain_defines_it() -> None:
    site = {str(100 + index): Status(str(100 + index), each.name, TO_DO) for index, each in enumerate(risk.STATUSES)}
    ids = {each.key: str(100 + index) for index, each in enumerate(risk.STATUSES)}
    resolutions = {"resolved": "1", "approved": "2", "not_approved": "2", "accepted_fp": "2"}
    parsed = parse_workflow_xml(render_workflow_xml(ids, resolutions).encode(), risk.NAME, site, RESOLUTIONS)
    assert parsed.name == risk.NAME
    assert parsed.initial.name == risk.status(risk.INITIAL).name
    assert [status.name for status in parsed.statuses] == [each.name for each in risk.STATUSES]
    by_id = {status.id: status.name for status in parsed.statuses}
    assert sorted((t.name, by_id[next(iter(t.sources or ()))], t.to.name) for t in parsed.transitions) == sorted(
        (move.name, risk.status(move.source).name, risk.status(move.target).name) for move in risk.TRANSITIONS)
    assert parsed.resolution_by_post_functions
    updates = {(by_id[next(iter(t.sources or ()))], t.to.name): t.resolution_update for t in parsed.transitions}
    assert updates[("Request risk acceptance", "Risk approved")] == ResolutionUpdate("2")
    assert updates[("Test fix", "Resolved")] == ResolutionUpdate("1")
    assert updates[("Risk approved", "Request risk acceptance")] == ResolutionUpdate(None)
    assert updates[("Open", "Allocated for fix")] is None


def test_common_actions_gather_their_steps_and_global_actions_start_anywhere() -> None:
    xml = workflow(
        step(1, "Open", "1", '<common-action id="2"/>' + action(4, "Start", 2))
        + step(2, "In Progress", "3", '<common-action id="2"/>')
        + step(3, "Closed", "6"),
        extra=f"<global-actions>{action(9, 'Reopen', 1)}</global-actions>"
              f"<common-actions>{action(2, 'Close', 3)}</common-actions>",
    )
    parsed = parse_workflow_xml(xml, "classic", SITE, RESOLUTIONS)
    transitions = {t.name: t for t in parsed.transitions}
    assert transitions["Close"].sources == frozenset({"1", "3"}) and transitions["Close"].to == DONE_
    assert transitions["Start"].sources == frozenset({"1"}) and transitions["Start"].to == DOING
    assert transitions["Reopen"].sources is None and transitions["Reopen"].to == OPEN
    assert transitions["Close"].id == "2"


@pytest.mark.parametrize(("xml", "said"), [
    (workflow(step(1, "Open", "404")), "step 1 (Open): status id '404' does not exist"),
    (workflow(step(1, "Open", "1", action(11, "Go", 7))), "leads to step 7"),
    (workflow(step(1, "Open", "1", action(11, "Go", 2)) + step(2, "Doing", "3", action(11, "Back", 1))),
     "action id 11 is used twice"),
    (workflow(step(1, "Open", "1") + step(2, "Again", "1")), "status 'Open' is already step 1's"),
    (workflow(step(1, "Open", "1", '<common-action id="5"/>')), "common action 5"),
    (workflow('<step id="1" name="Open"/>'), "has no <meta name=\"jira.status.id\">"),
    (workflow(step(1, "Open", "1", action(11, "", 1))), "action 11 has no name"),
    (b"<workflow><steps/></workflow>", "no <steps>"),
    (b"<flow/>", "not <workflow>"),
    (b"<workflow>", "not well-formed"),
    (workflow(step(1, "Open", "1", action(11, "Close", 2, update_field("resolution", "404"))) + step(2, "Closed", "6")),
     "action 11 (Close) sets resolution id '404', which does not exist on this site"),
])
def test_what_jira_could_not_use_is_refused_saying_where(xml: bytes, said: str) -> None:
    with pytest.raises(WorkflowXmlError) as refused:
        parse_workflow_xml(xml, "broken", SITE, RESOLUTIONS)
    assert said in str(refused.value)


def test_post_functions_on_the_resolution_are_read_in_order_and_others_ignored() -> None:
    xml = workflow(
        step(1, "Open", "1", action(11, "Close", 3, update_field("resolution", "1") + update_field("resolution", " 2 "))
             + action(12, "Start", 2, update_field("summary", "404")))
        + step(2, "In Progress", "3", action(21, "Close", 3, update_field("resolution", "404", "com.example.Other")))
        + step(3, "Closed", "6", action(31, "Reopen", 1, update_field("resolution", ""))),
    )
    parsed = parse_workflow_xml(xml, "classic", SITE, RESOLUTIONS)
    assert {t.id: t.resolution_update for t in parsed.transitions} == {
        "11": ResolutionUpdate("2"), "12": None, "21": None, "31": ResolutionUpdate(None)}


@pytest.mark.parametrize("head", [
    '<!DOCTYPE workflow [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE workflow SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE workflow PUBLIC "-//Evil//DTD Other//EN" "http://example.com/x.dtd">',
    '<!DOCTYPE html>',
])
def test_only_osworkflow_s_doctype_is_accepted(head: str) -> None:
    with pytest.raises(WorkflowXmlError, match=r"DOCTYPE|entity"):
        parse_workflow_xml(workflow(step(1, "Open", "1"), head=head), "doctype", SITE, RESOLUTIONS)


def test_statuses_are_added_once_by_name_with_a_category(jira_dc: JiraSandbox) -> None:
    created = jira_dc.control("POST", "statuses", json={"name": "Waiting for vendor", "category": "indeterminate"})
    assert created.status_code == 201
    assert created.json()["statusCategory"]["key"] == "indeterminate"
    listed = jira_dc.session().get(f"{jira_dc.rest}/status").json()
    assert created.json()["id"] in [status["id"] for status in listed if status["name"] == "Waiting for vendor"]
    again = jira_dc.control("POST", "statuses", json={"name": "waiting FOR vendor", "category": "done"})
    assert again.status_code == 400 and "already exists" in again.json()["error"]
    for bad in ({"name": "X", "category": "blue"}, {"name": 3, "category": "done"}, ["Waiting for vendor"]):
        assert jira_dc.control("POST", "statuses", json=bad).status_code == 400


def test_an_import_names_a_known_project_and_a_new_workflow(jira_dc: JiraSandbox) -> None:
    xml = workflow(step(1, "To Do", "10000"))
    assert jira_dc.control("POST", "workflows/import?project=NOPE&name=x", data=xml).status_code == 404
    assert jira_dc.control("POST", "workflows/import?project=OPS", data=xml).status_code == 400
    taken = jira_dc.world.project("SEC").workflow.name
    refused = jira_dc.control("POST", f"workflows/import?project=OPS&name={taken}", data=xml)
    assert refused.status_code == 400 and "already exists" in refused.json()["error"]
    assert jira_dc.world.project("OPS").workflow.name != taken


def test_on_an_imported_workflow_only_its_post_functions_change_the_resolution(jira_dc: JiraSandbox) -> None:
    """Seeded workflows take a resolution from their screen (or "Done") on entering a done status; an imported one
    sets, clears or keeps it as its transitions' post functions say, whatever the status category."""
    xml = workflow(
        step(1, "To Do", "10000", action(11, "Won't do it", 3, update_field("resolution", "10001"))
             + action(12, "Start", 2))
        + step(2, "In Progress", "3", action(21, "Done, no function", 3) + action(22, "Stop", 1))
        + step(3, "Done", "10001", action(31, "Reopen", 1, update_field("resolution", ""))
               + action(32, "Back to work", 2)),
    )
    imported = jira_dc.control("POST", "workflows/import?project=OPS&name=post%20functions", data=xml)
    assert imported.status_code == 200, imported.text
    session = jira_dc.session()
    created = session.post(f"{jira_dc.rest}/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "walked"}})
    assert created.status_code == 201, created.text
    key = created.json()["key"]

    def walk(transition_id: str, **body: object) -> dict | None:
        moved = session.post(f"{jira_dc.rest}/issue/{key}/transitions", json={"transition": {"id": transition_id},
                                                                               **body})
        assert moved.status_code == 204, moved.text
        resolution: dict | None = session.get(f"{jira_dc.rest}/issue/{key}").json()["fields"]["resolution"]
        return resolution

    assert walk("11")["name"] == "Won't Do"
    assert walk("32")["name"] == "Won't Do"  # no post function: kept, though the status is not done
    assert walk("21")["name"] == "Won't Do"  # into done without one: kept too (no screen sets "Done")
    assert walk("31") is None
    assert walk("12") is None and walk("21") is None  # done without a post function: Jira leaves it unresolved
    refused = session.post(f"{jira_dc.rest}/issue/{key}/transitions", json={
        "transition": {"id": "31"}, "fields": {"resolution": {"name": "Fixed"}}})
    assert refused.status_code == 400  # no screen on an imported transition
    changes = [item for group in jira_dc.world.get_issue(key).changelog for item in group.items
               if item["field"] == "resolution"]
    assert [(item["fromString"], item["toString"]) for item in changes] == [(None, "Won't Do"), ("Won't Do", None)]


def test_cloud_has_no_import(jira_cloud: JiraSandbox) -> None:
    assert jira_cloud.control("POST", "workflows/import?project=OPS&name=x", data=b"<workflow/>").status_code == 404
