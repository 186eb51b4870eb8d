"""Jira's admin webhooks on the simulated sites: registered through the REST dialect of the site (Cloud and Data
Center 9: /rest/webhooks/1.0/webhook; Data Center 10: /rest/jira-webhook/1.0/webhooks) by a Jira administrator
only, delivered to a receiving server on issue events, signed where the site signs, retried as Jira retries.
Every REST exchange is checked by the `jira_sandbox` fixture (error shapes; Data Center 10's RestWebhook model)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask, Response, request

from hubsync.adapters.jira import ConnectJwt
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.model import InstalledApp, Issue, User
from hubsync_sandbox.jira.world import JiraWorld
from tests.fixtures.jira import JiraSandbox

LEGACY = "/rest/webhooks/1.0/webhook"
DC10 = "/rest/jira-webhook/1.0/webhooks"
EVENTS = ["jira:issue_updated", "jira:issue_deleted"]
HUBSYNC_JQL = "labels in (hubsync)"
SECRET = "whsec-0123456789abcdef0123456789abcdef"
FAST_RETRIES = {"delays_ms": [10, 10, 10]}
APP_KEY = "com.example.hubsync"
SHARED_SECRET = "shared-secret-from-the-installed-callback-0123456789"


@dataclass
class Received:
    path: str  # query string included
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A server standing in for hubsync's delivery route: records every POST, answers the scripted statuses (then
    204)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(hit.body) for hit in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    server = BackgroundServer(app, name="webhook-receiver")
    got = Receiver(server.url)

    @app.post("/<path:path>")
    def receive(path: str) -> Response:
        with got.lock:
            got.received.append(Received(request.full_path.rstrip("?"), dict(request.headers), request.get_data()))
            status = got.answers.popleft() if got.answers else 204
        return Response(status=status)

    server.start()
    got.url = server.url
    yield got
    server.stop()


@pytest.fixture
def cloud(jira_sandbox: Callable[..., JiraSandbox]) -> JiraSandbox:
    return jira_sandbox("cloud")


@pytest.fixture
def dc10(jira_sandbox: Callable[..., JiraSandbox]) -> JiraSandbox:
    return jira_sandbox("datacenter")


@pytest.fixture
def dc9(jira_sandbox: Callable[..., JiraSandbox]) -> JiraSandbox:
    site = jira_sandbox("datacenter")
    assert site.control("POST", "server-version", json={"version": "9.12.0"}).status_code == 200
    return site


def admin(site: JiraSandbox) -> requests.Session:
    """Sofia, the site's Jira administrator: her API token on Cloud, her personal access token on Data Center."""
    session = site.anonymous()
    if site.flavour == "cloud":
        session.auth = (seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
    else:
        session.headers["Authorization"] = f"Bearer {seed.SANDBOX_JIRA_ADMIN_PAT}"
    return session


def legacy_body(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "hubsync Acme", "url": url, "events": EVENTS, "filters": {"issue-related-events-section":
                                                                                HUBSYNC_JQL},
            "excludeBody": False, **extra}


def dc10_body(url: str, **configuration: str) -> dict[str, Any]:
    return {"name": "hubsync Acme", "url": url, "events": EVENTS, "active": True,
            "configuration": {"FILTERS": HUBSYNC_JQL, "EXCLUDE_BODY": "false", **configuration}}


def person(site: JiraSandbox, name: str) -> User:
    user = site.world.user_by_name(name)
    assert user is not None
    return user


def new_issue(site: JiraSandbox, *labels: str) -> Issue:
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": "S3 bucket is public",
              "labels": list(labels)}
    return site.world.create_issue(fields, person(site, seed.SANDBOX_JIRA_USERNAME))


def edit(site: JiraSandbox, issue: Issue, summary: str) -> None:
    site.world.edit_issue(issue.key, {"summary": summary}, person(site, "alice"))


def deliveries(site: JiraSandbox) -> list[dict[str, Any]]:
    body = site.control("GET", "admin-webhooks/deliveries", params={"wait_ms": 10000}).json()
    assert body["idle"], "deliveries still pending after 10 s"
    return body["deliveries"]


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


# -- registration ---------------------------------------------------------------------------------------------


def test_cloud_registers_lists_reads_updates_and_deletes_without_ever_showing_the_secret(cloud: JiraSandbox) -> None:
    sofia = admin(cloud)

    created = sofia.post(f"{cloud.url}{LEGACY}", json=legacy_body("https://hubsync.example/webhooks/jira/7",
                                                                  secret=SECRET))

    assert created.status_code == 201
    hook = created.json()
    assert "id" not in hook and "secret" not in hook
    assert hook["self"] == f"{cloud.url}{LEGACY}/1"
    assert (hook["name"], hook["events"], hook["enabled"], hook["excludeBody"]) == ("hubsync Acme", EVENTS, True,
                                                                                  False)
    assert hook["filters"] == {"issue-related-events-section": HUBSYNC_JQL}
    assert sofia.get(f"{cloud.url}{LEGACY}").json() == [hook]
    assert sofia.get(hook["self"]).json() == hook
    updated = sofia.put(hook["self"], json=legacy_body("https://hubsync.example/webhooks/jira/7", name="renamed"))
    assert (updated.status_code, updated.json()["name"]) == (200, "renamed")
    assert "secret" not in updated.json()
    assert cloud.control("GET", "admin-webhooks/registered").json()[0]["signed"] is True  # a PUT without one keeps it
    assert sofia.delete(hook["self"]).status_code == 204
    assert sofia.get(hook["self"]).status_code == 404
    assert sofia.get(f"{cloud.url}{LEGACY}").json() == []


def test_data_center_10_registers_on_its_own_path_with_numeric_ids(dc10: JiraSandbox) -> None:
    sofia = admin(dc10)
    info = dc10.session().get(f"{dc10.rest}/serverInfo").json()
    assert (info["deploymentType"], info["versionNumbers"][0]) == ("Server", 10)

    created = sofia.post(f"{dc10.url}{DC10}", json=dc10_body("https://hubsync.example/webhooks/jira/7",
                                                             SECRET=SECRET))

    assert created.status_code == 201
    hook = created.json()
    assert hook["id"] == 1 and "self" not in hook
    assert hook["configuration"] == {"FILTERS": HUBSYNC_JQL, "EXCLUDE_BODY": "false"}  # SECRET never read back
    assert hook["active"] is True
    assert sofia.get(f"{dc10.url}{DC10}").json() == [hook]
    assert sofia.get(f"{dc10.url}{DC10}", params={"event": "jira:issue_created"}).json() == []
    second = sofia.post(f"{dc10.url}{DC10}", json=dc10_body("https://hubsync.example/webhooks/jira/8")).json()
    assert sofia.get(f"{dc10.url}{DC10}", params={"start": 1, "limit": 5}).json() == [second]
    assert sofia.get(f"{dc10.url}{DC10}", params={"start": 0, "limit": 1}).json() == [hook]
    assert sofia.delete(f"{dc10.url}{DC10}/{second['id']}").status_code == 204
    assert sofia.get(f"{dc10.url}{DC10}/1").json() == hook
    updated = sofia.put(f"{dc10.url}{DC10}/1", json={**dc10_body("https://hubsync.example/webhooks/jira/7"),
                                                      "active": False})
    assert (updated.status_code, updated.json()["active"]) == (200, False)
    assert sofia.delete(f"{dc10.url}{DC10}/1").status_code == 204
    assert sofia.get(f"{dc10.url}{DC10}/1").status_code == 404
    assert sofia.get(f"{dc10.url}{LEGACY}").status_code == 404  # the 9.x path is gone on 10


def test_data_center_9_registers_on_the_old_path_and_has_no_new_one(dc9: JiraSandbox) -> None:
    sofia = admin(dc9)
    info = dc9.session().get(f"{dc9.rest}/serverInfo").json()
    assert (info["version"], info["versionNumbers"], info["deploymentType"]) == ("9.12.0", [9, 12, 0], "Server")

    created = sofia.post(f"{dc9.url}{LEGACY}", json=legacy_body("https://hubsync.example/webhooks/jira/7/tok"))

    assert created.status_code == 201
    assert created.json()["self"] == f"{dc9.url}{LEGACY}/1" and "id" not in created.json()
    assert created.json()["lastUpdatedUser"] == "ssecurity"  # a Data Center user key
    assert sofia.get(f"{dc9.url}{LEGACY}/1").json() == created.json()
    assert sofia.delete(f"{dc9.url}{LEGACY}/1").status_code == 204
    assert sofia.post(f"{dc9.url}{DC10}", json=dc10_body("https://hubsync.example/x")).status_code == 404


@pytest.mark.parametrize("flavour, version, path", [("cloud", None, LEGACY), ("datacenter", "9.12.0", LEGACY),
                                                    ("datacenter", "10.3.6", DC10)])
def test_only_a_jira_administrator_manages_admin_webhooks(
    jira_sandbox: Callable[..., JiraSandbox], flavour: str, version: str | None, path: str
) -> None:
    site = jira_sandbox(flavour)
    if version:
        site.control("POST", "server-version", json={"version": version})
    body = legacy_body("https://x.example/h") if path == LEGACY else dc10_body("https://x.example/h")

    refused = [site.session().post(f"{site.url}{path}", json=body), site.session().get(f"{site.url}{path}")]
    anonymous = site.anonymous().get(f"{site.url}{path}")

    assert [answer.status_code for answer in refused] == [403, 403]
    assert refused[0].json()["errorMessages"] == [
        "You must be a Jira administrator (the Jira Administrators global permission) to manage webhooks."]
    assert anonymous.status_code == 401
    assert admin(site).get(f"{site.url}{path}").json() == []  # nothing was registered


def test_an_app_may_not_manage_admin_webhooks_even_acting_for_an_administrator(cloud: JiraSandbox) -> None:
    cloud.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1",
                                                     SHARED_SECRET, {"name": "hubsync", "scopes": ["ADMIN"]})

    answer = requests.get(f"{cloud.url}{LEGACY}", auth=ConnectJwt(APP_KEY, SHARED_SECRET, cloud.url), timeout=10)

    assert answer.status_code == 403
    assert "not by an app" in answer.json()["errorMessages"][0]


def test_a_registration_with_bad_jql_or_no_url_is_refused(cloud: JiraSandbox) -> None:
    sofia = admin(cloud)
    bad_jql = legacy_body("https://x.example/h", filters={"issue-related-events-section": "labels in ("})

    assert sofia.post(f"{cloud.url}{LEGACY}", json=bad_jql).status_code == 400
    assert sofia.post(f"{cloud.url}{LEGACY}", json=legacy_body("not a url")).status_code == 400
    assert sofia.get(f"{cloud.url}{LEGACY}").json() == []


def test_the_9x_body_on_10x_is_accepted_with_its_jql_and_secret_ignored(dc10: JiraSandbox, receiver: Receiver) -> None:
    """What a client that picks the wrong body sees: an unfiltered, unsigned webhook."""
    sofia = admin(dc10)

    created = sofia.post(f"{dc10.url}{DC10}", json=legacy_body(f"{receiver.url}/hook", secret=SECRET))
    outside = new_issue(dc10)  # not one of hubsync's tickets
    edit(dc10, outside, "changed")

    assert created.status_code == 201
    assert "FILTERS" not in created.json()["configuration"]
    assert [d["signed"] for d in deliveries(dc10)] == [False]
    assert len(receiver.received) == 1
    assert "X-Hub-Signature" not in receiver.received[0].headers


def test_a_secret_sent_to_data_center_9_is_ignored(dc9: JiraSandbox, receiver: Receiver) -> None:
    admin(dc9).post(f"{dc9.url}{LEGACY}", json=legacy_body(f"{receiver.url}/hook", secret=SECRET))

    edit(dc9, new_issue(dc9, "hubsync"), "changed")

    assert [d["signed"] for d in deliveries(dc9)] == [False]
    assert "X-Hub-Signature" not in receiver.received[0].headers


# -- deliveries -----------------------------------------------------------------------------------------------


def test_cloud_signs_each_delivery_with_the_secret(cloud: JiraSandbox, receiver: Receiver) -> None:
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body(f"{receiver.url}/webhooks/jira/7", secret=SECRET))
    issue = new_issue(cloud, "hubsync")

    edit(cloud, issue, "changed")

    [delivery] = deliveries(cloud)
    [hit] = receiver.received
    assert hit.path == "/webhooks/jira/7"
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["X-Hub-Signature"] == expected_signature(hit.body)
    assert hit.headers["X-Atlassian-Webhook-Flow"] == "Primary"
    assert "X-Atlassian-Webhook-Retry" not in hit.headers
    payload = json.loads(hit.body)
    assert (payload["webhookEvent"], payload["issue"]["key"]) == ("jira:issue_updated", issue.key)
    assert payload["changelog"]["items"][0]["toString"] == "changed"
    assert "accountId" in payload["user"] and "name" not in payload["user"]
    assert "properties" not in payload["issue"]
    assert (delivery["id"], delivery["status"], delivery["attempts"]) == (
        hit.headers["X-Atlassian-Webhook-Identifier"], 204, 1)


def test_data_center_10_signs_with_the_configured_secret_and_sends_no_atlassian_headers(
    dc10: JiraSandbox, receiver: Receiver
) -> None:
    admin(dc10).post(f"{dc10.url}{DC10}", json=dc10_body(f"{receiver.url}/webhooks/jira/7", SECRET=SECRET))

    edit(dc10, new_issue(dc10, "hubsync"), "changed")

    assert [d["signed"] for d in deliveries(dc10)] == [True]
    [hit] = receiver.received
    assert hit.headers["X-Hub-Signature"] == expected_signature(hit.body)
    assert not [name for name in hit.headers if name.lower().startswith("x-atlassian")]
    user = json.loads(hit.body)["user"]
    assert (user["name"], user["key"], "accountId" in user) == ("alice", "alice", False)


def test_a_url_token_url_is_delivered_as_registered(dc9: JiraSandbox, receiver: Receiver) -> None:
    url = f"{receiver.url}/webhooks/jira/7/Zm9vYmFyYmF6cXV4LXRva2VuLTMyLWJ5dGVzLWxvbmc?x=1"
    admin(dc9).post(f"{dc9.url}{LEGACY}", json=legacy_body(url))

    edit(dc9, new_issue(dc9, "hubsync"), "changed")

    assert [d["url"] for d in deliveries(dc9)] == [url]
    assert [hit.path for hit in receiver.received] == [url.removeprefix(receiver.url)]


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_only_issues_matching_the_jql_are_delivered(
    jira_sandbox: Callable[..., JiraSandbox], receiver: Receiver, flavour: str
) -> None:
    site = jira_sandbox(flavour)
    body = legacy_body(f"{receiver.url}/h") if flavour == "cloud" else dc10_body(f"{receiver.url}/h")
    admin(site).post(f"{site.url}{LEGACY if flavour == 'cloud' else DC10}", json=body)
    ticket, other = new_issue(site, "hubsync"), new_issue(site, "unrelated")

    edit(site, other, "not ours")
    edit(site, ticket, "ours")

    assert [(d["issueKey"], d["event"]) for d in deliveries(site)] == [(ticket.key, "jira:issue_updated")]
    assert [p["issue"]["key"] for p in receiver.payloads()] == [ticket.key]  # created: not subscribed


def test_a_deleted_issue_is_matched_as_it_was(cloud: JiraSandbox, receiver: Receiver) -> None:
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body(f"{receiver.url}/h", secret=SECRET))
    ticket, other = new_issue(cloud, "hubsync"), new_issue(cloud)
    sofia = person(cloud, "ssecurity")

    cloud.world.delete_issue(other.key, sofia)
    cloud.world.delete_issue(ticket.key, sofia)

    assert [(d["event"], d["issueKey"]) for d in deliveries(cloud)] == [("jira:issue_deleted", ticket.key)]
    [hit] = receiver.received
    payload = json.loads(hit.body)
    assert (payload["webhookEvent"], payload["issue"]["key"]) == ("jira:issue_deleted", ticket.key)
    assert payload["issue"]["fields"]["labels"] == ["hubsync"]
    assert hit.headers["X-Hub-Signature"] == expected_signature(hit.body)


def test_a_disabled_webhook_gets_nothing(cloud: JiraSandbox, receiver: Receiver) -> None:
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body(f"{receiver.url}/h", enabled=False))

    edit(cloud, new_issue(cloud, "hubsync"), "changed")

    assert deliveries(cloud) == [] and receiver.received == []


def test_cloud_retries_with_the_same_identifier_and_counts_the_retries(cloud: JiraSandbox, receiver: Receiver) -> None:
    cloud.control("POST", "admin-webhooks/retry-delays", json=FAST_RETRIES)
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body(f"{receiver.url}/h", secret=SECRET))
    receiver.answers.extend([503, 429, 408])

    edit(cloud, new_issue(cloud, "hubsync"), "changed")

    [delivery] = deliveries(cloud)
    assert (delivery["statuses"], delivery["status"], delivery["attempts"]) == ([503, 429, 408, 204], 204, 4)
    assert {hit.headers["X-Atlassian-Webhook-Identifier"] for hit in receiver.received} == {delivery["id"]}
    assert [hit.headers.get("X-Atlassian-Webhook-Retry") for hit in receiver.received] == [None, "1", "2", "3"]
    assert len({hit.body for hit in receiver.received}) == 1
    assert all(hit.headers["X-Hub-Signature"] == expected_signature(hit.body) for hit in receiver.received)


def test_an_answer_jira_does_not_retry_is_final(cloud: JiraSandbox, receiver: Receiver) -> None:
    cloud.control("POST", "admin-webhooks/retry-delays", json=FAST_RETRIES)
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body(f"{receiver.url}/h"))
    receiver.answers.extend([401])

    edit(cloud, new_issue(cloud, "hubsync"), "changed")

    assert [(d["statuses"], d["attempts"]) for d in deliveries(cloud)] == [([401], 1)]


def test_data_center_retries_its_few_times_then_gives_up(dc10: JiraSandbox, receiver: Receiver) -> None:
    assert dc10.control("GET", "admin-webhooks/retry-delays").json()["delays_ms"] == [50, 200]  # the default
    dc10.control("POST", "admin-webhooks/retry-delays", json={"delays_ms": [10, 10]})
    admin(dc10).post(f"{dc10.url}{DC10}", json=dc10_body(f"{receiver.url}/h"))
    receiver.answers.extend([500, 502, 503, 504])

    edit(dc10, new_issue(dc10, "hubsync"), "changed")

    [delivery] = deliveries(dc10)
    assert (delivery["statuses"], delivery["attempts"]) == ([500, 502, 503], 3)
    assert "X-Atlassian-Webhook-Retry" not in receiver.received[-1].headers


def test_an_unreachable_receiver_is_retried(cloud: JiraSandbox) -> None:
    cloud.control("POST", "admin-webhooks/retry-delays", json={"delays_ms": [10]})
    admin(cloud).post(f"{cloud.url}{LEGACY}", json=legacy_body("http://127.0.0.1:9/h"))  # discard port: refused

    edit(cloud, new_issue(cloud, "hubsync"), "changed")

    [delivery] = deliveries(cloud)
    assert (delivery["statuses"], delivery["attempts"]) == ([None, None], 2)
    assert delivery["error"]


def test_the_version_knob_takes_only_versions(dc10: JiraSandbox, cloud: JiraSandbox) -> None:
    assert dc10.control("POST", "server-version", json={"version": "ten"}).status_code == 400
    assert cloud.control("POST", "server-version", json={"version": "9.12.0"}).status_code == 400
    assert dc10.control("GET", "server-version").json() == {"version": "10.3.6", "versionNumbers": [10, 3, 6]}
    assert JiraWorld("datacenter", "http://jira.example", version="9.12.0").version == "9.12.0"
    with pytest.raises(ValueError, match="<major>"):
        JiraWorld("datacenter", "http://jira.example", version="9.12")
