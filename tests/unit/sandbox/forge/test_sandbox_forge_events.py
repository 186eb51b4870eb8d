"""Product events to the remote: issue created, updated, commented, deleted; ignoreSelf; retries with retryContext."""

from __future__ import annotations

import threading
import time

from hubsync_sandbox.forge import Installation
from hubsync_sandbox.jira.model import User
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import Received, slow


def system_token(site: ForgeSite) -> str:
    return site.forge.system_token()


def test_an_issue_update_delivers_avi_jira_updated_issue(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)
    forge_site.world.edit_issue(issue.key, {"summary": "A finding, renamed"}, alice)

    created, updated = forge_site.settle()
    assert (created["eventType"], updated["eventType"]) == ("avi:jira:created:issue", "avi:jira:updated:issue")
    assert {created["moduleKey"], created["endpointKey"]} == {"issue-events", "events-ep"}
    first, second = forge_site.remote.calls("/forge/events")
    assert first.body["eventType"] == "avi:jira:created:issue"
    body = second.body
    assert body["eventType"] == "avi:jira:updated:issue"
    assert body["selfGenerated"] is False
    assert body["atlassianId"] == alice.account_id
    assert body["issue"]["id"] == issue.id and body["issue"]["key"] == issue.key
    assert body["issue"]["fields"]["summary"] == "A finding, renamed"
    assert body["issue"]["fields"]["reporter"] == {"accountId": alice.account_id}
    assert body["issue"]["fields"]["status"]["name"]
    [item] = body["changelog"]["items"]
    assert (item["field"], item["fromString"], item["toString"]) == ("summary", "A finding", "A finding, renamed")
    assert body["timestamp"].isdigit()
    assert body["jiraEventTypeName"] == "issue_updated"
    assert "retryContext" not in body
    assert second.claims["app"]["module"] == {"type": "core:endpoint", "key": "events-ep"}
    assert second.header("x-forge-oauth-system")


def test_a_transition_reports_the_statuses_and_a_comment_is_its_own_event(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)
    transition = forge_site.world.transitions(issue.key)[0]
    forge_site.world.transition_issue(issue.key, transition.id, alice)
    forge_site.world.add_comment(issue.key, {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Looking into it"}]}]}, alice)
    forge_site.world.delete_issue(issue.key, alice)

    forge_site.settle()
    calls = forge_site.remote.calls("/forge/events")
    assert [c.body["eventType"] for c in calls] == [
        "avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:commented:issue", "avi:jira:deleted:issue"]
    moved = calls[1].body
    assert moved["associatedStatuses"][1] == {"id": transition.to.id, "name": transition.to.name}
    assert moved["changelog"]["items"][0]["field"] == "status"
    comment = calls[2].body["comment"]
    assert comment["author"] == {"accountId": alice.account_id}
    assert calls[3].body["issue"]["key"] == issue.key


def test_the_apps_own_changes_are_not_delivered_to_an_ignore_self_trigger(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)
    answer = forge_site.gateway("PUT", f"/rest/api/3/issue/{issue.key}", system_token(forge_site),
                                json={"fields": {"summary": "Changed by the app"}})
    assert answer.status_code == 204
    forge_site.world.edit_issue(issue.key, {"summary": "Changed by Alice"}, alice)

    forge_site.settle()
    bodies = [c.body for c in forge_site.remote.calls("/forge/events")]
    assert [(b["eventType"], b["issue"]["fields"]["summary"]) for b in bodies] == [
        ("avi:jira:created:issue", "A finding"), ("avi:jira:updated:issue", "Changed by Alice")]


def test_without_ignore_self_the_apps_own_changes_come_back_marked_self_generated(
    forge_site: ForgeSite, alice: User
) -> None:
    installation = forge_site.install(ignore_self=False)
    issue = forge_site.create(alice)
    forge_site.gateway("PUT", f"/rest/api/3/issue/{issue.key}", system_token(forge_site),
                       json={"fields": {"summary": "Changed by the app"}})

    forge_site.settle()
    *_, mine = forge_site.remote.calls("/forge/events")
    assert mine.body["selfGenerated"] is True
    assert mine.body["atlassianId"] == installation.app_user.account_id


def test_a_user_token_write_is_not_self_generated(forge_site: ForgeSite, installed: Installation, alice: User) -> None:
    issue = forge_site.create(alice)
    forge_site.gateway("PUT", f"/rest/api/3/issue/{issue.key}", forge_site.forge.user_token(alice),
                       json={"fields": {"summary": "Changed in the panel"}})

    forge_site.settle()
    *_, updated = forge_site.remote.calls("/forge/events")
    assert (updated.body["selfGenerated"], updated.body["atlassianId"]) == (False, alice.account_id)


def test_a_503_is_retried_with_a_retry_context(forge_site: ForgeSite, installed: Installation, alice: User) -> None:
    forge_site.remote.answer("/forge/events", 503)
    forge_site.create(alice)

    [delivery] = forge_site.settle()
    assert [a["status"] for a in delivery["attempts"]] == [503, 204]
    assert delivery["outcome"] == "delivered"
    first, second = forge_site.remote.calls("/forge/events")
    assert "retryContext" not in first.body
    assert second.body["retryContext"] == {
        "retryCount": 1, "retryReason": "INVALID_REMOTE_INVOCATION_ERROR", "retryData": None}
    assert {k: v for k, v in second.body.items() if k != "retryContext"} == first.body
    assert second.claims["jti"] != first.claims["jti"]  # a fresh FIT per attempt


def test_a_401_is_retried_as_an_invalid_invocation_token(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    forge_site.remote.answer("/forge/events", 401, 500)
    forge_site.create(alice)

    [delivery] = forge_site.settle()
    assert [a["status"] for a in delivery["attempts"]] == [401, 500, 204]
    reasons = [c.body.get("retryContext") for c in forge_site.remote.calls("/forge/events")]
    assert reasons == [
        None,
        {"retryCount": 1, "retryReason": "INVALID_FORGE_INVOCATION_TOKEN", "retryData": None},
        {"retryCount": 2, "retryReason": "INVALID_REMOTE_INVOCATION_ERROR", "retryData": None},
    ]


def test_delivery_gives_up_after_four_attempts(forge_site: ForgeSite, installed: Installation, alice: User) -> None:
    forge_site.remote.answer("/forge/events", 500, 502, 503, 504, 500)
    forge_site.create(alice)

    [delivery] = forge_site.settle()
    assert [a["status"] for a in delivery["attempts"]] == [500, 502, 503, 504]
    assert delivery["outcome"] == "failed"
    assert len(forge_site.remote.calls("/forge/events")) == 4


def test_a_slow_remote_times_out_and_an_unreachable_one_is_a_remote_error(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    forge_site.forge.configure(delivery_timeout_s=0.3)
    forge_site.remote.answer("/forge/events", slow(1.0))
    forge_site.create(alice)
    [delivery] = forge_site.settle()
    assert delivery["attempts"][0]["status"] is None
    assert delivery["attempts"][1]["retryContext"]["retryReason"] == "TIMEOUT_ERROR"

    forge_site.forge.forget_deliveries()
    forge_site.forge.upgrade(remote_base_url="http://127.0.0.1:9")  # nothing listens there
    forge_site.forge.configure(max_attempts=2)
    forge_site.create(alice)
    reasons = [d.attempts[-1].retry_context for d in forge_site.forge.deliveries(wait_s=10) if d.kind != "lifecycle"]
    assert reasons == [{"retryCount": 1, "retryReason": "INVALID_REMOTE_INVOCATION_ERROR", "retryData": None}]


def test_deliveries_leave_from_a_background_thread(forge_site: ForgeSite, installed: Installation, alice: User) -> None:
    """Jira's request does not wait for the remote: a slow remote does not slow down the issue change."""
    release = threading.Event()

    def held(_: Received) -> tuple[int, None]:
        release.wait(5)
        return 204, None

    forge_site.remote.answer("/forge/events", held)
    started = time.monotonic()
    forge_site.create(alice)
    assert time.monotonic() - started < 0.5
    release.set()
    assert [d["outcome"] for d in forge_site.settle()] == ["delivered"]


def test_an_uninstalled_app_gets_no_more_events(forge_site: ForgeSite, installed: Installation, alice: User) -> None:
    forge_site.forge.uninstall()
    forge_site.settle()
    forge_site.create(alice)

    forge_site.settle()
    assert forge_site.remote.calls("/forge/events") == []
