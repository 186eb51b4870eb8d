"""The README's Data Center steps, on the simulator: `hubsync jira workflow-xml` names the statuses a fresh site
lacks, the admin creates them, the command then writes the XML, the XML is imported into OPS (whose issues are
mapped by category), and a ticket there walks Open -> Request risk acceptance -> Risk approved by the transitions
the simulated Jira lists, each named as `hubsync.domain.risk_workflow` names it, taking the resolution the command
chose from the site's ("Won't Fix") and losing it when reopened; one fixed takes "Fixed"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from hubsync.cli import main
from hubsync.domain import risk_workflow as risk
from hubsync_sandbox.jira.world import JiraWorld
from tests.fixtures.jira import JiraSandbox

CATEGORY_KEYS = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
MISSING_LINE = re.compile(r"^  (?P<name>.+)  \(category: (?P<category>[^)]+)\)$")


def without_risk_statuses(world: JiraWorld) -> None:
    """A site that never had the risk workflow: the seeded SEC project, its workflow and scheme, and the statuses
    no other workflow uses are gone (the world has no API to delete them, as Jira has none)."""
    sec = world.projects.pop("SEC")
    world.workflows.pop(sec.workflow.name)
    world.project_schemes.pop(sec.id)
    still_used = {status.id for workflow in world.workflows.values() for status in workflow.statuses}
    for status in sec.workflow.statuses:
        if status.id not in still_used:
            del world._statuses[status.id]


@pytest.fixture
def site(jira_sandbox: Callable[..., JiraSandbox]) -> JiraSandbox:
    return jira_sandbox("datacenter", setup=without_risk_statuses)


@pytest.fixture
def operator_shell(site: JiraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's environment and a Data Center tenant for `site`, added as the README says."""
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "an operator's secret key of 32+ characters")
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", site.secret)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"project_key": "OPS", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}))
    assert main([
        "tenant", "add", "--name", "onprem", "--flavour", "datacenter", "--jira-url", site.url,
        "--role-arn", "arn:aws:iam::111122223333:role/hubsync", "--region", "us-east-1", "--policy", str(policy),
    ]) == 0


def transitions(site: JiraSandbox, key: str) -> dict[str, dict]:
    response = site.session().get(f"{site.rest}/issue/{key}/transitions")
    assert response.status_code == 200, response.text
    return {t["name"]: t for t in response.json()["transitions"]}


def fields_of(site: JiraSandbox, key: str) -> dict:
    response = site.session().get(f"{site.rest}/issue/{key}", params={"fields": "status,resolution"})
    assert response.status_code == 200, response.text
    fields: dict = response.json()["fields"]
    return fields


def status_of(site: JiraSandbox, key: str) -> dict:
    status: dict = fields_of(site, key)["status"]
    return status


def walk(site: JiraSandbox, key: str, steps: list[tuple[str, str]]) -> None:
    """Take each (source status key, transition name) by the transitions Jira lists, checking they are the
    domain's."""
    for source, name in steps:
        offered = transitions(site, key)
        assert {n: t["to"]["name"] for n, t in offered.items()} == leaving(source)
        moved = site.session().post(f"{site.rest}/issue/{key}/transitions",
                                    json={"transition": {"id": offered[name]["id"]}})
        assert moved.status_code == 204, moved.text


def leaving(key: str) -> dict[str, str]:
    """The domain's transitions out of a status: name -> target status name."""
    return {move.name: risk.status(move.target).name for move in risk.TRANSITIONS if move.source == key}


@pytest.mark.usefixtures("operator_shell")
def test_the_shipped_xml_imports_and_a_ticket_walks_to_risk_approved(
    site: JiraSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = site.session()
    before = session.post(f"{site.rest}/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "in To Do before the switch"}})
    assert before.status_code == 201, before.text

    # 1. The statuses are missing: nothing is written, each is named with its category.
    assert main(["jira", "workflow-xml"]) == 1
    first = capsys.readouterr()
    assert first.out == ""
    missing = [m.groupdict() for m in map(MISSING_LINE.match, first.err.splitlines()) if m]
    assert [(m["name"], CATEGORY_KEYS[m["category"]]) for m in missing] == [
        (each.name, each.category.value) for each in risk.STATUSES]

    # 2. The admin creates them (Administration > Issues > Statuses > Add status).
    for each in missing:
        created = site.control("POST", "statuses", json={"name": each["name"],
                                                         "category": CATEGORY_KEYS[each["category"]]})
        assert created.status_code == 201, created.text

    # 3. Now the XML is written, to stdout or a file alike, with the site's ids.
    assert main(["jira", "workflow-xml"]) == 0
    printed = capsys.readouterr()
    xml_file = tmp_path / "risk.xml"
    assert main(["jira", "workflow-xml", "--tenant", "onprem", "--out", str(xml_file)]) == 0
    assert xml_file.read_text() == printed.out
    assert "Import from XML" in printed.err
    assert "Resolved -> Fixed; Risk approved -> Won't Fix" in printed.err
    ids = {status.name: status.id for status in site.world.statuses()}
    for each in risk.STATUSES:
        assert f'<meta name="jira.status.id">{ids[each.name]}</meta>' in printed.out
    resolutions = {resolution.name: resolution.id for resolution in site.world.resolutions}
    for name in ("Fixed", "Won't Fix"):
        assert f'<arg name="field.value">{resolutions[name]}</arg>' in printed.out

    # 4. Imported into OPS: the issue in To Do goes to the workflow's To Do status.
    imported = site.control("POST", f"workflows/import?project=OPS&name={quote(risk.NAME)}",
                            data=xml_file.read_bytes(), headers={"Content-Type": "application/xml"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["statuses"] == [each.name for each in risk.STATUSES]
    assert imported.json()["moved"] == {before.json()["key"]: risk.status(risk.INITIAL).name}

    # 5. A new ticket starts in the initial status and walks by the transitions Jira lists.
    created = session.post(f"{site.rest}/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "S3 bucket is public"}})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert status_of(site, key)["name"] == risk.status(risk.INITIAL).name
    assert fields_of(site, key)["resolution"] is None
    walk(site, key, [("open", "Request risk acceptance"), ("request", "Approve risk")])
    final = fields_of(site, key)
    assert final["status"]["name"] == risk.status("approved").name
    assert final["status"]["statusCategory"]["key"] == risk.status("approved").category.value
    assert (final["resolution"]["id"], final["resolution"]["name"]) == (resolutions["Won't Fix"], "Won't Fix")
    unresolved = session.get(f"{site.rest}/search", params={"jql": "project = OPS AND resolution is EMPTY"})
    assert unresolved.status_code == 200, unresolved.text
    assert before.json()["key"] in [issue["key"] for issue in unresolved.json()["issues"]]
    assert key not in [issue["key"] for issue in unresolved.json()["issues"]]

    # 6. Reopened, it is unresolved again; a ticket fixed and tested is resolved "Fixed".
    walk(site, key, [("approved", "Reopen")])
    reopened = fields_of(site, key)
    assert reopened["status"]["name"] == risk.status("request").name and reopened["resolution"] is None
    fixed = session.post(f"{site.rest}/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "EBS volume unencrypted"}})
    assert fixed.status_code == 201, fixed.text
    walk(site, fixed.json()["key"], [("open", "Allocate for fix"), ("allocated", "Mark for testing"),
                                     ("test", "Mark as resolved")])
    assert fields_of(site, fixed.json()["key"])["resolution"]["name"] == "Fixed"


@pytest.mark.usefixtures("operator_shell")
def test_a_step_on_a_status_the_site_lacks_is_refused_naming_it(site: JiraSandbox) -> None:
    xml = ('<workflow><initial-actions><action id="1" name="Create"><results>'
           '<unconditional-result old-status="null" status="open" step="1"/></results></action></initial-actions>'
           '<steps><step id="1" name="Open"><meta name="jira.status.id">424242</meta></step></steps></workflow>')
    refused = site.control("POST", "workflows/import?project=OPS&name=broken", data=xml.encode())
    assert refused.status_code == 400
    assert "424242" in refused.json()["error"] and "step 1 (Open)" in refused.json()["error"]
    assert site.world.project("OPS").workflow.name != "broken"
