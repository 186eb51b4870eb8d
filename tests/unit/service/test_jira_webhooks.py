"""The admin webhook's use cases on a site in memory (each dialect) and the fake store: register creates, then finds
it unchanged, updates what differs, reads it back; check says what differs; remove forgets the secret and tokens;
a rotated URL token keeps the previous one valid for its grace period only. Every change is audited, nothing
secret in the audit."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from hubsync.adapters.jira.admin_webhooks import JiraAdminWebhooks
from hubsync.adapters.jira.auth import PersonalAccessToken
from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.jira_webhook import (
    WebhookAdminRefused,
    WebhookNotApplied,
    WebhookNotRegistrable,
    WebhookRegistration,
    sign,
)
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.jira_webhooks import (
    WebhookStatus,
    authentic,
    check,
    delivery_url,
    prepare_manual,
    register,
    remove,
    rotate_token,
)
from tests.fakes.admin_webhooks import FakeWebhookSite
from tests.fakes.clock import FakeClock
from tests.fakes.store import FakeStore

SITE = "https://jira.example.com"
BASE = "https://hubsync.example.com"
JQL = "labels in (security-hub)"
VERSIONS = {"cloud": "cloud", "dc9": "9.12.0", "dc10": "10.3.1"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> FakeStore:
    return FakeStore(clock)


def _tenant(store: FakeStore, auth_mode: AuthMode = AuthMode.PAT) -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(name="Example DC", jira_base_url=SITE, jira_flavour=JiraFlavour.DATA_CENTER,
                                  auth_mode=auth_mode, jira_secret="admin-pat")


def _reread(store: FakeStore, tenant: Tenant) -> Tenant:
    with store.read() as uow:
        found = uow.tenants.get(tenant.id)
    assert found is not None
    return found


def _port(site: FakeWebhookSite, jql: str = JQL) -> JiraAdminWebhooks:
    return JiraAdminWebhooks(SITE, PersonalAccessToken("admin-pat"), jql, session=site, sleep=lambda _s: None)


def _audit(store: FakeStore, tenant: Tenant) -> list[tuple[str, str]]:
    with store.read() as uow:
        return [(e.action, e.outcome) for e in uow.audit.for_finding(tenant.id, TENANT_EVENTS)]


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_register_creates_once_then_finds_it_unchanged(store: FakeStore, clock: FakeClock, kind: str) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version=VERSIONS[kind])

    created = register(store, tenant, _port(site), BASE, clock=clock)
    tenant = _reread(store, tenant)
    again = register(store, tenant, _port(site), BASE, clock=clock)

    assert created.status is WebhookStatus.CREATED and again.status is WebhookStatus.UNCHANGED
    [hook] = site.hooks_by_id.values()
    assert (hook["name"], hook["jql"], hook["events"]) == ("hubsync Example DC", JQL,
                                                          ["jira:issue_updated", "jira:issue_deleted"])
    registration = tenant.jira_webhook
    assert registration.webhook_id == created.webhook_id == again.webhook_id == "1"
    if kind == "dc9":
        assert not created.signed and registration.secret is None and registration.token_hash is not None
        token = hook["url"].rsplit("/", 1)[1]
        assert hook["url"] == delivery_url(BASE, tenant.id, token) == created.url
        assert registration.is_current_token(token) and token not in json.dumps(dataclasses.asdict(registration),
                                                                                 default=str)
        assert again.url is not None and again.url.endswith("/<token>")  # known in the clear only when new
    else:
        assert created.signed and hook["url"] == delivery_url(BASE, tenant.id)
        assert registration.signed and registration.secret and hook["secret"] == registration.secret
        assert registration.secret not in created.message and registration.secret not in repr(tenant)
    assert check(tenant, _port(site), BASE).status is WebhookStatus.PRESENT
    assert _audit(store, tenant) == [("register_jira_webhook", "applied")]


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_a_webhook_that_differs_is_updated_in_place(store: FakeStore, clock: FakeClock, kind: str) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version=VERSIONS[kind])
    register(store, tenant, _port(site), BASE, clock=clock)
    site.hooks_by_id[1].update(jql="project = OTHER", events=["jira:issue_updated"], enabled=False)
    tenant = _reread(store, tenant)

    found = check(tenant, _port(site), BASE)
    assert found.status is WebhookStatus.DIFFERENT and not found.ok
    assert any("project = OTHER" in each for each in found.differences)
    assert any("events" in each for each in found.differences) and "it is disabled" in found.differences

    updated = register(store, tenant, _port(site), BASE, clock=clock)
    assert updated.status is WebhookStatus.UPDATED and updated.differences == found.differences
    assert list(site.hooks_by_id) == [1] and site.hooks_by_id[1]["jql"] == JQL and site.hooks_by_id[1]["enabled"]
    assert check(_reread(store, tenant), _port(site), BASE).status is WebhookStatus.PRESENT


def test_a_webhook_hubsync_lost_track_of_is_found_by_its_path(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version="10.3.1")
    register(store, tenant, _port(site), BASE, clock=clock)
    with store.transaction() as uow:  # a restored database: no record of it
        uow.tenants.update(dataclasses.replace(_reread(store, tenant), jira_webhook=WebhookRegistration()))

    outcome = register(store, _reread(store, tenant), _port(site), BASE, clock=clock)
    assert outcome.status is WebhookStatus.UPDATED and "hubsync has a new secret for it" in outcome.differences
    assert list(site.hooks_by_id) == [1] and site.hooks_by_id[1]["secret"] == _reread(store, tenant).jira_webhook.secret


def test_a_jql_the_site_drops_is_caught_by_reading_it_back(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version="10.3.1", drops_jql=True)
    with pytest.raises(WebhookNotApplied) as refused:
        register(store, tenant, _port(site), BASE, clock=clock)
    assert "JQL filter is None" in str(refused.value) and "Data Center 10" in str(refused.value)
    assert _reread(store, tenant).jira_webhook.webhook_id == "1"  # kept, so that remove finds it
    assert _audit(store, tenant) == [("register_jira_webhook", "failed")]


def test_a_non_administrator_is_refused_and_nothing_is_stored(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store)
    with pytest.raises(WebhookAdminRefused, match="Jira Administrators global permission"):
        register(store, tenant, _port(FakeWebhookSite(SITE, version="9.12.0", admin=False)), BASE, clock=clock)
    assert _reread(store, tenant).jira_webhook == WebhookRegistration() and _audit(store, tenant) == []


def test_app_tenants_and_a_missing_base_url_are_refused(store: FakeStore, clock: FakeClock) -> None:
    site = FakeWebhookSite(SITE)
    with pytest.raises(WebhookNotRegistrable, match="app"):
        register(store, _tenant(store, AuthMode.CONNECT), _port(site), BASE, clock=clock)
    with pytest.raises(WebhookNotRegistrable, match="HUBSYNC_BASE_URL"):
        register(store, _tenant(store), _port(site), "", clock=clock)
    assert site.requests == []


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_remove_deletes_it_and_forgets_secret_and_tokens(store: FakeStore, clock: FakeClock, kind: str) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version=VERSIONS[kind])
    register(store, tenant, _port(site), BASE, clock=clock)
    before = _reread(store, tenant)

    removed = remove(store, before, _port(site), BASE, clock=clock)
    after = _reread(store, tenant)
    assert removed.status is WebhookStatus.REMOVED and site.hooks_by_id == {}
    assert after.jira_webhook == WebhookRegistration()
    assert not authentic(after, b"{}", signature=sign(before.jira_webhook.secret or "x", b"{}"), token=None,
                         now=clock())
    assert remove(store, after, _port(site), BASE, clock=clock).status is WebhookStatus.ABSENT
    assert check(after, _port(site), BASE).status is WebhookStatus.MISSING
    assert _audit(store, tenant)[-1] == ("remove_jira_webhook", "applied")


def test_a_rotated_token_is_accepted_for_its_grace_period_only(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version="9.12.0")
    register(store, tenant, _port(site), BASE, clock=clock)
    old = site.hooks_by_id[1]["url"].rsplit("/", 1)[1]

    rotated = rotate_token(store, _reread(store, tenant), _port(site), BASE, grace=timedelta(hours=2), clock=clock)
    new = site.hooks_by_id[1]["url"].rsplit("/", 1)[1]
    assert rotated.status is WebhookStatus.ROTATED and rotated.url == site.hooks_by_id[1]["url"] and new != old
    assert rotated.previous_token_valid_until == clock() + timedelta(hours=2)
    tenant = _reread(store, tenant)
    assert authentic(tenant, b"{}", signature=None, token=old, now=clock())
    assert authentic(tenant, b"{}", signature=None, token=new, now=clock())
    clock.advance(timedelta(hours=2, seconds=1))
    assert not authentic(tenant, b"{}", signature=None, token=old, now=clock())
    assert authentic(tenant, b"{}", signature=None, token=new, now=clock())
    assert check(tenant, _port(site), BASE).status is WebhookStatus.PRESENT
    assert [action for action, _ in _audit(store, tenant)] == ["register_jira_webhook", "rotate_jira_webhook_token"]


def test_signed_sites_have_no_token_to_rotate(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store, AuthMode.API_TOKEN)
    site = FakeWebhookSite(SITE, version="cloud")
    register(store, tenant, _port(site), BASE, clock=clock)
    with pytest.raises(WebhookNotRegistrable, match="signs deliveries"):
        rotate_token(store, _reread(store, tenant), _port(site), BASE, clock=clock)


def test_a_site_upgraded_to_data_center_10_moves_from_the_url_token_to_a_signature(
    store: FakeStore, clock: FakeClock
) -> None:
    tenant = _tenant(store)
    nine = FakeWebhookSite(SITE, version="9.12.0")
    register(store, tenant, _port(nine), BASE, clock=clock)
    token = nine.hooks_by_id[1]["url"].rsplit("/", 1)[1]
    ten = FakeWebhookSite(SITE, version="10.3.1")
    ten.hooks_by_id = {1: dict(nine.hooks_by_id[1])}  # the upgrade keeps the webhook

    outcome = register(store, _reread(store, tenant), _port(ten), BASE, clock=clock)
    tenant = _reread(store, tenant)
    assert outcome.status is WebhookStatus.UPDATED and outcome.signed
    assert ten.hooks_by_id[1]["url"] == delivery_url(BASE, tenant.id) and tenant.jira_webhook.token_hash is None
    assert not authentic(tenant, b"{}", signature=None, token=token, now=clock())
    assert authentic(tenant, b"{}", signature=sign(tenant.jira_webhook.secret or "", b"{}"), token=None, now=clock())


def test_messages_say_what_was_done(store: FakeStore, clock: FakeClock) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version="9.12.0")
    created = register(store, tenant, _port(site), BASE, clock=clock)
    assert created.message.startswith("tenant Example DC: Jira webhook 1 created (deliveries authenticated by the "
                                      "token in the URL)")
    assert f"delivery URL: {site.hooks_by_id[1]['url']}" in created.message
    missing = check(tenant, _port(FakeWebhookSite(SITE, version="9.12.0")), BASE)
    assert "missing" in missing.message and "--register" in missing.message


@pytest.mark.parametrize("kind", ["cloud", "dc9", "dc10"])
def test_without_admin_credentials_an_admin_gets_what_to_type_in(store: FakeStore, clock: FakeClock,
                                                                 kind: str) -> None:
    tenant = _tenant(store)
    site = FakeWebhookSite(SITE, version=VERSIONS[kind], admin=False)

    prepared = prepare_manual(store, tenant, _port(site), BASE, clock=clock)
    tenant = _reread(store, tenant)

    assert prepared.status is WebhookStatus.PREPARED and site.hooks_by_id == {}
    assert f"JQL       {JQL}" in prepared.message and "Issue: updated, deleted" in prepared.message
    assert prepared.url is not None and f"URL       {prepared.url}" in prepared.message
    if kind == "dc9":
        token = prepared.url.rsplit("/", 1)[1]
        assert prepared.secret is None and authentic(tenant, b"", signature=None, token=token, now=clock())
    else:
        assert prepared.secret and f"Secret    {prepared.secret}" in prepared.message
        assert prepared.secret not in repr(prepared)
        assert authentic(tenant, b"{}", signature=sign(prepared.secret, b"{}"), token=None, now=clock())
    assert _audit(store, tenant) == [("prepare_jira_webhook", "applied")]
    assert prepared.secret is None or prepared.secret not in json.dumps(
        [e.reason for e in _audit_entries(store, tenant)])


def _audit_entries(store: FakeStore, tenant: Tenant):
    with store.read() as uow:
        return uow.audit.for_finding(tenant.id, TENANT_EVENTS)
