"""Issue operations over REST in both flavours: create (single, bulk), get, edit, transitions, comments,
properties, remote links, delete, and the webhook payloads the world emits for them."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hubsync_sandbox.jira import adf
from tests.fixtures.jira import JiraSandbox

NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


def rich(sandbox: JiraSandbox, text: str) -> Any:
    """Rich text as the flavour takes it: ADF on Cloud v3, wiki text on Data Center."""
    return adf.document(text) if sandbox.flavour == "cloud" else text


def user_ref(sandbox: JiraSandbox, login: str) -> dict[str, str]:
    user = sandbox.world.user_by_name(login)
    assert user is not None
    return {"accountId": user.account_id} if sandbox.flavour == "cloud" else {"name": user.name}


def fields(sandbox: JiraSandbox, project: str = "SEC", **extra: Any) -> dict[str, Any]:
    return {"project": {"key": project}, "issuetype": {"name": "Bug"}, "summary": "S3 bucket is public",
            "description": rich(sandbox, "Bucket *logs* allows public read."), **extra}


def create(sandbox: JiraSandbox, session: requests.Session, **body: Any) -> str:
    body.setdefault("fields", fields(sandbox))
    response = session.post(f"{sandbox.rest}/issue", json=body)
    assert response.status_code == 201, response.text
    return response.json()["key"]


# -- create --------------------------------------------------------------------------------------------------


def test_create_with_properties_and_read_it_back(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    marker = {"findingId": "arn:aws:securityhub:eu-west-1:111122223333:finding/abc", "key": "0f3a"}
    created = bot.post(f"{jira_any.rest}/issue", json={
        "fields": fields(jira_any, labels=["hubsync-0f3a", "aws"], priority={"name": "High"},
                         assignee=user_ref(jira_any, "alice")),
        "properties": [{"key": "hubsync.finding", "value": marker}],
    })
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "SEC-1"
    assert created.json()["self"] == f"{jira_any.rest}/issue/{created.json()['id']}"

    issue = bot.get(f"{jira_any.rest}/issue/SEC-1", params={"properties": "hubsync.finding"}).json()
    assert issue["properties"] == {"hubsync.finding": marker}
    shown = issue["fields"]
    assert shown["summary"] == "S3 bucket is public"
    assert shown["description"] == rich(jira_any, "Bucket *logs* allows public read.")
    assert shown["labels"] == ["hubsync-0f3a", "aws"]
    assert (shown["priority"]["id"], shown["priority"]["name"]) == ("2", "High")
    assert shown["status"]["name"] == "Open"
    assert shown["status"]["statusCategory"]["key"] == "new"
    assert shown["assignee"]["displayName"] == "Alice Developer"
    assert shown["reporter"]["displayName"] == "hubsync bot"
    assert shown["resolution"] is None


def test_get_selects_fields_and_properties(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot, properties=[{"key": "a", "value": 1}, {"key": "b", "value": [2]}])
    issue = bot.get(f"{jira_any.rest}/issue/SEC-1", params={"fields": "summary,status", "properties": "*all"})
    assert set(issue.json()["fields"]) == {"summary", "status"}
    assert issue.json()["properties"] == {"a": 1, "b": [2]}
    by_id = bot.get(f"{jira_any.rest}/issue/{issue.json()['id']}", params={"fields": "*all,-comment"}).json()
    assert by_id["key"] == "SEC-1"
    assert "comment" not in by_id["fields"] and "labels" in by_id["fields"]
    assert "properties" not in by_id


def test_description_must_be_adf_on_cloud(jira_cloud: JiraSandbox) -> None:
    response = jira_cloud.session().post(
        f"{jira_cloud.rest}/issue", json={"fields": fields(jira_cloud, description="plain text")}
    )
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": {"description": adf.NOT_A_DOCUMENT}}


def test_description_must_be_wiki_text_on_data_center(jira_dc: JiraSandbox) -> None:
    response = jira_dc.session().post(
        f"{jira_dc.rest}/issue", json={"fields": fields(jira_dc, description=adf.document("x"))}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"description": "Operation value must be a string"}


def test_users_are_named_by_account_id_on_cloud_and_by_name_on_data_center(jira_any: JiraSandbox) -> None:
    wrong = {"name": "alice"} if jira_any.flavour == "cloud" else {"accountId": "5d8f2a7c41e3b90c0a7e6d21"}
    response = jira_any.session().post(f"{jira_any.rest}/issue", json={"fields": fields(jira_any, assignee=wrong)})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"assignee"}


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"summary": ""}, {"summary": "You must specify a summary of the issue."}),
        ({"project": {"key": "NOPE"}}, {"project": "Specify a valid project ID or key"}),
        ({"resolution": {"name": "Done"}}, {"resolution": NOT_ON_SCREEN.format("resolution")}),
        ({"labels": ["has space"]}, {"labels": "The label 'has space' contains spaces which is invalid."}),
        ({"priority": {"name": "Urgent"}}, {"priority": "Specify a valid 'priority' name"}),
    ],
)
def test_create_refusals_name_the_field(jira_any: JiraSandbox, change: dict, errors: dict) -> None:
    response = jira_any.session().post(f"{jira_any.rest}/issue", json={"fields": fields(jira_any, **change)})
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": errors}


def test_bulk_create_reports_each_failed_element(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    updates = [
        {"fields": fields(jira_any), "properties": [{"key": "hubsync.finding", "value": {"n": 0}}]},
        {"fields": fields(jira_any, "OPS")},
        {"fields": fields(jira_any, summary="")},
    ]
    response = bot.post(f"{jira_any.rest}/issue/bulk", json={"issueUpdates": updates})
    assert response.status_code == 201
    assert [issue["key"] for issue in response.json()["issues"]] == ["SEC-1", "OPS-1"]
    (error,) = response.json()["errors"]
    assert (error["failedElementNumber"], error["status"]) == (2, 400)
    assert error["elementErrors"]["errors"] == {"summary": "You must specify a summary of the issue."}
    assert jira_any.world.get_property("SEC-1", "hubsync.finding") == {"n": 0}


def test_bulk_create_is_400_when_all_fail_or_too_many(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    all_bad = bot.post(f"{jira_any.rest}/issue/bulk", json={"issueUpdates": [{"fields": {}}, {"fields": {}}]})
    assert all_bad.status_code == 400
    assert all_bad.json()["issues"] == []
    assert [e["failedElementNumber"] for e in all_bad.json()["errors"]] == [0, 1]

    too_many = bot.post(f"{jira_any.rest}/issue/bulk", json={"issueUpdates": [{"fields": fields(jira_any)}] * 51})
    assert too_many.status_code == 400
    assert jira_any.world.issues == {}


# -- get, edit, delete ---------------------------------------------------------------------------------------


def test_missing_issue_is_404(jira_any: JiraSandbox) -> None:
    response = jira_any.session().get(f"{jira_any.rest}/issue/SEC-404")
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {},
    }


def test_edit_sets_fields_and_applies_label_operations(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot, fields=fields(jira_any, labels=["a", "b"]))
    edit = bot.put(f"{jira_any.rest}/issue/SEC-1", json={
        "fields": {"summary": "S3 bucket is public (2 buckets)", "priority": {"id": "1"}},
        "update": {"labels": [{"add": "c"}, {"remove": "a"}]},
    })
    assert edit.status_code == 204, edit.text
    shown = bot.get(f"{jira_any.rest}/issue/SEC-1", params={"fields": "summary,labels,priority"}).json()["fields"]
    assert shown["summary"] == "S3 bucket is public (2 buckets)"
    assert shown["labels"] == ["b", "c"]
    assert shown["priority"]["name"] == "Highest"


@pytest.mark.parametrize("field", ["resolution", "status", "project", "customfield_10010"])
def test_edit_refuses_fields_not_on_the_edit_screen(jira_any: JiraSandbox, field: str) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    response = bot.put(f"{jira_any.rest}/issue/SEC-1", json={"fields": {field: {"name": "Done"}}})
    assert response.status_code == 400
    assert response.json()["errors"] == {field: NOT_ON_SCREEN.format(field)}


def test_delete_removes_the_issue(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    assert bot.delete(f"{jira_any.rest}/issue/SEC-1").status_code == 204
    assert bot.get(f"{jira_any.rest}/issue/SEC-1").status_code == 404
    assert bot.delete(f"{jira_any.rest}/issue/SEC-1").status_code == 404


# -- transitions ---------------------------------------------------------------------------------------------


def transition_names(sandbox: JiraSandbox, session: requests.Session, key: str) -> dict[str, str]:
    listed = session.get(f"{sandbox.rest}/issue/{key}/transitions").json()["transitions"]
    return {t["id"]: f"{t['name']} -> {t['to']['name']} ({t['to']['statusCategory']['key']})" for t in listed}


def test_risk_workflow_transitions_and_resolution(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    assert transition_names(jira_any, bot, "SEC-1") == {
        "11": "Mark as false positive -> Marked as false positive (indeterminate)",
        "81": "Allocate for fix -> Allocated for fix (indeterminate)",
        "101": "Request risk acceptance -> Request risk acceptance (indeterminate)",
    }
    for transition_id in ("81", "51"):
        done = bot.post(f"{jira_any.rest}/issue/SEC-1/transitions", json={"transition": {"id": transition_id}})
        assert done.status_code == 204, done.text
    resolve = bot.post(f"{jira_any.rest}/issue/SEC-1/transitions", json={
        "transition": {"id": "61"},
        "fields": {"resolution": {"name": "Fixed"}},
        "update": {"comment": [{"add": {"body": rich(jira_any, "Resolved by hubsync")}}]},
    })
    assert resolve.status_code == 204, resolve.text
    shown = bot.get(f"{jira_any.rest}/issue/SEC-1", params={"fields": "status,resolution,resolutiondate,comment"})
    shown_fields = shown.json()["fields"]
    assert shown_fields["status"]["name"] == "Resolved"
    assert shown_fields["status"]["statusCategory"]["key"] == "done"
    assert shown_fields["resolution"]["name"] == "Fixed"
    assert shown_fields["resolutiondate"] is not None
    assert shown_fields["comment"]["comments"][0]["body"] == rich(jira_any, "Resolved by hubsync")

    assert transition_names(jira_any, bot, "SEC-1") == {"41": "Reopen -> Allocated for fix (indeterminate)"}
    bot.post(f"{jira_any.rest}/issue/SEC-1/transitions", json={"transition": {"id": "41"}})
    reopened = bot.get(f"{jira_any.rest}/issue/SEC-1", params={"fields": "resolution"}).json()["fields"]
    assert reopened["resolution"] is None


def test_a_transition_into_done_sets_the_default_resolution(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot, fields=fields(jira_any, "OPS"))
    assert set(transition_names(jira_any, bot, "OPS-1")) == {"21", "31"}  # global transitions, not to To Do
    bot.post(f"{jira_any.rest}/issue/OPS-1/transitions", json={"transition": {"id": "31"}})
    shown = bot.get(f"{jira_any.rest}/issue/OPS-1", params={"fields": "status,resolution"}).json()["fields"]
    assert (shown["status"]["name"], shown["resolution"]["name"]) == ("Done", "Done")


def test_transition_screen_fields_are_listed_with_expand(jira_cloud: JiraSandbox) -> None:
    bot = jira_cloud.session()
    create(jira_cloud, bot, fields=fields(jira_cloud, "OPS"))
    listed = bot.get(f"{jira_cloud.rest}/issue/OPS-1/transitions", params={"expand": "transitions.fields"})
    by_id = {t["id"]: t for t in listed.json()["transitions"]}
    assert by_id["31"]["hasScreen"] and "resolution" in by_id["31"]["fields"]
    assert not by_id["21"]["hasScreen"] and by_id["21"]["fields"] == {}
    every = bot.get(f"{jira_cloud.rest}/issue/OPS-1/transitions", params={"includeUnavailableTransitions": "true"})
    assert {t["id"]: t["isAvailable"] for t in every.json()["transitions"]} == {"11": False, "21": True, "31": True}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"transition": {"id": "61"}}, {"errorMessages": ["Transition id '61' is not valid for this issue."],
                                        "errors": {}}),
        ({"transition": {"id": "81"}, "fields": {"resolution": {"name": "Fixed"}}},
         {"errorMessages": [], "errors": {"resolution": NOT_ON_SCREEN.format("resolution")}}),
        ({}, {"errorMessages": ["Missing 'transition' identifier"], "errors": {}}),
    ],
)
def test_transition_refusals(jira_any: JiraSandbox, body: dict, expected: dict) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    response = bot.post(f"{jira_any.rest}/issue/SEC-1/transitions", json=body)
    assert response.status_code == 400
    assert response.json() == expected
    assert jira_any.world.get_issue("SEC-1").status.name == "Open"


def test_transition_on_a_missing_issue_is_404(jira_any: JiraSandbox) -> None:
    response = jira_any.session().post(f"{jira_any.rest}/issue/SEC-9/transitions", json={"transition": {"id": "81"}})
    assert response.status_code == 404


# -- comments ------------------------------------------------------------------------------------------------


def test_comments_are_added_and_listed(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    for text in ("first", "second"):
        added = bot.post(f"{jira_any.rest}/issue/SEC-1/comment", json={"body": rich(jira_any, text)})
        assert added.status_code == 201
        assert added.json()["body"] == rich(jira_any, text)
        assert added.json()["author"]["displayName"] == "hubsync bot"
    page = bot.get(f"{jira_any.rest}/issue/SEC-1/comment", params={"orderBy": "-created", "maxResults": 1}).json()
    assert page["total"] == 2
    assert page["maxResults"] == 1
    assert [c["body"] for c in page["comments"]] == [rich(jira_any, "second")]


def test_comment_body_format_is_checked(jira_any: JiraSandbox) -> None:
    wrong = "plain" if jira_any.flavour == "cloud" else adf.document("adf")
    bot = jira_any.session()
    create(jira_any, bot)
    response = bot.post(f"{jira_any.rest}/issue/SEC-1/comment", json={"body": wrong})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"comment"}


# -- issue properties ----------------------------------------------------------------------------------------


def test_issue_property_lifecycle(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    url = f"{jira_any.rest}/issue/SEC-1/properties/hubsync.finding"
    assert bot.get(url).status_code == 404
    assert bot.put(url, json={"id": "f1"}).status_code == 201
    assert bot.put(url, json={"id": "f1", "rev": 2}).status_code == 200
    assert bot.get(url).json() == {"key": "hubsync.finding", "value": {"id": "f1", "rev": 2}}
    keys = bot.get(f"{jira_any.rest}/issue/SEC-1/properties").json()["keys"]
    assert [k["key"] for k in keys] == ["hubsync.finding"]
    assert bot.delete(url).status_code == 204
    assert bot.get(url).status_code == 404
    assert bot.put(f"{jira_any.rest}/issue/SEC-1/properties/big", json={"v": "x" * 40000}).status_code == 400


# -- remote links --------------------------------------------------------------------------------------------


def test_remote_links_are_idempotent_on_global_id(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    url = f"{jira_any.rest}/issue/SEC-1/remotelink"
    link = {"globalId": "securityhub:finding:0f3a", "relationship": "tracks",
            "object": {"url": "https://console.aws.amazon.com/securityhub/f1", "title": "Finding f1"}}
    first = bot.post(url, json=link)
    assert first.status_code == (201 if jira_any.flavour == "cloud" else 200)
    again = bot.post(url, json={**link, "object": {**link["object"], "title": "Finding f1 (resolved)"}})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]

    listed = bot.get(url).json()
    assert [(item["globalId"], item["object"]["title"]) for item in listed] == [
        ("securityhub:finding:0f3a", "Finding f1 (resolved)"),
    ]
    one = bot.get(url, params={"globalId": "securityhub:finding:0f3a"}).json()
    assert one["id"] == first.json()["id"]
    assert bot.get(f"{url}/{first.json()['id']}").json()["relationship"] == "tracks"
    assert bot.get(url, params={"globalId": "other"}).status_code == 404

    assert bot.delete(url).status_code == (400 if jira_any.flavour == "cloud" else 404)  # globalId required
    assert bot.delete(url, params={"globalId": "securityhub:finding:0f3a"}).status_code == 204
    assert bot.get(url).json() == []


def test_remote_link_needs_url_and_title(jira_any: JiraSandbox) -> None:
    bot = jira_any.session()
    create(jira_any, bot)
    response = bot.post(f"{jira_any.rest}/issue/SEC-1/remotelink", json={"object": {"url": "https://x"}})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title"}


# -- webhook payloads ----------------------------------------------------------------------------------------


def test_listeners_get_webhook_payloads_with_changelog(jira_any: JiraSandbox) -> None:
    events: list[dict[str, Any]] = []
    jira_any.world.listeners.append(events.append)
    bot = jira_any.session()
    create(jira_any, bot, properties=[{"key": "hubsync.finding", "value": {"id": "f1"}}])
    bot.post(f"{jira_any.rest}/issue/SEC-1/transitions", json={"transition": {"id": "81"}})
    bot.delete(f"{jira_any.rest}/issue/SEC-1")

    assert [e["webhookEvent"] for e in events] == ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
    created, updated, _deleted = events
    assert created["issue"]["properties"] == [{"key": "hubsync.finding", "value": {"id": "f1"}}]
    assert "changelog" not in created
    assert updated["issue_event_type_name"] == "issue_generic"
    assert updated["issue"]["fields"]["status"]["name"] == "Allocated for fix"
    (item,) = updated["changelog"]["items"]
    assert (item["field"], item["from"], item["fromString"], item["to"], item["toString"]) == (
        "status", "1", "Open", "10006", "Allocated for fix",
    )
    bot_user = jira_any.world.user_by_name("hubsync-bot")
    if jira_any.flavour == "cloud":
        assert updated["user"]["accountId"] == bot_user.account_id
    else:
        assert (updated["user"]["name"], updated["user"]["key"]) == ("hubsync-bot", "hubsync-bot")
