"""A tenant's admin webhook state on SQLite and PostgreSQL: its id, signing, the HMAC secret encrypted (never in the
clear, never in a repr), and the URL token kept only as hashes, the previous one until its grace period ends."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.store import SecretBox, Store
from hubsync.domain.jira_webhook import WebhookRegistration, hash_token
from hubsync.domain.tenant import Tenant
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY

WEBHOOK_SECRET = "webhook-hmac-secret-that-must-never-be-stored-in-the-clear"


def _save(store: Store, tenant: Tenant, registration: WebhookRegistration) -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.update(dataclasses.replace(tenant, jira_webhook=registration))


def _read(store: Store, tenant: Tenant) -> Tenant:
    with store.read() as uow:
        found = uow.tenants.get(tenant.id)
    assert found is not None
    return found


def test_a_new_tenant_has_no_webhook(store: Store, tenant: Tenant) -> None:
    assert _read(store, tenant).jira_webhook == WebhookRegistration()


def test_a_signed_webhook_reads_back_with_its_secret_encrypted_at_rest(store: Store, tenant: Tenant) -> None:
    _save(store, tenant, WebhookRegistration("10042", signed=True, secret=WEBHOOK_SECRET))

    stored = _read(store, tenant)
    assert stored.jira_webhook == WebhookRegistration("10042", signed=True, secret=WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in repr(stored)
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM tenants")).mappings().one()
    assert WEBHOOK_SECRET not in " ".join(str(value) for value in row.values())
    assert row["jira_webhook_secret_encrypted"].startswith("gAAAAA")


def test_a_url_token_is_kept_as_hashes_and_a_rotated_one_until_its_grace_ends(
    store: Store, tenant: Tenant, clock: FakeClock
) -> None:
    registration, first = WebhookRegistration("7").with_new_token(clock())
    _save(store, tenant, registration)
    rotated, second = _read(store, tenant).jira_webhook.with_new_token(clock(), timedelta(hours=24))
    _save(store, tenant, rotated)

    stored = _read(store, tenant).jira_webhook
    assert (stored.token_hash, stored.previous_token_hash) == (hash_token(second), hash_token(first))
    assert stored.previous_token_until == clock() + timedelta(hours=24)
    assert stored.accepts_token(first, clock()) and stored.accepts_token(second, clock())
    assert not stored.accepts_token(first, clock() + timedelta(hours=24, seconds=1))
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM tenants")).mappings().one()
    text = " ".join(str(value) for value in row.values())
    assert first not in text and second not in text


def test_an_update_of_other_settings_keeps_the_webhook(store: Store, tenant: Tenant) -> None:
    registration = WebhookRegistration("10042", signed=True, secret=WEBHOOK_SECRET)
    saved = _save(store, tenant, registration)
    _save(store, dataclasses.replace(saved, aggregation_region="eu-west-1"), registration)
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(_read(store, tenant), name="renamed"))
    assert _read(store, tenant).jira_webhook == registration


def test_rotating_the_secret_key_keeps_the_webhook_secret_readable(
    engine: Engine, store: Store, tenant: Tenant
) -> None:
    _save(store, tenant, WebhookRegistration("1", signed=True, secret=WEBHOOK_SECRET))
    new_key = "the-new-secret-key-after-rotation-9876543210"
    with Store(engine, SecretBox([new_key, TEST_SECRET_KEY])).transaction() as uow:
        assert uow.tenants.reencrypt_all() == 2  # the Jira token and the webhook secret
    with Store(engine, SecretBox([new_key])).read() as uow:
        stored = uow.tenants.get(tenant.id)
    assert stored is not None and stored.jira_webhook.secret == WEBHOOK_SECRET
