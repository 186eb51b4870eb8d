"""The risk workflow's Data Center XML: well-formed OSWorkflow, every status a step on the site's status id, every
transition an action in its source step to its target's step, ids that stay put; and the site's statuses it is
filled from, read from the Data Center simulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hubsync.adapters.jira import PersonalAccessToken
from hubsync.adapters.jira.transport import JiraTransport
from hubsync.adapters.jira.workflow_xml import DOCTYPE, render_workflow_xml, site_statuses
from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import StatusChoice
from hubsync.domain.ticket import StatusCategory
from tests.fixtures.jira import JiraSandbox

IDS = {each.key: str(20000 + index) for index, each in enumerate(risk.STATUSES)}
FUNCTIONS = "com.atlassian.jira.workflow.function."


def parsed(ids: dict[str, str] = IDS) -> ET.Element:
    return ET.fromstring(render_workflow_xml(ids).encode())


def class_names(action: ET.Element) -> list[str]:
    return [arg.text or "" for arg in action.iterfind(".//post-functions/function/arg[@name='class.name']")]


def test_it_is_an_osworkflow_document_with_jira_s_doctype() -> None:
    text = render_workflow_xml(IDS)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n' + DOCTYPE + "\n<workflow>")
    assert "OSWorkflow 2.8" in DOCTYPE
    root = parsed()
    assert root.tag == "workflow"
    assert [child.tag for child in root] == ["meta", "initial-actions", "steps"]


def test_every_status_is_a_step_on_the_site_s_status_id() -> None:
    steps = parsed().findall("steps/step")
    assert [(step.get("name"), step.findtext("meta[@name='jira.status.id']")) for step in steps] == [
        (each.name, IDS[each.key]) for each in risk.STATUSES]
    assert len({step.get("id") for step in steps}) == len(risk.STATUSES)


def test_every_transition_leaves_its_source_step_for_its_target_s() -> None:
    root = parsed()
    step_of_id = {step.get("id"): step.get("name") for step in root.iterfind("steps/step")}
    found = [
        (action.get("name"), step.get("name"), step_of_id[action.find("results/unconditional-result").get("step")])
        for step in root.iterfind("steps/step") for action in step.iterfind("actions/action")
    ]
    assert sorted(found) == sorted(
        (move.name, risk.status(move.source).name, risk.status(move.target).name) for move in risk.TRANSITIONS)
    action_ids = [action.get("id") for action in root.iter("action")]
    assert len(action_ids) == len(set(action_ids)) == len(risk.TRANSITIONS) + 1


def test_issues_are_created_in_the_initial_status_with_jira_s_create_functions() -> None:
    [create] = parsed().findall("initial-actions/action")
    assert create.get("id") == "1"
    result = create.find("results/unconditional-result")
    initial_step = next(s for s in parsed().iterfind("steps/step") if s.get("id") == result.get("step"))
    assert initial_step.get("name") == risk.status(risk.INITIAL).name
    assert class_names(create) == [FUNCTIONS + "issue.IssueCreateFunction", FUNCTIONS + "issue.IssueReindexFunction",
                                   FUNCTIONS + "event.FireIssueEventFunction"]
    assert create.findtext(".//arg[@name='eventTypeId']") == "1"
    assert create.findtext("validators/validator/arg[@name='permission']") == "Create Issue"


def test_each_transition_has_the_post_functions_jira_gives_a_new_one() -> None:
    for action in parsed().iterfind("steps/step/actions/action"):
        assert class_names(action) == [
            FUNCTIONS + "issue.UpdateIssueStatusFunction", FUNCTIONS + "misc.CreateCommentFunction",
            FUNCTIONS + "issue.GenerateChangeHistoryFunction", FUNCTIONS + "issue.IssueReindexFunction",
            FUNCTIONS + "event.FireIssueEventFunction",
        ]
        assert action.findtext(".//arg[@name='eventTypeId']") == "13"


def test_step_and_action_ids_stay_put_so_a_regenerated_file_matches_an_imported_one() -> None:
    root = parsed()
    assert {s.get("name"): s.get("id") for s in root.iterfind("steps/step")} == {
        "Open": "1", "Allocated for fix": "2", "Test fix": "3", "Resolved": "4", "Request risk acceptance": "5",
        "Risk approved": "6", "Risk not approved": "7", "Risk approval expired": "8", "Marked as false positive": "9",
        "Accepted false positive": "10"}
    first_actions = [(a.get("id"), a.get("name")) for a in root.iterfind("steps/step/actions/action")][:3]
    assert first_actions == [("11", "Mark as false positive"), ("21", "Allocate for fix"),
                             ("31", "Request risk acceptance")]
    assert render_workflow_xml(IDS) == render_workflow_xml(dict(reversed(IDS.items())))


def test_text_from_the_site_is_escaped() -> None:
    hostile = {**IDS, "open": '1"/><step id="99"><!-- & -->'}
    root = parsed(hostile)
    assert root.find("steps/step/meta").text == hostile["open"]
    assert len(root.findall("steps/step")) == len(risk.STATUSES)


def test_every_status_needs_an_id() -> None:
    with pytest.raises(ValueError, match="request"):
        render_workflow_xml({key: value for key, value in IDS.items() if key != "request"})


def test_the_site_s_statuses_are_read_with_their_category(jira_dc: JiraSandbox) -> None:
    transport = JiraTransport(jira_dc.url, "2", PersonalAccessToken(jira_dc.secret))
    found = site_statuses(transport)
    assert StatusChoice("10000", "To Do", StatusCategory.TO_DO) in found
    assert StatusChoice("5", "Resolved", StatusCategory.DONE) in found
    assert len(found) == len(jira_dc.world.statuses())
