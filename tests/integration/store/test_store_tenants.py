"""Tenants: created with the identifiers hubsync generates, changed and listed, and their secrets are never stored
in the clear."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.store import MissingSecretKey, SecretBox, SecretDecryptionError, Store, create_engine, upgrade
from hubsync.adapters.store.tenants import hash_events_api_key
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import (
    AuthMode,
    JiraFlavour,
    SecurityHubGeneration,
    Tenant,
    TenantConflict,
    TenantNotFound,
    TenantState,
)
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, finding, make_tenant

JIRA_TOKEN = "ATATT3xFfGF0-plaintext-jira-api-token-4f1e"
SHARED_SECRET = "connect-shared-secret-that-must-never-be-stored-in-the-clear"


def connect_tenant(store: Store, client_key: str = "client-key-1") -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(
            name="Acme on Cloud",
            jira_base_url="https://acme.atlassian.net",
            jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT,
            jira_secret=SHARED_SECRET,
            connect_client_key=client_key,
            aws_role_arn="arn:aws:iam::222233334444:role/hubsync-securityhub",
            organizations_role_arn="arn:aws:iam::999988887777:role/hubsync-organizations",
            aggregation_region="eu-west-1",
            policy={"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]},
        )


def test_a_new_tenant_reads_back_with_its_secrets_and_generated_identifiers(store: Store) -> None:
    created = connect_tenant(store)
    with store.read() as uow:
        stored = uow.tenants.get(created.id)

    assert stored == created
    assert stored.jira_secret == SHARED_SECRET
    assert stored.policy["rules"][0]["min_severity"] == "CRITICAL"
    assert len(stored.external_id) >= 32 and len(created.events_api_key) >= 40
    assert stored.events_api_key is None  # shown once, on creation: only its hash is kept
    assert stored.created_at == stored.updated_at is not None


def test_each_tenant_gets_its_own_external_id_and_events_key(store: Store) -> None:
    first, second = connect_tenant(store, "one"), connect_tenant(store, "two")
    assert first.id != second.id
    assert first.external_id != second.external_id
    assert first.events_api_key != second.events_api_key


def test_an_existing_roles_external_id_can_be_given(store: Store) -> None:
    with store.transaction() as uow:
        tenant = uow.tenants.create(
            name="Sandbox",
            jira_base_url="http://127.0.0.1:1",
            jira_flavour=JiraFlavour.DATA_CENTER,
            auth_mode=AuthMode.PAT,
            external_id="hubsync-sandbox-external-id",
            tenant_id="sandbox",
        )
    with store.read() as uow:
        assert uow.tenants.get("sandbox").external_id == tenant.external_id == "hubsync-sandbox-external-id"


def test_a_connect_install_is_found_by_its_client_key(store: Store) -> None:
    tenant = connect_tenant(store, "jira:6f1c5d2e")
    with store.read() as uow:
        assert uow.tenants.get_by_client_key("jira:6f1c5d2e") == tenant
        assert uow.tenants.get_by_client_key("jira:unknown") is None


def test_a_client_key_belongs_to_one_tenant(store: Store) -> None:
    connect_tenant(store, "same")
    with pytest.raises(TenantConflict):  # a concurrent install of the same site updates instead
        connect_tenant(store, "same")


def test_an_update_changes_fields_and_secrets_but_not_identity(store: Store, clock: FakeClock) -> None:
    tenant = connect_tenant(store)
    clock.advance(3600)
    changed = dataclasses.replace(
        tenant, jira_secret="rotated-shared-secret", enabled=False, policy={"project_key": "OPS"}, external_id="x"
    )
    with store.transaction() as uow:
        uow.tenants.update(changed)
    with store.read() as uow:
        stored = uow.tenants.get(tenant.id)

    assert stored.jira_secret == "rotated-shared-secret"
    assert (stored.enabled, stored.policy) == (False, {"project_key": "OPS"})
    assert stored.external_id == tenant.external_id  # the IAM trust policies depend on it
    assert stored.created_at == tenant.created_at and stored.updated_at == clock.now


def test_the_security_hub_generation_is_cspm_unless_chosen_and_reads_back_as_chosen(store: Store) -> None:
    cspm = connect_tenant(store, "cspm")
    with store.transaction() as uow:
        v2 = uow.tenants.create(name="Acme on the new Security Hub", jira_base_url="https://acme.atlassian.net",
                                jira_flavour=JiraFlavour.CLOUD, auth_mode=AuthMode.API_TOKEN,
                                securityhub_generation=SecurityHubGeneration.V2)
    with store.read() as uow:
        assert uow.tenants.get(cspm.id).securityhub_generation is SecurityHubGeneration.CSPM
        assert uow.tenants.get(v2.id).securityhub_generation is SecurityHubGeneration.V2

    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(cspm, securityhub_generation=SecurityHubGeneration.V2))
        uow.tenants.update(dataclasses.replace(v2, securityhub_generation=SecurityHubGeneration.CSPM))
    with store.read() as uow:
        assert uow.tenants.get(cspm.id).securityhub_generation is SecurityHubGeneration.V2
        assert uow.tenants.get(v2.id).securityhub_generation is SecurityHubGeneration.CSPM


def test_updating_an_unknown_tenant_fails(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow, pytest.raises(TenantNotFound):
        uow.tenants.update(dataclasses.replace(tenant, id="nobody"))


def test_the_events_key_given_on_creation_verifies_and_nothing_else_does(store: Store, tenant: Tenant) -> None:
    other = make_tenant(store, "other")
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)
        assert not uow.tenants.verify_events_api_key(tenant.id, other.events_api_key)
        assert not uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key + "x")
        assert not uow.tenants.verify_events_api_key(tenant.id, "")
        assert not uow.tenants.verify_events_api_key("no-such-tenant", tenant.events_api_key)


def test_a_rotated_key_keeps_working_for_the_grace_period(store: Store, tenant: Tenant, clock: FakeClock) -> None:
    with store.transaction() as uow:
        renewed = uow.tenants.regenerate_events_api_key(tenant.id)
    assert renewed != tenant.events_api_key and len(renewed) >= 40
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, renewed)
        assert uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)  # EventBridge not updated yet

    clock.advance(24 * 3600)

    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, renewed)
        assert not uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)


def test_a_leaked_key_stops_working_at_once(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        renewed = uow.tenants.regenerate_events_api_key(tenant.id, grace=timedelta(0))
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, renewed)
        assert not uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)


def test_two_rotations_keep_only_the_latest_two_keys(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        second = uow.tenants.regenerate_events_api_key(tenant.id)
        third = uow.tenants.regenerate_events_api_key(tenant.id)
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, third)
        assert uow.tenants.verify_events_api_key(tenant.id, second)
        assert not uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)


def test_regenerating_the_key_of_an_unknown_tenant_fails(store: Store) -> None:
    with store.transaction() as uow, pytest.raises(TenantNotFound):
        uow.tenants.regenerate_events_api_key("nobody")


def test_an_update_leaves_the_events_key_alone(store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(uow.tenants.get(tenant.id), name="renamed"))
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)


def test_listing_tenants_in_creation_order_and_only_enabled_ones(store: Store, clock: FakeClock) -> None:
    first = make_tenant(store, "first")
    clock.advance(1)
    second = make_tenant(store, "second")
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(first, enabled=False))
        assert [t.name for t in uow.tenants.list()] == ["first", "second"]
        assert [t.id for t in uow.tenants.list(enabled_only=True)] == [second.id]


def test_an_uninstall_erases_the_secret_and_keeps_settings_links_and_events_key(
    store: Store, clock: FakeClock
) -> None:
    tenant = connect_tenant(store)
    link = Link(finding(1).key, finding(1).id, finding(1).product_arn, LinkState.LINKED, ticket_key="SEC-1")
    with store.transaction() as uow:
        uow.links.save(tenant.id, link)
    clock.advance(60)
    with store.transaction() as uow:
        uninstalled = uow.tenants.uninstall(tenant.id)

    with store.read() as uow:
        stored = uow.tenants.get(tenant.id)
        kept = uow.links.get(tenant.id, link.finding_key)
        assert uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)
    assert kept is not None and (kept.state, kept.ticket_key) == (LinkState.LINKED, "SEC-1")
    assert stored == uninstalled
    assert stored.state is TenantState.UNINSTALLED and not stored.enabled
    assert stored.uninstalled_at == clock()
    assert stored.jira_secret is None
    assert (stored.policy, stored.aws_role_arn) == (tenant.policy, tenant.aws_role_arn)
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT jira_secret_encrypted FROM tenants")).one()
    assert row.jira_secret_encrypted is None


def test_the_three_states_of_a_tenant(store: Store) -> None:
    tenant = connect_tenant(store)
    assert tenant.state is TenantState.ENABLED
    with store.transaction() as uow:
        disabled = uow.tenants.update(dataclasses.replace(tenant, enabled=False))
    assert disabled.state is TenantState.DISABLED and disabled.jira_secret == SHARED_SECRET
    with store.transaction() as uow:
        uninstalled = uow.tenants.uninstall(tenant.id)
        assert [t.id for t in uow.tenants.list(enabled_only=True)] == []
    assert uninstalled.state is TenantState.UNINSTALLED


def test_an_uninstalled_tenant_cannot_be_enabled_or_given_a_secret_without_a_reinstall(store: Store) -> None:
    tenant = connect_tenant(store)
    with store.transaction() as uow:
        uninstalled = uow.tenants.uninstall(tenant.id)
    for change in ({"enabled": True}, {"jira_secret": "an old secret"}):
        with pytest.raises(ValueError, match="uninstalled"), store.transaction() as uow:
            uow.tenants.update(dataclasses.replace(uninstalled, **change))
    with store.transaction() as uow:
        reinstalled = uow.tenants.update(
            dataclasses.replace(uninstalled, uninstalled_at=None, enabled=True, jira_secret="new shared secret")
        )
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) == reinstalled
    assert reinstalled.state is TenantState.ENABLED and reinstalled.jira_secret == "new shared secret"


def test_uninstalling_an_unknown_tenant_fails(store: Store) -> None:
    with pytest.raises(TenantNotFound), store.transaction() as uow:
        uow.tenants.uninstall("no-such-tenant")


def test_deleting_a_tenant_removes_its_links(store: Store, tenant: Tenant) -> None:
    link = Link(finding(1).key, finding(1).id, finding(1).product_arn, LinkState.LINKED, ticket_key="SEC-1")
    with store.transaction() as uow:
        uow.links.save(tenant.id, link)
        assert uow.tenants.delete(tenant.id)
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) is None
        assert uow.links.get(tenant.id, link.finding_key) is None


def test_secrets_are_not_in_the_table_in_the_clear(store: Store) -> None:
    tenant = connect_tenant(store)
    with store.transaction() as uow:
        uow.tenants.update(dataclasses.replace(tenant, jira_secret=JIRA_TOKEN))

    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM tenants")).mappings().all()
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert JIRA_TOKEN not in stored and SHARED_SECRET not in stored
    assert tenant.events_api_key not in stored
    assert rows[0]["jira_secret_encrypted"].startswith("gAAAAA")  # a Fernet token
    assert rows[0]["events_api_key_hash"] == hash_events_api_key(tenant.events_api_key)


def test_secrets_are_not_in_the_sqlite_files(tmp_path: Path, secret_box: SecretBox) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    upgrade(engine)
    store = Store(engine, secret_box)
    connect_tenant(store)
    with store.transaction() as uow:
        tenant = uow.tenants.list()[0]
        uow.tenants.update(dataclasses.replace(tenant, jira_secret=JIRA_TOKEN))
    engine.dispose()

    files = list(tmp_path.glob("hubsync.sqlite3*"))
    raw = b"".join(path.read_bytes() for path in files)
    assert raw, files
    assert JIRA_TOKEN.encode() not in raw and SHARED_SECRET.encode() not in raw


def test_a_secret_copied_into_another_tenants_row_does_not_decrypt(store: Store) -> None:
    victim, attacker = connect_tenant(store, "victim"), connect_tenant(store, "attacker")
    with store.engine.begin() as connection:
        token = connection.execute(
            sa.text("SELECT jira_secret_encrypted FROM tenants WHERE id = :id"), {"id": victim.id}
        ).scalar()
        connection.execute(
            sa.text("UPDATE tenants SET jira_secret_encrypted = :token WHERE id = :id"),
            {"token": token, "id": attacker.id},
        )
    with store.read() as uow, pytest.raises(SecretDecryptionError):
        uow.tenants.get(attacker.id)


def test_secrets_need_the_key_they_were_stored_with(engine: Engine, store: Store, tenant: Tenant) -> None:
    other_key = Store(engine, SecretBox(["a-different-key-that-is-long-enough-0123456789"]))
    with other_key.read() as uow, pytest.raises(SecretDecryptionError) as error:
        uow.tenants.get(tenant.id)
    assert "api-token-for-example-corp" not in str(error.value)


def test_a_store_without_a_key_refuses_tenant_secrets(engine: Engine, store: Store, tenant: Tenant) -> None:
    keyless = Store(engine)
    with keyless.read() as uow, pytest.raises(MissingSecretKey):
        uow.tenants.get(tenant.id)


def test_rotating_the_key_keeps_every_secret_readable(engine: Engine, store: Store, tenant: Tenant) -> None:
    old_key = TEST_SECRET_KEY  # the store fixture's
    new_key = "the-new-secret-key-after-rotation-9876543210"
    both = Store(engine, SecretBox([new_key, old_key]))
    with both.transaction() as uow:
        assert uow.tenants.reencrypt_all() == 1  # the Jira token (the events key is a hash, not encrypted)
    only_new = Store(engine, SecretBox([new_key]))
    with only_new.read() as uow:
        assert uow.tenants.get(tenant.id).jira_secret == "api-token-for-example-corp"


def test_a_tenant_read_to_change_stays_locked_until_the_change_commits(store: Store, tenant: Tenant) -> None:
    """A reinstall (new secret) and a settings save at once: the second reads what the first wrote, never the
    tenant as it was before, so neither undoes the other."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    first_has_read = threading.Event()

    def settings_save() -> str | None:
        first_has_read.wait(10)
        with store.transaction() as uow:
            current = uow.tenants.get(tenant.id, for_update=True)
            assert current is not None
            uow.tenants.update(dataclasses.replace(current, aws_role_arn="arn:aws:iam::111122223333:role/x"))
            return current.jira_secret

    with ThreadPoolExecutor(1) as pool:
        with store.transaction() as uow:
            reinstalling = uow.tenants.get(tenant.id, for_update=True)
            assert reinstalling is not None
            saving = pool.submit(settings_save)
            first_has_read.set()
            threading.Event().wait(0.3)  # the save reaches its read and, on PostgreSQL, waits on the row
            uow.tenants.update(dataclasses.replace(reinstalling, jira_secret="the new shared secret"))
        assert saving.result(10) == "the new shared secret"
    with store.read() as uow:
        final = uow.tenants.get(tenant.id)
    assert final is not None
    assert (final.jira_secret, final.aws_role_arn) == ("the new shared secret", "arn:aws:iam::111122223333:role/x")
