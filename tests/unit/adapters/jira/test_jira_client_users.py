"""Finding the person a ticket goes to: exactly one active human for an email, accountId or user name — never a
guess."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hubsync.adapters.jira import JiraClient, JiraError
from hubsync_sandbox.jira import seed
from tests.fixtures.jira import JiraSandbox


def id_of(sandbox: JiraSandbox, email: str) -> str:
    user = sandbox.world.user_by_email(email)
    assert user is not None
    return user.account_id if sandbox.flavour == "cloud" else user.name


def test_an_email_names_its_user(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)

    assert jira.find_user("Alice@Example.com") == id_of(jira_any, "alice@example.com")
    assert jira.find_user("alice@example.com", project_key="SEC") == id_of(jira_any, "alice@example.com")


def test_an_id_names_its_user(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)
    carol = id_of(jira_any, "carol@example.com")  # Cloud: an accountId of the `712020:<uuid>` kind

    assert jira.find_user(carol) == carol


def test_cloud_knows_nobody_by_user_name(jira_cloud: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    assert client_of(jira_cloud).find_user("alice") is None  # GDPR strict mode: no user names on Cloud


@pytest.mark.parametrize("query", ["nobody@example.com", "ali", "example.com", "", "  "])
def test_no_exact_match_is_nobody(jira_any: JiraSandbox, client_of: Callable[..., JiraClient], query: str) -> None:
    assert client_of(jira_any).find_user(query) is None


def test_two_people_with_one_email_are_nobody(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    alice = jira_any.world.user_by_email("alice@example.com")
    assert alice is not None
    jira_any.world.users.append(replace(alice, account_id="5d8f2a7c41e3b90c0a7e6d99", name="alice2"))

    assert client_of(jira_any).find_user("alice@example.com") is None


def test_someone_who_may_not_take_issues_is_not_assignable(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)

    assert jira.find_user(seed.SANDBOX_JIRA_VIEWER_EMAIL) == id_of(jira_any, seed.SANDBOX_JIRA_VIEWER_EMAIL)
    assert jira.find_user(seed.SANDBOX_JIRA_VIEWER_EMAIL, project_key="SEC") is None


def test_deactivated_people_are_nobody(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    bob = jira_any.world.user_by_email("bob@example.com")
    assert bob is not None
    bob.active = False

    assert client_of(jira_any).find_user("bob@example.com") is None


def test_a_person_is_looked_up_once_for_a_while_and_again_after(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    now = [0.0]
    jira = client_of(jira_any, user_ttl_s=600, monotonic=lambda: now[0])

    answers = [jira.find_user("alice@example.com") for _ in range(5)]
    now[0] = 601
    alice = jira_any.world.user_by_email("alice@example.com")
    assert alice is not None
    alice.active = False  # left the company: the next lookup after the TTL sees it

    assert answers == [id_of(jira_any, "alice@example.com")] * 5
    assert jira.find_user("alice@example.com") is None
    assert jira.request_counts == {"find_user": 2}


def test_a_failed_lookup_is_not_remembered(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any, max_retries=0)
    jira_any.control("POST", "faults", json={"status": 503, "count": 1})

    with pytest.raises(JiraError):
        jira.find_user("alice@example.com")
    assert jira.find_user("alice@example.com") == id_of(jira_any, "alice@example.com")
