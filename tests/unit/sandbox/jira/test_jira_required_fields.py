"""The required-field knob: a project's create screen that requires a custom field without a default, as Jira's
create metadata lists it and as its issue create refuses a ticket without it (either flavour)."""

from __future__ import annotations

from typing import Any

from tests.fixtures.jira import JiraSandbox

COST_CENTRE = {"project": "OPS", "id": "customfield_10050", "name": "Cost centre"}


def _create(site: JiraSandbox, project: str, **extra: Any) -> Any:
    fields = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "a finding", **extra}
    return site.session().post(f"{site.rest}/issue", json={"fields": fields})


def _create_fields(site: JiraSandbox, project: str) -> dict[str, Any]:
    page = site.session().get(f"{site.rest}/issue/createmeta/{project}/issuetypes/10001").json()
    return {field["fieldId"]: field for field in page["fields" if site.flavour == "cloud" else "values"]}


def test_a_required_field_is_listed_and_a_create_without_it_refused(jira_any: JiraSandbox) -> None:
    assert "customfield_10050" not in _create_fields(jira_any, "OPS")
    assert jira_any.control("POST", "required-fields", json=COST_CENTRE).status_code == 201

    listed = _create_fields(jira_any, "OPS")["customfield_10050"]
    assert (listed["name"], listed["required"], listed["hasDefaultValue"]) == ("Cost centre", True, False)
    assert "customfield_10050" not in _create_fields(jira_any, "SEC")  # another project's screen is as it was

    refused = _create(jira_any, "OPS")
    assert refused.status_code == 400
    assert refused.json() == {"errorMessages": [], "errors": {"customfield_10050": "Cost centre is required."}}
    assert _create(jira_any, "OPS", customfield_10050="CC-42").status_code == 201
    assert _create(jira_any, "SEC").status_code == 201
    elsewhere = _create(jira_any, "SEC", customfield_10050="CC-42").json()["errors"]["customfield_10050"]
    assert elsewhere == "Field 'customfield_10050' cannot be set. It is not on the appropriate screen, or unknown."


def test_the_knob_is_listed_cleared_and_checks_its_input(jira_cloud: JiraSandbox) -> None:
    jira_cloud.control("POST", "required-fields", json=COST_CENTRE)
    assert jira_cloud.control("GET", "required-fields").json() == {"OPS": {"customfield_10050": "Cost centre"}}
    assert jira_cloud.control("DELETE", "required-fields").status_code == 204
    assert jira_cloud.control("GET", "required-fields").json() == {}
    assert _create(jira_cloud, "OPS").status_code == 201

    assert jira_cloud.control("POST", "required-fields", json={**COST_CENTRE, "project": "NOPE"}).status_code == 404
    for bad in ({**COST_CENTRE, "id": "summary"}, {**COST_CENTRE, "name": " "}, {"project": "OPS"}, []):
        assert jira_cloud.control("POST", "required-fields", json=bad).status_code == 400, bad
