"""What a Jira site offers the configure page's pickers and the project check, read from the simulator in both
flavours: projects, issue types and create fields, statuses, workflows, priorities and people."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.adapters.jira import ApiToken, PersonalAccessToken
from hubsync.adapters.jira.projects import JiraProjects
from hubsync.domain.ports import JiraUnavailable, ProjectNotFound, StatusChoice
from hubsync.domain.risk_workflow import STATUSES, TRANSITIONS
from hubsync.domain.ticket import StatusCategory
from hubsync_sandbox.jira import seed
from tests.fixtures.jira import JiraSandbox


def projects_of(sandbox: JiraSandbox, sleeps: list[float]) -> JiraProjects:
    cloud = sandbox.flavour == "cloud"
    auth = ApiToken(sandbox.login, sandbox.secret) if cloud else PersonalAccessToken(sandbox.secret)
    return JiraProjects(sandbox.url, sandbox.flavour, auth, sleep=sleeps.append)


def user_id(sandbox: JiraSandbox, email: str) -> str:
    user = sandbox.world.user_by_email(email)
    assert user is not None
    return user.account_id if sandbox.flavour == "cloud" else user.name


def test_projects_are_listed_and_searched_by_key_or_name(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)

    assert [(p.key, p.name) for p in jira.projects()] == [("OPS", "Operations"), ("SEC", "Security Findings")]
    assert [p.key for p in jira.projects("sec")] == ["SEC"]
    assert [p.key for p in jira.projects("operat")] == ["OPS"]
    assert jira.projects("nothing-like-it") == []
    assert jira.projects()[1].id == jira_any.world.project("SEC").id


def test_issue_types_and_create_fields_come_from_create_metadata(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)
    expected = [(t.id, t.name) for t in jira_any.world.project("SEC").issue_types]

    types = jira.issue_types("SEC")
    fields = {field.id: field for field in jira.create_fields("SEC", types[0].id)}

    assert [(t.id, t.name) for t in types] == expected
    assert fields["summary"].required and not fields["summary"].has_default
    assert fields["priority"].has_default and not fields["priority"].required
    assert fields["reporter"].name == "Reporter" and fields["reporter"].required


def test_an_unknown_project_is_project_not_found_everywhere(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)

    with pytest.raises(ProjectNotFound):
        jira.issue_types("NOPE")
    with pytest.raises(ProjectNotFound):
        jira.create_fields("NOPE", "10001")
    with pytest.raises(ProjectNotFound):
        jira.statuses("NOPE")
    with pytest.raises(ProjectNotFound):
        jira.users("ali", project_key="NOPE")


def test_an_unknown_issue_type_of_a_known_project_is_jira_refusing(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    with pytest.raises(JiraUnavailable) as refused:
        projects_of(jira_any, sleeps).create_fields("SEC", "99999")

    assert not isinstance(refused.value, ProjectNotFound)


def test_statuses_are_the_projects_each_once(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)
    task = jira_any.world.project("SEC").issue_types[0].id

    statuses = jira.statuses("SEC")

    assert [s.name for s in statuses] == [status.name for status in STATUSES]
    assert statuses == jira.statuses("SEC", task)
    assert jira.statuses("SEC", "no-such-type") == []
    ops = jira.statuses("OPS")
    assert [s.category for s in ops] == [StatusCategory.TO_DO, StatusCategory.IN_PROGRESS, StatusCategory.DONE]
    assert all(isinstance(s, StatusChoice) and s.id for s in ops)


def test_priorities_are_the_sites(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    priorities = projects_of(jira_any, sleeps).priorities()

    assert [(p.id, p.name) for p in priorities] == [(p.id, p.name) for p in seed.PRIORITIES]


def test_users_are_found_by_part_of_a_name_with_their_email(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)

    found = jira.users("Dev")

    assert {(u.display_name, u.email) for u in found} == {
        ("Alice Developer", "alice@example.com"), ("Bob Developer", "bob@example.com"),
        ("Carol Developer", "carol@example.com"),
    }
    alice = next(u for u in found if u.email == "alice@example.com")
    assert alice.id == user_id(jira_any, "alice@example.com")
    assert jira.users("   ") == []
    assert [u.display_name for u in jira.users(alice.id)] == ["Alice Developer"]  # a stored assignee, by name


def test_users_of_a_project_are_those_who_may_be_assigned(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_any, sleeps)

    assert [u.email for u in jira.users("victor")] == [seed.SANDBOX_JIRA_VIEWER_EMAIL]
    assert jira.users("victor", project_key="SEC") == []
    assert user_id(jira_any, "alice@example.com") in {u.id for u in jira.users("", project_key="SEC")}


def test_apps_and_deactivated_people_are_not_offered(jira_cloud: JiraSandbox, sleeps: list[float]) -> None:
    jira_cloud.world.app_user("some.app", "Some App")
    alice = jira_cloud.world.user_by_email("alice@example.com")
    assert alice is not None
    jira_cloud.world.users[jira_cloud.world.users.index(alice)] = replace(alice, active=False)

    assert "Some App" not in {u.display_name for u in projects_of(jira_cloud, sleeps).users("Some")}
    assert "alice@example.com" not in {u.email for u in projects_of(jira_cloud, sleeps).users("Alice")}


def admin_projects(sandbox: JiraSandbox, sleeps: list[float]) -> JiraProjects:
    """Read as the site's Jira administrator (API token): the workflow API answers administrators only."""
    auth = ApiToken(seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
    return JiraProjects(sandbox.url, "cloud", auth, sleep=sleeps.append)


def test_an_administrator_reads_the_workflow_with_its_transitions(jira_cloud: JiraSandbox, sleeps: list[float]) -> None:
    jira = admin_projects(jira_cloud, sleeps)
    task = jira.issue_types("SEC")[0].id

    shape = jira.workflow("SEC", task)

    assert shape is not None
    assert shape.name == jira_cloud.world.project("SEC").workflow.name
    by_name = {status.name: status for status in shape.statuses}
    assert list(by_name) == [status.name for status in STATUSES]
    assert {s.category for s in shape.statuses} == {s.category for s in STATUSES}
    assert by_name[STATUSES[0].name].id == shape.initial
    keys = {status.key: by_name[status.name].id for status in STATUSES}
    edges = {(edge.name, source, edge.target) for edge in shape.edges for source in edge.sources or ()}
    assert edges == {(t.name, keys[t.source], keys[t.target]) for t in TRANSITIONS}


def test_a_global_transition_starts_anywhere(jira_cloud: JiraSandbox, sleeps: list[float]) -> None:
    jira = admin_projects(jira_cloud, sleeps)

    shape = jira.workflow("OPS", jira.issue_types("OPS")[0].id)

    assert shape is not None
    assert [s.name for s in shape.statuses] == [s.name for s in jira_cloud.world.project("OPS").workflow.statuses]
    assert shape.edges and all(edge.sources is None for edge in shape.edges)  # the stock simplified workflow


def test_a_workflow_hubsync_may_not_read_is_none(jira_cloud: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_cloud, sleeps)  # the bot: not a Jira administrator

    assert jira.workflow("SEC", jira.issue_types("SEC")[0].id) is None
    with pytest.raises(ProjectNotFound):
        jira.workflow("NOPE", "10001")


def test_data_center_shows_no_workflow(jira_dc: JiraSandbox, sleeps: list[float]) -> None:
    jira = projects_of(jira_dc, sleeps)

    assert jira.workflow("SEC", jira.issue_types("SEC")[0].id) is None


def test_jira_down_is_jira_unavailable(jira_any: JiraSandbox, sleeps: list[float]) -> None:
    jira_any.control("POST", "faults", json={"status": 500, "count": 1})

    with pytest.raises(JiraUnavailable):
        projects_of(jira_any, sleeps).priorities()


def test_calls_spend_the_sites_budget(jira_cloud: JiraSandbox, sleeps: list[float]) -> None:
    jira_cloud.control("POST", "faults", json={"status": 429, "count": 1, "retry_after": 3})

    assert projects_of(jira_cloud, sleeps).priorities()
    assert 3.0 in sleeps
