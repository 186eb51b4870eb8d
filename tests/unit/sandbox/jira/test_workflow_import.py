"""The Data Center simulator's stand-ins for its admin pages: Add status, and Import from XML (read as Jira keeps a
workflow: steps on site statuses, step, common and global actions), refusing what Jira could not use."""

from __future__ import annotations

import pytest

from hubsync.adapters.jira.workflow_xml import render_workflow_xml
from hubsync.domain import risk_workflow as risk
from hubsync_sandbox.jira.model import DONE, IN_PROGRESS, TO_DO, Status
from hubsync_sandbox.jira.workflow_import import WorkflowXmlError, parse_workflow_xml
from tests.fixtures.jira import JiraSandbox

OPEN, DOING, DONE_ = Status("1", "Open", TO_DO), Status("3", "In Progress", IN_PROGRESS), Status("6", "Closed", DONE)
SITE = {status.id: status for status in (OPEN, DOING, DONE_)}
CREATE = ('<initial-actions><action id="1" name="Create"><results>'
          '<unconditional-result old-status="null" status="open" step="1"/></results></action></initial-actions>')


def action(action_id: int, name: str, step: int) -> str:
    return (f'<action id="{action_id}" name="{name}"><results><unconditional-result old-status="Not Done" '
            f'status="Done" step="{step}"/></results></action>')


def step(step_id: int, name: str, status_id: str, actions: str = "") -> str:
    return (f'<step id="{step_id}" name="{name}"><meta name="jira.status.id">{status_id}</meta>'
            f'<actions>{actions}</actions></step>')


def workflow(steps: str, *, extra: str = "", head: str = "") -> bytes:
    return f"{head}<workflow>{CREATE}{extra}<steps>{steps}</steps></workflow>".encode()


def test_the_risk_workflow_xml_reads_back_as_the_domain_defines_it() -> None:
    site = {str(100 + index): Status(str(100 + index), each.name, TO_DO) for index, each in enumerate(risk.STATUSES)}
    ids = {each.key: str(100 + index) for index, each in enumerate(risk.STATUSES)}
    parsed = parse_workflow_xml(render_workflow_xml(ids).encode(), risk.NAME, site)
    assert parsed.name == risk.NAME
    assert parsed.initial.name == risk.status(risk.INITIAL).name
    assert [status.name for status in parsed.statuses] == [each.name for each in risk.STATUSES]
    by_id = {status.id: status.name for status in parsed.statuses}
    assert sorted((t.name, by_id[next(iter(t.sources or ()))], t.to.name) for t in parsed.transitions) == sorted(
        (move.name, risk.status(move.source).name, risk.status(move.target).name) for move in risk.TRANSITIONS)


def test_common_actions_gather_their_steps_and_global_actions_start_anywhere() -> None:
    xml = workflow(
        step(1, "Open", "1", '<common-action id="2"/>' + action(4, "Start", 2))
        + step(2, "In Progress", "3", '<common-action id="2"/>')
        + step(3, "Closed", "6"),
        extra=f"<global-actions>{action(9, 'Reopen', 1)}</global-actions>"
              f"<common-actions>{action(2, 'Close', 3)}</common-actions>",
    )
    parsed = parse_workflow_xml(xml, "classic", SITE)
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
])
def test_what_jira_could_not_use_is_refused_saying_where(xml: bytes, said: str) -> None:
    with pytest.raises(WorkflowXmlError) as refused:
        parse_workflow_xml(xml, "broken", SITE)
    assert said in str(refused.value)


@pytest.mark.parametrize("head", [
    '<!DOCTYPE workflow [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE workflow SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE workflow PUBLIC "-//Evil//DTD Other//EN" "http://example.com/x.dtd">',
    '<!DOCTYPE html>',
])
def test_only_osworkflow_s_doctype_is_accepted(head: str) -> None:
    with pytest.raises(WorkflowXmlError, match=r"DOCTYPE|entity"):
        parse_workflow_xml(workflow(step(1, "Open", "1"), head=head), "doctype", SITE)


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


def test_cloud_has_no_import(jira_cloud: JiraSandbox) -> None:
    assert jira_cloud.control("POST", "workflows/import?project=OPS&name=x", data=b"<workflow/>").status_code == 404
