"""`JiraAdminWebhooks` in the three dialects, against a site's admin-webhook API in memory: the dialect read from
serverInfo, each dialect's path and body (the JQL and secret where that dialect keeps them), the id from `self` or
`id`, and a refusal that says an administrator is needed."""

from __future__ import annotations

import pytest

from hubsync.adapters.jira.admin_webhooks import JiraAdminWebhooks
from hubsync.adapters.jira.auth import ApiToken, PersonalAccessToken
from hubsync.domain.jira_webhook import RegisteredWebhook, WebhookAdminRefused, WebhookDialect, WebhookSpec, dialect_of
from tests.fakes.admin_webhooks import DC10, OLD, FakeWebhookSite

SITE = "https://jira.example.com"
JQL = "labels in (security-hub)"
SPEC = WebhookSpec(name="hubsync Example", url="https://hubsync.example.com/webhooks/jira/t1", jql=JQL,
                   secret="s3cret")


def _admin(site: FakeWebhookSite) -> JiraAdminWebhooks:
    auth = ApiToken("admin@example.com", "t") if site.version == "cloud" else PersonalAccessToken("pat")
    version = "3" if site.version == "cloud" else "2"
    return JiraAdminWebhooks(SITE, auth, JQL, api_version=version, session=site, sleep=lambda _s: None)


@pytest.mark.parametrize(("info", "dialect"), [
    (("Cloud", [1001, 0, 0]), WebhookDialect.CLOUD),
    (("Server", [9, 12, 0]), WebhookDialect.DATA_CENTER_9),
    (("Server", [10, 3, 1]), WebhookDialect.DATA_CENTER_10),
    (("DataCenter", [11, 0, 0]), WebhookDialect.DATA_CENTER_10),
    (("Server", None), WebhookDialect.DATA_CENTER_9),
    (("Server", ["10"]), WebhookDialect.DATA_CENTER_9),
])
def test_the_dialect_comes_from_server_info(info: tuple[str, object], dialect: WebhookDialect) -> None:
    assert dialect_of(*info) is dialect


@pytest.mark.parametrize(("version", "collection", "dialect"), [
    ("cloud", OLD, WebhookDialect.CLOUD),
    ("9.12.0", OLD, WebhookDialect.DATA_CENTER_9),
    ("10.3.1", DC10, WebhookDialect.DATA_CENTER_10),
])
def test_create_read_update_and_delete_in_each_dialect(version: str, collection: str,
                                                       dialect: WebhookDialect) -> None:
    site = FakeWebhookSite(SITE, version=version)
    admin = _admin(site)

    created = admin.create(SPEC)
    assert admin.dialect() is dialect
    assert created == RegisteredWebhook("1", SPEC.name, SPEC.url, JQL, ("jira:issue_updated", "jira:issue_deleted"),
                                        enabled=True)
    assert ("POST", collection) in site.requests
    stored = site.hooks_by_id[1]
    assert stored["jql"] == JQL
    assert stored["secret"] == (None if dialect is WebhookDialect.DATA_CENTER_9 else "s3cret")

    assert admin.webhooks() == [created] and admin.get("1") == created
    moved = admin.update("1", WebhookSpec(SPEC.name, SPEC.url + "/x", "project = SEC", secret=None))
    assert (moved.url, moved.jql) == (SPEC.url + "/x", "project = SEC")
    assert site.hooks_by_id[1]["secret"] == stored["secret"]  # a body without a secret keeps it

    assert admin.delete("1") is True
    assert admin.delete("1") is False and admin.get("1") is None
    server_info = "/rest/api/3/serverInfo" if version == "cloud" else "/rest/api/2/serverInfo"
    assert site.requests.count(("GET", server_info)) == 1  # asked once


def test_the_secret_is_never_in_a_registered_webhooks_repr() -> None:
    assert "s3cret" not in repr(SPEC)
    assert "s3cret" not in repr(RegisteredWebhook("1", "n", "u", None, (), True, secret="s3cret"))


@pytest.mark.parametrize("version", ["cloud", "9.12.0", "10.3.1"])
def test_a_non_administrator_is_told_what_is_needed(version: str) -> None:
    admin = _admin(FakeWebhookSite(SITE, version=version, admin=False))
    with pytest.raises(WebhookAdminRefused) as refused:
        admin.webhooks()
    message = str(refused.value)
    assert "403" in message and "Jira Administrators global permission" in message
    assert "You are not a Jira administrator." in message and "by hand" in message


def test_an_id_that_is_not_a_number_is_never_sent() -> None:
    site = FakeWebhookSite(SITE, version="10.3.1")
    admin = _admin(site)
    assert admin.get("../../api/2/myself") is None
    assert admin.delete("1?x") is False
    assert all("myself" not in path for _method, path in site.requests)
