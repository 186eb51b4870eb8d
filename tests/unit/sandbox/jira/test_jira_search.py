"""Search over REST: Cloud's /search/jql (token paging, id-only default, bounded JQL), its 410 on the removed
search, Data Center's /search (startAt, total), and the eventual-consistency knob."""

from __future__ import annotations

import time

import pytest
import requests

from hubsync_sandbox.jira import adf
from hubsync_sandbox.jira.rest_search import REMOVED_API, UNBOUNDED
from tests.fixtures.jira import JiraSandbox


def seed_issues(sandbox: JiraSandbox, count: int, project: str = "SEC") -> None:
    bot = sandbox.world.user_by_name("hubsync-bot")
    description = adf.document("d") if sandbox.flavour == "cloud" else "d"
    for number in range(count):
        sandbox.world.create_issue(
            {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": f"issue {number}",
             "labels": [f"n{number}"], "description": description},
            bot,
            [{"key": "hubsync.finding", "value": {"n": number}}],
        )


def test_search_jql_pages_with_next_page_token(jira_cloud: JiraSandbox) -> None:
    seed_issues(jira_cloud, 5)
    bot = jira_cloud.session()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"jql": "project = SEC ORDER BY key ASC", "maxResults": 2, "fields": "summary"}
        if token:
            params["nextPageToken"] = token
        page = bot.get(f"{jira_cloud.rest}/search/jql", params=params).json()
        pages += 1
        seen += [issue["key"] for issue in page["issues"]]
        assert "total" not in page
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
    assert pages == 3
    assert seen == ["SEC-1", "SEC-2", "SEC-3", "SEC-4", "SEC-5"]


def test_a_page_token_is_an_offset_into_the_result_as_it_is_when_the_page_is_asked(jira_cloud: JiraSandbox) -> None:
    """Pages are cut from the current result (as when every page ran the search again), so a change between two
    pages shows on the next one."""
    seed_issues(jira_cloud, 5)
    bot = jira_cloud.session()
    body = {"jql": "project = SEC ORDER BY key DESC", "fields": ["summary"], "maxResults": 2}

    def page(**token: str) -> dict:
        return bot.post(f"{jira_cloud.rest}/search/jql", json={**body, **token}).json()

    first = page()
    assert [issue["key"] for issue in first["issues"]] == ["SEC-5", "SEC-4"]
    seed_issues(jira_cloud, 1)  # SEC-6, first in this order
    second = page(nextPageToken=first["nextPageToken"])
    assert [issue["key"] for issue in second["issues"]] == ["SEC-4", "SEC-3"]
    bot_user = jira_cloud.world.user_by_name("hubsync-bot")
    assert bot_user is not None
    jira_cloud.world.delete_issue("SEC-6", bot_user)
    third = page(nextPageToken=second["nextPageToken"])
    assert [issue["key"] for issue in third["issues"]] == ["SEC-1"]
    assert third["isLast"]


def test_search_jql_returns_ids_only_by_default(jira_cloud: JiraSandbox) -> None:
    seed_issues(jira_cloud, 2)
    page = jira_cloud.session().get(f"{jira_cloud.rest}/search/jql", params={"jql": "project = SEC"}).json()
    assert page == {"issues": [{"id": "10001"}, {"id": "10000"}], "isLast": True}


def test_search_jql_post_with_fields_and_properties(jira_cloud: JiraSandbox) -> None:
    seed_issues(jira_cloud, 3)
    page = jira_cloud.session().post(f"{jira_cloud.rest}/search/jql", json={
        "jql": "labels in (n0, n2) ORDER BY key DESC",
        "fields": ["summary", "status"],
        "properties": ["hubsync.finding"],
        "maxResults": 10,
    }).json()
    assert [(i["key"], i["fields"]["summary"], i["properties"]) for i in page["issues"]] == [
        ("SEC-3", "issue 2", {"hubsync.finding": {"n": 2}}),
        ("SEC-1", "issue 0", {"hubsync.finding": {"n": 0}}),
    ]
    assert set(page["issues"][0]["fields"]) == {"summary", "status"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"jql": ""}, UNBOUNDED),
        ({"jql": "order by created DESC"}, UNBOUNDED),
        ({"jql": "project = SEC AND"}, "Error in the JQL Query: Expecting a field name but reached the end"),
        ({"jql": "project = NOPE"}, "The value 'NOPE' does not exist for the field 'project'."),
        ({"jql": "project = SEC", "nextPageToken": "forged"}, "The provided next page token is invalid"),
    ],
)
def test_search_jql_refusals(jira_cloud: JiraSandbox, params: dict, message: str) -> None:
    response = jira_cloud.session().get(f"{jira_cloud.rest}/search/jql", params=params)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]


def test_a_page_token_belongs_to_its_query(jira_cloud: JiraSandbox) -> None:
    seed_issues(jira_cloud, 3)
    bot = jira_cloud.session()
    first = bot.get(f"{jira_cloud.rest}/search/jql", params={"jql": "project = SEC", "maxResults": 1}).json()
    other = bot.get(f"{jira_cloud.rest}/search/jql",
                    params={"jql": "project = OPS", "nextPageToken": first["nextPageToken"]})
    assert other.status_code == 400


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_removed_search_answers_410_on_cloud(jira_cloud: JiraSandbox, version: str, method: str) -> None:
    response = jira_cloud.session().request(
        method, f"{jira_cloud.url}/rest/api/{version}/search", params={"jql": "project = SEC"},
        json={"jql": "project = SEC"} if method == "POST" else None,
    )
    assert response.status_code == 410
    assert response.json() == {"errorMessages": [REMOVED_API], "errors": {}}


def test_data_center_search_pages_with_start_at_and_total(jira_dc: JiraSandbox) -> None:
    seed_issues(jira_dc, 5)
    seed_issues(jira_dc, 1, project="OPS")
    bot = jira_dc.session()
    page = bot.get(f"{jira_dc.rest}/search",
                   params={"jql": "project = SEC ORDER BY key", "startAt": 2, "maxResults": 2}).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (2, 2, 5)
    assert [issue["key"] for issue in page["issues"]] == ["SEC-3", "SEC-4"]
    assert "summary" in page["issues"][0]["fields"]  # default fields: *navigable

    posted = bot.post(f"{jira_dc.rest}/search", json={"jql": "", "fields": ["labels"], "maxResults": 10}).json()
    assert posted["total"] == 6  # Data Center accepts unbounded JQL
    assert set(posted["issues"][0]["fields"]) == {"labels"}

    bad = bot.get(f"{jira_dc.rest}/search", params={"jql": "project = = SEC"})
    assert bad.status_code == 400
    assert jira_dc.session().get(f"{jira_dc.rest}/search/jql", params={"jql": "project = SEC"}).status_code == 404


def test_new_issues_stay_out_of_search_for_the_consistency_delay(jira_cloud: JiraSandbox) -> None:
    assert jira_cloud.control("POST", "search-consistency", json={"delay_ms": 300}).status_code == 200
    assert jira_cloud.control("GET", "search-consistency").json() == {"delay_ms": 300}
    seed_issues(jira_cloud, 1)
    bot = jira_cloud.session()

    def found(**extra: object) -> list[str]:
        page = bot.post(f"{jira_cloud.rest}/search/jql", json={"jql": "project = SEC", **extra}).json()
        return [issue["id"] for issue in page["issues"]]

    assert found() == []
    assert bot.get(f"{jira_cloud.rest}/issue/SEC-1").status_code == 200  # reads by key are consistent
    assert found(reconcileIssues=[10000]) == ["10000"]  # read-after-write for the issues named
    assert jira_cloud.world.search_keys("project = SEC") == ["SEC-1"]  # the in-process view ignores the delay
    time.sleep(0.35)
    assert found() == ["10000"]


@pytest.mark.parametrize("body", [{"delay_ms": -1}, {"delay_ms": "5"}, {}, None])
def test_consistency_knob_refuses_bad_values(jira_cloud: JiraSandbox, body: object) -> None:
    response = requests.post(f"{jira_cloud.url}/_sandbox/search-consistency", json=body, timeout=5)
    assert response.status_code == 400
