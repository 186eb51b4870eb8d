"""The risk workflow's Data Center XML: well-formed OSWorkflow, every status a step on the site's status id, every
transition an action in its source step to its target's step, the resolution set on entering a done status and
cleared on leaving one, ids that stay put; and the site's statuses and resolutions it is filled from, read from the
Data Center simulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hubsync.adapters.jira import PersonalAccessToken
from hubsync.adapters.jira.transport import JiraTransport
from hubsync.adapters.jira.workflow_xml import DOCTYPE, render_workflow_xml, site_resolutions, site_statuses
from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import ResolutionChoice, StatusChoice
from hubsync.domain.ticket import StatusCategory
from tests.fixtures.jira import JiraSandbox

IDS = {each.key: str(20000 + index) for index, each in enumerate(risk.STATUSES)}
DONE_KEYS = [each.key for each in risk.STATUSES if each.category is StatusCategory.DONE]
RESOLUTIONS = {key: str(30000 + index) for index, key in enumerate(DONE_KEYS)}  # a distinct id each, to tell apart
FUNCTIONS = "com.atlassian.jira.workflow.function."
STANDARD = [FUNCTIONS + "issue.UpdateIssueStatusFunction", FUNCTIONS + "misc.CreateCommentFunction",
            FUNCTIONS + "issue.GenerateChangeHistoryFunction", FUNCTIONS + "issue.IssueReindexFunction",
            FUNCTIONS + "event.FireIssueEventFunction"]
UPDATE_FIELD = FUNCTIONS + "issue.UpdateIssueFieldFunction"


def parsed(ids: dict[str, str] = IDS, resolutions: dict[str, str] = RESOLUTIONS) -> ET.Element:
    return ET.fromstring(render_workflow_xml(ids, resolutions).encode())


def class_names(action: ET.Element) -> list[str]:
    return [arg.text or "" for arg in action.iterfind(".//post-functions/function/arg[@name='class.name']")]


def test_it_is_an_osworkflow_document_with_jira_s_doctype() -> None:
    text = render_workflow_xml(IDS, RESOLUTIONS)
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
        assert class_names(action)[-5:] == STANDARD
        assert action.findtext(".//arg[@name='eventTypeId']") == "13"


def resolution_updates(root: ET.Element) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Each transition's (source, target) status names -> the args of its Update Issue Field post functions."""
    step_of_id = {step.get("id"): step.get("name") or "" for step in root.iterfind("steps/step")}
    found = {}
    for step in root.iterfind("steps/step"):
        for action in step.iterfind("actions/action"):
            target = step_of_id[action.find("results/unconditional-result").get("step")]
            found[(step.get("name") or "", target)] = [
                {arg.get("name") or "": arg.text or "" for arg in function.iterfind("arg")}
                for function in action.iterfind(".//post-functions/function")
                if function.findtext("arg[@name='class.name']") == UPDATE_FIELD
            ]
    return found


def test_entering_a_done_status_sets_its_resolution_and_leaving_one_for_open_work_clears_it() -> None:
    root = parsed()
    updates = resolution_updates(root)
    expected_sets = expected_clears = 0
    for move in risk.TRANSITIONS:
        source, target = risk.status(move.source), risk.status(move.target)
        found = updates[(source.name, target.name)]
        if target.category is StatusCategory.DONE:
            expected_sets += 1
            assert found == [{"class.name": UPDATE_FIELD, "field.name": "resolution",
                              "field.value": RESOLUTIONS[target.key]}], move
        elif source.category is StatusCategory.DONE:
            expected_clears += 1
            assert found == [{"class.name": UPDATE_FIELD, "field.name": "resolution", "field.value": ""}], move
        else:
            assert found == [], move
    assert expected_sets == 4 and expected_clears == 5  # the definition has both kinds: the test cannot pass empty
    for action in root.iterfind("steps/step/actions/action"):
        names = class_names(action)
        if UPDATE_FIELD in names:
            assert names == [UPDATE_FIELD, *STANDARD]  # before the status update, as Jira's own workflows have it
    assert '<arg name="field.value"></arg>' in render_workflow_xml(IDS, RESOLUTIONS)


def test_every_done_status_needs_a_resolution_id() -> None:
    with pytest.raises(ValueError, match="no resolution id for approved"):
        render_workflow_xml(IDS, {key: value for key, value in RESOLUTIONS.items() if key != "approved"})


def test_step_and_action_ids_stay_put_so_a_regenerated_file_matches_an_imported_one() -> None:
    root = parsed()
    assert {s.get("name"): s.get("id") for s in root.iterfind("steps/step")} == {
        "Open": "1", "Allocated for fix": "2", "Test fix": "3", "Resolved": "4", "Request risk acceptance": "5",
        "Risk approved": "6", "Risk not approved": "7", "Risk approval expired": "8", "Marked as false positive": "9",
        "Accepted false positive": "10"}
    first_actions = [(a.get("id"), a.get("name")) for a in root.iterfind("steps/step/actions/action")][:3]
    assert first_actions == [("11", "Mark as false positive"), ("21", "Allocate for fix"),
                             ("31", "Request risk acceptance")]
    assert render_workflow_xml(IDS, RESOLUTIONS) == render_workflow_xml(dict(reversed(IDS.items())), RESOLUTIONS)


def test_text_from_the_site_is_escaped() -> None:
    hostile = {**IDS, "open": '1"/><step id="99"><!-- & -->'}
    hostile_resolution = '</arg><arg name="field.name">summary</arg>'
    root = parsed(hostile, {**RESOLUTIONS, "approved": hostile_resolution})
    assert root.find("steps/step/meta").text == hostile["open"]
    assert len(root.findall("steps/step")) == len(risk.STATUSES)
    approve = resolution_updates(root)[(risk.status("request").name, risk.status("approved").name)]
    assert approve == [{"class.name": UPDATE_FIELD, "field.name": "resolution", "field.value": hostile_resolution}]


def test_every_status_needs_an_id() -> None:
    with pytest.raises(ValueError, match="request"):
        render_workflow_xml({key: value for key, value in IDS.items() if key != "request"}, RESOLUTIONS)


def test_the_site_s_statuses_are_read_with_their_category(jira_dc: JiraSandbox) -> None:
    transport = JiraTransport(jira_dc.url, "2", PersonalAccessToken(jira_dc.secret))
    found = site_statuses(transport)
    assert StatusChoice("10000", "To Do", StatusCategory.TO_DO) in found
    assert StatusChoice("5", "Resolved", StatusCategory.DONE) in found
    assert len(found) == len(jira_dc.world.statuses())


def test_the_site_s_resolutions_are_read(jira_dc: JiraSandbox) -> None:
    transport = JiraTransport(jira_dc.url, "2", PersonalAccessToken(jira_dc.secret))
    assert site_resolutions(transport) == [ResolutionChoice(r.id, r.name) for r in jira_dc.world.resolutions]
    assert ResolutionChoice("2", "Won't Fix") in site_resolutions(transport)
