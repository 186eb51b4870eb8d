"""hubsync's admin webhook against the Jira simulators, end to end: registered by an administrator through the
site's own dialect (Cloud, Data Center 9, Data Center 10), an issue change on one of hubsync's tickets delivered
to hubsync's running web app (signed, or with the URL token) and queued as one hint, a ticket outside the JQL not
delivered at all, a rotated Data Center 9 token, and removal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import bootstrap, jira_admin_webhooks
from hubsync.config import Settings
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.jira_webhook import WebhookAdminRefused
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.jira_webhooks import WebhookStatus, check, prepare_manual, register, remove, rotate_token
from hubsync.web import create_app
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.model import Issue
from tests.fixtures.jira import JiraSandbox

SECRET_KEY = "admin-webhook-tests-secret-key-0123456789abcdef"


@dataclass
class Hubsync:
    """hubsync's web app on a loopback port, on its own SQLite store and local queue."""

    url: str
    store: Store
    queue: LocalQueue

    def hints(self) -> list[SyncHint]:
        return [delivery.hint for delivery in self.queue.receive(50, 0)]


@pytest.fixture
def hubsync(tmp_path: Path) -> Iterator[Hubsync]:
    store = Store(create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}"), SecretBox([SECRET_KEY]))
    upgrade(store.engine)
    server = BackgroundServer(name="hubsync")
    queue = LocalQueue(store.engine)
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": server.url, "HUBSYNC_SECRET_KEY": SECRET_KEY})
    server.mount(create_app(bootstrap(settings, store=store, queue=queue))).start()
    yield Hubsync(server.url, store, queue)
    server.stop()
    store.dispose()


SITES = {"cloud": ("cloud", None), "dc9": ("datacenter", "9.12.0"), "dc10": ("datacenter", "10.3.6")}


def _site(jira_sandbox: Callable[..., JiraSandbox], kind: str) -> JiraSandbox:
    flavour, version = SITES[kind]
    site = jira_sandbox(flavour)
    if version is not None:
        assert site.control("POST", "server-version", json={"version": version}).status_code == 200
    assert site.control("POST", "admin-webhooks/retry-delays", json={"delays_ms": [10]}).status_code == 200
    return site


def _credentials(site: JiraSandbox, *, admin: bool) -> dict[str, Any]:
    """Sofia's (a Jira administrator's) API token or personal access token, or hubsync's own bot's."""
    cloud = site.flavour == "cloud"
    if admin:
        user, secret = ((seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN) if cloud
                        else (None, seed.SANDBOX_JIRA_ADMIN_PAT))
    else:
        user, secret = site.login if cloud else None, site.secret
    return {"auth_mode": AuthMode.API_TOKEN if cloud else AuthMode.PAT, "jira_user": user, "jira_secret": secret}


def _tenant(hubsync: Hubsync, site: JiraSandbox, *, admin: bool = True) -> Tenant:
    flavour = JiraFlavour.CLOUD if site.flavour == "cloud" else JiraFlavour.DATA_CENTER
    with hubsync.store.transaction() as uow:
        return uow.tenants.create(name="Example", jira_base_url=site.url, jira_flavour=flavour,
                                  policy={"project_key": "SEC", "labels": ["security-hub"]},
                                  **_credentials(site, admin=admin))


def _reread(hubsync: Hubsync, tenant: Tenant) -> Tenant:
    with hubsync.store.read() as uow:
        found = uow.tenants.get(tenant.id)
    assert found is not None
    return found


def _issue(site: JiraSandbox, *labels: str) -> Issue:
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": "S3 bucket is public",
              "labels": list(labels)}
    user = site.world.user_by_name(seed.SANDBOX_JIRA_USERNAME)
    assert user is not None
    return site.world.create_issue(fields, user)


def _edit(site: JiraSandbox, issue: Issue, summary: str) -> None:
    alice = site.world.user_by_name("alice")
    assert alice is not None
    site.world.edit_issue(issue.key, {"summary": summary}, alice)


def _deliveries(site: JiraSandbox) -> list[dict[str, Any]]:
    body = site.control("GET", "admin-webhooks/deliveries", params={"wait_ms": 10000}).json()
    assert body["idle"], "deliveries still pending after 10 s"
    return body["deliveries"]


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_a_registered_webhook_delivers_hubsyncs_tickets_changes_as_hints(
    jira_sandbox: Callable[..., JiraSandbox], hubsync: Hubsync, kind: str
) -> None:
    site = _site(jira_sandbox, kind)
    tenant = _tenant(hubsync, site)

    created = register(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url)
    tenant = _reread(hubsync, tenant)
    assert created.status is WebhookStatus.CREATED and created.signed is (kind != "dc9")
    assert register(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url).status is WebhookStatus.UNCHANGED
    assert check(tenant, jira_admin_webhooks(tenant), hubsync.url).status is WebhookStatus.PRESENT

    ticket, other = _issue(site, "security-hub"), _issue(site, "unrelated")
    _edit(site, ticket, "S3 bucket is public (risk approved)")
    _edit(site, other, "someone else's ticket")

    delivered = _deliveries(site)
    assert delivered and all(each["status"] == 204 for each in delivered), delivered
    hints = hubsync.hints()
    assert {(hint.source, hint.ticket_key) for hint in hints} == {(HintSource.JIRA_ADMIN_WEBHOOK, ticket.key)}
    assert all(hint.event_id for hint in hints)

    removed = remove(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url)
    assert removed.status is WebhookStatus.REMOVED
    site.control("DELETE", "admin-webhooks/deliveries")
    _edit(site, ticket, "after removal")
    assert _deliveries(site) == [] and hubsync.hints() == []


def test_a_rotated_data_center_9_token_is_what_the_site_delivers_with(
    jira_sandbox: Callable[..., JiraSandbox], hubsync: Hubsync
) -> None:
    site = _site(jira_sandbox, "dc9")
    tenant = _tenant(hubsync, site)
    register(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url)
    tenant = _reread(hubsync, tenant)

    rotated = rotate_token(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url)
    tenant = _reread(hubsync, tenant)
    assert check(tenant, jira_admin_webhooks(tenant), hubsync.url).status is WebhookStatus.PRESENT
    ticket = _issue(site, "security-hub")
    _edit(site, ticket, "after the rotation")

    [delivery] = [each for each in _deliveries(site) if each["status"] == 204]
    assert rotated.url is not None and delivery["url"] == rotated.url
    assert [hint.ticket_key for hint in hubsync.hints()] == [ticket.key]


@pytest.mark.parametrize("kind", ["cloud", "dc10"])
def test_the_sync_account_is_told_an_administrator_is_needed(
    jira_sandbox: Callable[..., JiraSandbox], hubsync: Hubsync, kind: str
) -> None:
    site = _site(jira_sandbox, kind)
    tenant = _tenant(hubsync, site, admin=False)
    with pytest.raises(WebhookAdminRefused, match="Jira Administrators global permission"):
        register(hubsync.store, tenant, jira_admin_webhooks(tenant), hubsync.url)


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_a_webhook_an_administrator_creates_by_hand_delivers_too(
    jira_sandbox: Callable[..., JiraSandbox], hubsync: Hubsync, kind: str
) -> None:
    """hubsync's sync account prepares the secret or URL token (it may read serverInfo, nothing more); Sofia, the
    site's administrator, creates the webhook with what hubsync printed; a change then arrives as a hint."""
    site = _site(jira_sandbox, kind)
    bot = _tenant(hubsync, site, admin=False)
    prepared = prepare_manual(hubsync.store, bot, jira_admin_webhooks(bot), hubsync.url)
    assert prepared.url is not None and prepared.jql is not None

    sofia = site.anonymous()
    if site.flavour == "cloud":
        sofia.auth = (seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
    else:
        sofia.headers["Authorization"] = f"Bearer {seed.SANDBOX_JIRA_ADMIN_PAT}"
    fields = {"name": f"hubsync {bot.name}", "url": prepared.url, "events": ["jira:issue_updated",
                                                                            "jira:issue_deleted"]}
    if kind == "dc10":
        configuration = {"FILTERS": prepared.jql, "EXCLUDE_BODY": "false", "SECRET": prepared.secret or ""}
        made = sofia.post(f"{site.url}/rest/jira-webhook/1.0/webhooks", json={**fields, "active": True,
                                                                             "configuration": configuration})
    else:
        secret = {"secret": prepared.secret} if prepared.secret else {}
        made = sofia.post(f"{site.url}/rest/webhooks/1.0/webhook", json={
            **fields, "filters": {"issue-related-events-section": prepared.jql}, "excludeBody": False, **secret})
    assert made.status_code == 201, made.text

    admin = dataclasses.replace(_reread(hubsync, bot), **_credentials(site, admin=True))
    assert check(admin, jira_admin_webhooks(admin), hubsync.url).status is WebhookStatus.PRESENT
    ticket = _issue(site, "security-hub")
    _edit(site, ticket, "approved by hand")
    assert all(each["status"] == 204 for each in _deliveries(site))
    assert [hint.ticket_key for hint in hubsync.hints()] == [ticket.key]
