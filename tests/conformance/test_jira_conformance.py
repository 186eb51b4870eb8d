"""The Jira simulator against Atlassian's OpenAPI documents: a tour of every REST route it serves, in both
flavours, with success and error answers, all checked; and proof that the checker does catch mismatches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from hubsync_sandbox.jira import adf, seed
from tests.conformance.jira_openapi import CORRECTIONS, JiraContract
from tests.fixtures.jira import JiraSandbox


@pytest.fixture(params=["cloud", "datacenter"])
def checked_jira(request: pytest.FixtureRequest, specs_dir: Path, jira_sandbox: Callable[..., JiraSandbox]):
    return jira_sandbox(request.param)


def tour(sandbox: JiraSandbox) -> None:
    """Call every route the simulator serves at least once, with good and bad requests."""
    cloud = sandbox.flavour == "cloud"
    bot = sandbox.session()
    rest = sandbox.rest
    text = adf.document("text") if cloud else "text"
    alice = {"accountId": "5d8f2a7c41e3b90c0a7e6d21"} if cloud else {"name": "alice"}
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": "s", "description": text,
              "labels": ["a"], "priority": {"name": "High"}, "assignee": alice}

    def call(method: str, path: str, **kwargs: object) -> requests.Response:
        return bot.request(method, f"{rest}{path}", **kwargs)  # type: ignore[arg-type]

    call("POST", "/issue", json={"fields": fields, "properties": [{"key": "p", "value": {"a": 1}}]})
    call("POST", "/issue", json={"fields": {**fields, "resolution": {"name": "Done"}}})
    call("POST", "/issue", data="{not json", headers={"Content-Type": "application/json"})
    call("POST", "/issue/bulk", json={"issueUpdates": [{"fields": {**fields, "summary": "t"}}, {"fields": {}}]})
    call("POST", "/issue/bulk", json={"issueUpdates": [{"fields": {}}]})
    call("GET", "/issue/SEC-1", params={"properties": "*all", "fields": "*all"})
    call("GET", "/issue/SEC-99")
    call("PUT", "/issue/SEC-1", json={"fields": {"summary": "z"}, "update": {"labels": [{"add": "b"}]}})
    call("PUT", "/issue/SEC-1", json={"fields": {"resolution": {"name": "Done"}}})
    if cloud:
        call("PUT", "/issue/SEC-1", params={"returnIssue": "true"}, json={"fields": {"summary": "y"}})
    call("GET", "/issue/SEC-1/transitions", params={"expand": "transitions.fields"})
    call("POST", "/issue/SEC-1/transitions", json={"transition": {"id": "81"}})
    call("POST", "/issue/SEC-1/transitions", json={"transition": {"id": "999"}})
    call("POST", "/issue/SEC-99/transitions", json={"transition": {"id": "81"}})
    call("POST", "/issue/SEC-1/comment", json={"body": text})
    call("POST", "/issue/SEC-1/comment", json={"body": 5})
    call("GET", "/issue/SEC-1/comment")
    call("PUT", "/issue/SEC-1/properties/k", json={"x": 1})
    call("PUT", "/issue/SEC-1/properties/k", json={"x": 2})
    call("GET", "/issue/SEC-1/properties/k")
    call("GET", "/issue/SEC-1/properties")
    call("DELETE", "/issue/SEC-1/properties/k")
    call("GET", "/issue/SEC-1/properties/k")
    link = {"globalId": "g1", "application": {"type": "aws", "name": "Security Hub"},
            "object": {"url": "https://a.example", "title": "t", "status": {"resolved": False}}}
    call("POST", "/issue/SEC-1/remotelink", json=link)
    call("POST", "/issue/SEC-1/remotelink", json=link)
    call("POST", "/issue/SEC-1/remotelink", json={"object": {"url": "https://b.example"}})
    call("GET", "/issue/SEC-1/remotelink")
    call("GET", "/issue/SEC-1/remotelink", params={"globalId": "g1"})
    call("GET", "/issue/SEC-1/remotelink/10000")
    call("GET", "/issue/SEC-1/remotelink/999")
    call("DELETE", "/issue/SEC-1/remotelink")
    call("DELETE", "/issue/SEC-1/remotelink", params={"globalId": "g1"})
    call("POST", "/issue/SEC-1/remotelink", json=link)
    call("DELETE", "/issue/SEC-1/remotelink/10001")
    query = "query" if cloud else "username"
    call("GET", "/user/assignable/search", params={"project": "SEC", query: "a"})
    call("GET", "/user/assignable/search", params={"issueKey": "SEC-1"})
    call("GET", "/user/search", params={query: "a"})
    call("GET", "/user", params={"accountId": alice["accountId"]} if cloud else {"username": "alice"})
    call("GET", "/user", params={"accountId": "nobody"} if cloud else {"username": "nobody"})
    call("GET", "/myself")
    call("GET", "/project/SEC")
    call("GET", "/project/NOPE")
    call("GET", "/project/SEC/statuses")
    if cloud:
        call("GET", "/project/search", params={"query": "sec", "maxResults": 1})
    else:
        call("GET", "/project")
    call("GET", "/issue/createmeta/SEC/issuetypes")
    call("GET", "/issue/createmeta/SEC/issuetypes/10002")
    for listing in ("/status", "/statuscategory", "/priority", "/resolution", "/issuetype", "/serverInfo"):
        call("GET", listing)
    if cloud:
        call("GET", "/search/jql", params={"jql": "project = SEC", "fields": "summary,status", "maxResults": 1})
        call("POST", "/search/jql", json={"jql": "project = SEC", "fields": ["*all"], "properties": ["p"]})
        call("GET", "/search/jql", params={"jql": "order by key"})
        call("POST", "/permissions/check", json={"globalPermissions": ["ADMINISTER"]})
        call("POST", "/permissions/check", json={"accountId": alice["accountId"], "globalPermissions": ["ADMINISTER"]})
        call("POST", "/permissions/check", json={"globalPermissions": ["NOT_A_PERMISSION"]})
        for version in ("2", "3"):
            bot.get(f"{sandbox.url}/rest/api/{version}/search")
            bot.post(f"{sandbox.url}/rest/api/{version}/search", json={"jql": "project = SEC"})
            bot.post(f"{sandbox.url}/rest/api/{version}/search/id", json={"jql": "project = SEC"})
            bot.post(f"{sandbox.url}/rest/api/{version}/expression/eval", json={"expression": "1"})
        _workflow_administration(sandbox)
    else:
        call("GET", "/search", params={"jql": "project = SEC"})
        call("POST", "/search", json={"jql": "project = SEC", "startAt": 0, "maxResults": 1, "fields": ["summary"]})
        call("GET", "/search", params={"jql": "project = = SEC"})
    _admin_webhooks(sandbox)
    call("DELETE", "/issue/SEC-1")
    sandbox.anonymous().get(f"{rest}/myself")
    sandbox.control("POST", "faults", json={"status": 429, "retry_after": 1, "count": 1})
    call("GET", "/myself")
    sandbox.control("POST", "faults", json={"status": 503, "count": 1})
    call("GET", "/priority")


def _admin_webhooks(sandbox: JiraSandbox) -> None:
    """Admin webhooks in each dialect the site serves, as its Jira administrator and as the bot, which is none:
    Cloud's /rest/webhooks/1.0/webhook; Data Center 10's /rest/jira-webhook/1.0/webhooks, then, on 9.12, the old
    path."""
    admin = sandbox.anonymous()
    if sandbox.flavour == "cloud":
        admin.auth = (seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
    else:
        admin.headers["Authorization"] = f"Bearer {seed.SANDBOX_JIRA_ADMIN_PAT}"
    legacy = {"name": "hubsync", "url": "https://hubsync.example/webhooks/jira/1", "events": ["jira:issue_updated"],
              "filters": {"issue-related-events-section": "labels in (hubsync)"}, "excludeBody": False}
    dc10 = {"name": "hubsync", "url": "https://hubsync.example/webhooks/jira/1", "events": ["jira:issue_updated"],
            "active": True, "configuration": {"FILTERS": "labels in (hubsync)", "EXCLUDE_BODY": "false",
                                              "SECRET": "s3cret"}}

    def crud(path: str, body: dict[str, object]) -> None:
        collection = f"{sandbox.url}{path}"
        sandbox.session().get(collection)  # 403: not an administrator
        admin.post(collection, json={**body, "url": "nowhere"})  # 400
        admin.post(collection, json=body)
        admin.get(collection)
        item = admin.get(collection).json()[-1]
        one = item["self"] if "self" in item else f"{collection}/{item['id']}"
        admin.get(one)
        admin.put(one, json={**body, "name": "hubsync renamed"})
        admin.delete(one)
        admin.get(one)  # 404

    if sandbox.flavour == "cloud":
        crud("/rest/webhooks/1.0/webhook", {**legacy, "secret": "s3cret"})
        return
    crud("/rest/jira-webhook/1.0/webhooks", dc10)
    admin.get(f"{sandbox.url}/rest/webhooks/1.0/webhook")  # 404 on 10.x
    sandbox.control("POST", "server-version", json={"version": "9.12.0"})
    crud("/rest/webhooks/1.0/webhook", legacy)
    sandbox.control("POST", "server-version", json={"version": "10.3.6"})


def _workflow_administration(sandbox: JiraSandbox) -> None:
    """Cloud's workflow administration (what `hubsync jira setup-workflow` calls), as a Jira administrator and as
    the bot, which is none: statuses, a workflow validated then created, a scheme, OPS switched onto it."""
    admin = sandbox.anonymous()
    admin.auth = (seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
    bot, rest = sandbox.session(), sandbox.rest
    bot.get(f"{rest}/statuses/search", params={"searchString": "open"})  # 403: not an administrator
    admin.get(f"{rest}/statuses/search", params={"searchString": "open", "maxResults": 2})
    admin.get(f"{rest}/statuses/byNames", params={"name": ["Open", "Nope"]})
    created = admin.post(f"{rest}/statuses", json={"scope": {"type": "GLOBAL"},
                                                   "statuses": [{"name": "Parked", "statusCategory": "TODO"}]})
    admin.post(f"{rest}/statuses", json={"scope": {"type": "GLOBAL"},
                                         "statuses": [{"name": "Parked", "statusCategory": "TODO"}]})  # 400: taken
    parked = created.json()[0]["id"]
    done = next(s["id"] for s in admin.get(f"{rest}/status").json() if s["name"] == "Done")
    payload = {
        "scope": {"type": "GLOBAL"},
        "statuses": [{"statusReference": parked, "id": parked, "name": "Parked", "statusCategory": "TODO"},
                     {"statusReference": done, "id": done, "name": "Done", "statusCategory": "DONE"}],
        "workflows": [{
            "name": "Tour workflow",
            "statuses": [{"statusReference": parked, "properties": {}}, {"statusReference": done, "properties": {}}],
            "transitions": [
                {"id": "1", "name": "Create", "type": "INITIAL", "toStatusReference": parked, "links": []},
                {"id": "11", "name": "Finish", "type": "DIRECTED", "toStatusReference": done,
                 "links": [{"fromStatusReference": parked}]},
                {"id": "21", "name": "Park", "type": "GLOBAL", "toStatusReference": parked, "links": []},
            ],
        }],
    }
    admin.post(f"{rest}/workflows/create/validation", json={"payload": payload})
    admin.post(f"{rest}/workflows/create/validation", json={"payload": {**payload, "workflows": [
        {**payload["workflows"][0], "transitions": payload["workflows"][0]["transitions"][1:]}]}})  # no INITIAL
    admin.post(f"{rest}/workflows/create", json=payload)
    admin.post(f"{rest}/workflows/create", json=payload)  # 400: the name is taken
    admin.get(f"{rest}/workflows/search", params={"queryString": "Tour", "expand": "values.transitions"})
    scheme = admin.post(f"{rest}/workflowscheme", json={"name": "Tour scheme", "defaultWorkflow": "Tour workflow"})
    admin.post(f"{rest}/workflowscheme", json={"name": "Tour scheme", "defaultWorkflow": "Tour workflow"})  # 400
    admin.get(f"{rest}/workflowscheme", params={"maxResults": 1})
    admin.get(f"{rest}/workflowscheme/{scheme.json()['id']}")
    admin.get(f"{rest}/workflowscheme/99999")
    admin.get(f"{rest}/workflowscheme/project", params={"projectId": "10001"})
    admin.get(f"{rest}/workflowscheme/project")  # 400: no project
    switch = {"projectId": "10001", "targetSchemeId": str(scheme.json()["id"])}
    admin.post(f"{rest}/workflowscheme/project/switch", json=switch, allow_redirects=False)  # OPS has no issues
    task = admin.post(f"{rest}/workflowscheme/project/switch", json=switch, allow_redirects=False)
    admin.get(f"{rest}/task/{task.json()['id']}")
    bot.get(f"{rest}/task/{task.json()['id']}")  # 403: neither the submitter nor an administrator


def test_every_served_route_conforms(checked_jira: JiraSandbox) -> None:
    checked_jira.control("DELETE", "counters")
    tour(checked_jira)
    served = {
        f"{method} {rule.rule}"
        for rule in checked_jira.app.url_map.iter_rules()
        if rule.rule.startswith("/rest/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served - set(checked_jira.control("GET", "counters").json()) == set()  # the tour missed none
    assert checked_jira.checker is not None
    assert checked_jira.checker.mismatches == []


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_the_checker_catches_mismatches(specs_dir: Path, flavour: str) -> None:
    contract = JiraContract.load(specs_dir, flavour)  # type: ignore[arg-type]
    rest = "/rest/api/3" if flavour == "cloud" else "/rest/api/2"

    def check(method: str, path: str, status: int, body: object, request_body: object = None) -> list[str]:
        sent = json.dumps(request_body).encode() if request_body is not None else b""
        return contract.mismatches(method, rest + path, sent, "application/json", status,
                                   json.dumps(body).encode(), "application/json")

    created = {"id": "10000", "key": "SEC-1", "self": "http://x/rest/issue/10000"}
    assert check("POST", "/issue", 201, created, {"fields": {"summary": "s"}}) == []
    assert check("POST", "/issue", 201, {**created, "id": 10000}) == [
        f"POST {rest}/issue 201: 10000 is not of type 'string' (at id)",
    ]
    assert check("POST", "/issue", 201, created, {"fields": []}) == [
        f"POST {rest}/issue 201 request body: [] is not of type 'object' (at fields)",
    ]
    assert check("GET", "/issue/SEC-1", 418, {}) == [f"GET {rest}/issue/SEC-1 418: Unknown response http status: 418"]
    assert check("POST", "/issue", 401, {"errorMessages": ["Unauthorized"], "errors": {}}) == []
    assert check("POST", "/issue", 401, {"message": "Unauthorized"}) != []  # not Jira's error shape
    assert check("GET", "/nowhere", 200, {}) == [f"GET {rest}/nowhere 200: the document has no operation GET "
                                                 f"{rest}/nowhere"]
    assert check("GET", "/priority", 200, [{"id": 1}]) == [f"GET {rest}/priority 200: 1 is not of type 'string' "
                                                           "(at 0/id)"]
    if flavour == "datacenter":  # no webhook path in the document: Jira 10's are held to its RestWebhook model
        webhooks = "/rest/jira-webhook/1.0/webhooks"
        sent = json.dumps({"name": "h", "url": "https://x", "configuration": {"FILTERS": "labels = a"}}).encode()
        answer = {"id": 1, "name": "h", "url": "https://x", "active": True, "configuration": {"FILTERS": "x"}}
        assert contract.mismatches("POST", webhooks, sent, "application/json", 201, json.dumps(answer).encode(),
                                   "application/json") == []
        assert contract.mismatches("GET", webhooks, b"", "", 200, json.dumps([{**answer, "active": "yes"}]).encode(),
                                   "application/json") == [f"GET {webhooks} 200 answer: 'yes' is not of type "
                                                           "'boolean' (at active)"]
        assert contract.mismatches("GET", f"{webhooks}/9", b"", "", 404, b'{"message": "no"}',
                                   "application/json") != []  # not Jira's error shape
    if flavour == "cloud":  # Jira's own timestamps pass the date-time check, other strings do not
        jira_time = "2026-01-31T09:15:00.000+0000"
        assert check("GET", "/issue/SEC-1/comment", 200, {"comments": [{"created": jira_time}]}) == []
        assert check("GET", "/issue/SEC-1/comment", 200, {"comments": [{"created": "yesterday"}]}) != []


def test_every_correction_gives_its_reason() -> None:
    for corrections in CORRECTIONS.values():
        for correction in corrections:
            assert len(correction.reason) > 40, correction.pointer
