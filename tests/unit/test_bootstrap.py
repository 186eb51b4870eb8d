"""The composition root: `bootstrap` builds the runtime a process runs on (the store opened and migrated once, the
queue, the per-site rate budgets) and `TenantClients` keeps each tenant's Jira client and sync context, reused by
every request and thread until the tenant's settings change or they grow old."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync import bootstrap as composition
from hubsync.adapters import rate_limits
from hubsync.adapters.jira.client import LINKED_JQL
from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.rate_limits import Rate
from hubsync.adapters.securityhub import SecurityHubClient, SecurityHubV2Client
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import TenantClients, bootstrap, build_sync_context, jira_client, securityhub_client
from hubsync.config import Settings
from hubsync.domain.policy import Policy
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant, TenantNotReady

SECRET_KEY = "bootstrap-tests-secret-key-0123456789-abcdef"
ROLE_ARN = "arn:aws:iam::111111111111:role/hubsync-securityhub"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Builds:
    """`jira_client` and `build_sync_context` of hubsync.bootstrap replaced: each build counted, a new object each."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jira: list[Tenant] = []
        self.contexts: list[Tenant] = []
        monkeypatch.setattr(composition, "jira_client", self._jira)
        monkeypatch.setattr(composition, "build_sync_context", self._context)

    def _jira(self, tenant: Tenant, *_: Any, **__: Any) -> object:
        self.jira.append(tenant)
        return object()

    def _context(self, tenant: Tenant, store: Any, clock: Any = None) -> object:
        self.contexts.append(tenant)
        return object()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    running = Store(create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}"), SecretBox([SECRET_KEY]))
    upgrade(running.engine)
    yield running
    running.dispose()


@pytest.fixture
def tenant(store: Store) -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(
            name="acme", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret="shared-secret-" + "s" * 30, connect_client_key="jira:acme",
            aws_role_arn=ROLE_ARN, aggregation_region="us-east-1",
        )


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    return Builds(monkeypatch)


# -- TenantClients: reused until the tenant changes ------------------------------------------------------------------
def test_a_client_is_kept_per_tenant_until_its_site_or_secret_changes(store: Store, tenant: Tenant,
                                                                      builds: Builds) -> None:
    clients = TenantClients(store)

    first = clients.jira(tenant)
    assert clients.jira(tenant) is first
    rotated = clients.jira(dataclasses.replace(tenant, jira_secret="shared-secret-rotated-" + "r" * 30))
    moved = clients.jira(dataclasses.replace(tenant, jira_base_url="https://renamed.atlassian.net"))

    assert len({id(first), id(rotated), id(moved)}) == 3
    assert len(builds.jira) == 3


def test_contexts_are_reused_until_the_settings_change(store: Store, tenant: Tenant, builds: Builds) -> None:
    contexts = TenantClients(store)

    first = contexts.sync_context(tenant)
    assert contexts.sync_context(tenant) is first
    with store.transaction() as uow:
        changed = uow.tenants.update(tenant)  # a save moves updated_at
    assert changed.updated_at != tenant.updated_at
    assert contexts.sync_context(changed) is not first
    assert builds.contexts == [tenant, changed]


@pytest.mark.parametrize(
    "change",
    [
        {"jira_base_url": "https://renamed.atlassian.net"},
        {"jira_secret": "another-shared-secret-" + "x" * 30},
        {"jira_flavour": JiraFlavour.DATA_CENTER},
        {"auth_mode": AuthMode.API_TOKEN, "jira_user": "bot@acme.example"},
        {"aws_role_arn": "arn:aws:iam::222222222222:role/hubsync-securityhub"},
        {"organizations_role_arn": "arn:aws:iam::333333333333:role/hubsync-organizations"},
        {"aggregation_region": "eu-west-1"},
        {"external_id": "another-external-id"},
        {"securityhub_generation": SecurityHubGeneration.V2},
    ],
)
def test_a_change_to_the_site_credentials_or_roles_rebuilds_both(store: Store, tenant: Tenant, builds: Builds,
                                                                 change: dict[str, Any]) -> None:
    """Even when `updated_at` does not move (a tenant read before another process saved it)."""
    clients = TenantClients(store)
    jira, context = clients.jira(tenant), clients.sync_context(tenant)
    changed = dataclasses.replace(tenant, **change)

    assert clients.jira(changed) is not jira
    assert clients.sync_context(changed) is not context
    assert (len(builds.jira), len(builds.contexts)) == (2, 2)


def test_a_change_elsewhere_keeps_the_clients(store: Store, tenant: Tenant, builds: Builds) -> None:
    clients = TenantClients(store)
    jira, context = clients.jira(tenant), clients.sync_context(tenant)
    renamed = dataclasses.replace(tenant, name="Acme Corp", events_api_key=None)

    assert clients.jira(renamed) is jira
    assert clients.sync_context(renamed) is context


def test_clients_are_rebuilt_after_their_ttl(store: Store, tenant: Tenant, builds: Builds) -> None:
    clock = FakeClock()
    clients = TenantClients(store, ttl=timedelta(minutes=15), clock=clock)
    jira, context = clients.jira(tenant), clients.sync_context(tenant)

    clock.now += timedelta(minutes=14, seconds=59)
    assert (clients.jira(tenant), clients.sync_context(tenant)) == (jira, context)
    clock.now += timedelta(seconds=1)
    assert clients.jira(tenant) is not jira
    assert clients.sync_context(tenant) is not context
    assert (len(builds.jira), len(builds.contexts)) == (2, 2)


def test_tenants_and_kinds_are_kept_apart(store: Store, tenant: Tenant, builds: Builds) -> None:
    other = dataclasses.replace(tenant, id="another-tenant")
    clients = TenantClients(store)

    assert clients.jira(tenant) is not clients.jira(other)
    assert clients.sync_context(tenant) is not clients.sync_context(other)
    assert clients.jira(tenant) is not clients.sync_context(tenant)
    assert (len(builds.jira), len(builds.contexts)) == (2, 2)


def test_a_forgotten_tenant_is_built_again(store: Store, tenant: Tenant, builds: Builds) -> None:
    clients = TenantClients(store)
    jira, context = clients.jira(tenant), clients.sync_context(tenant)

    clients.forget(tenant.id)

    assert clients.jira(tenant) is not jira
    assert clients.sync_context(tenant) is not context


def test_the_cache_holds_a_bounded_number_of_tenants(store: Store, tenant: Tenant, builds: Builds,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(composition, "MAX_CACHED_TENANTS", 2)
    clients = TenantClients(store)
    first, second, third = (dataclasses.replace(tenant, id=f"tenant-{n}") for n in range(3))
    kept = clients.jira(first)
    clients.jira(second)
    clients.jira(third)  # the oldest entry makes room

    assert clients.jira(first) is not kept
    assert len(builds.jira) == 4


def test_a_tenant_that_is_not_ready_is_asked_again_next_time(store: Store, tenant: Tenant) -> None:
    clients = TenantClients(store)
    unready = dataclasses.replace(tenant, aws_role_arn=None)
    with pytest.raises(TenantNotReady, match="no AWS role ARN"):
        clients.sync_context(unready)
    with pytest.raises(TenantNotReady, match="no AWS role ARN"):
        clients.sync_context(unready)  # nothing was cached: the error is the tenant's as it is now


# -- what the clients are built from ---------------------------------------------------------------------------------
def test_a_tenant_missing_a_setting_is_told_which(tenant: Tenant, store: Store) -> None:
    with pytest.raises(TenantNotReady, match="no AWS role ARN"):
        build_sync_context(dataclasses.replace(tenant, aws_role_arn=None), store)
    with pytest.raises(TenantNotReady, match="no Security Hub Region"):
        build_sync_context(dataclasses.replace(tenant, aggregation_region=None), store)
    with pytest.raises(TenantNotReady, match="no Jira credentials"):
        jira_client(dataclasses.replace(tenant, jira_secret=None))
    with pytest.raises(TenantNotReady, match="the Jira user's email"):
        jira_client(dataclasses.replace(tenant, auth_mode=AuthMode.API_TOKEN, jira_user=None))
    with pytest.raises(TenantNotReady, match="Jira site URL cannot be used"):
        jira_client(dataclasses.replace(tenant, jira_base_url="https://evil.example\\@acme.atlassian.net"))


@pytest.mark.parametrize(("generation", "client"), [
    (SecurityHubGeneration.CSPM, SecurityHubClient), (SecurityHubGeneration.V2, SecurityHubV2Client),
])
def test_a_tenant_reads_the_security_hub_it_chose(tenant: Tenant, generation: SecurityHubGeneration,
                                                 client: type) -> None:
    chosen = securityhub_client(dataclasses.replace(tenant, securityhub_generation=generation))
    assert type(chosen) is client


@pytest.mark.parametrize(("auth_mode", "by_property"), [
    (AuthMode.CONNECT, True), (AuthMode.FORGE, True),  # the app declares the property's JQL index
    (AuthMode.API_TOKEN, False), (AuthMode.PAT, False), (AuthMode.BASIC, False),  # no app: nothing indexes it
])
def test_an_apps_tickets_are_found_by_their_indexed_marker_others_by_label(
    tenant: Tenant, auth_mode: AuthMode, by_property: bool
) -> None:
    policy = Policy(project_key="SEC", rules=(), labels=("security-hub",))
    jql = composition._linked_jql(dataclasses.replace(tenant, auth_mode=auth_mode), policy)
    assert jql == (LINKED_JQL if by_property else 'labels in ("security-hub")')


# -- bootstrap ----------------------------------------------------------------------------------------------------
def test_without_a_store_bootstrap_opens_and_migrates_one_and_close_disposes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed: list[Store] = []
    monkeypatch.setattr(Store, "dispose", lambda self: disposed.append(self))
    settings = Settings.from_environment({"HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'opened.sqlite3'}",
                                          "HUBSYNC_SECRET_KEY": SECRET_KEY})

    runtime = bootstrap(settings)

    with runtime.store.read() as uow:
        assert uow.tenants.list() == []  # the schema is there
    assert isinstance(runtime.queue, LocalQueue)  # HUBSYNC_QUEUE_URL unset: the queue is in the database
    assert runtime.events_source() is None
    assert runtime.settings is settings
    runtime.close()
    assert disposed == [runtime.store]


def test_a_given_store_is_neither_migrated_nor_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'given.sqlite3'}")
    given = Store(engine, SecretBox([SECRET_KEY]))
    disposed: list[Store] = []
    monkeypatch.setattr(Store, "dispose", lambda self: disposed.append(self))

    runtime = bootstrap(Settings.from_environment({}), store=given)

    assert runtime.store is given
    assert "tenants" not in sa.inspect(engine).get_table_names()  # its owner migrates it
    runtime.close()
    assert disposed == []
    engine.dispose()


def test_a_fresh_clone_runs_the_sandbox_on_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    runtime = bootstrap(Settings.from_environment({}), sandbox=True)  # no variable set at all
    try:
        with runtime.store.read() as uow:
            assert uow.tenants.list() == []
    finally:
        runtime.close()
    assert (tmp_path / "var" / "hubsync.sqlite3").is_file()


def test_bootstrap_sets_the_processs_rate_budgets(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limits, "_settings", rate_limits._settings)  # restored afterwards
    settings = Settings.from_environment({"HUBSYNC_JIRA_RATE": "2.5", "HUBSYNC_JIRA_BURST": "5",
                                          "HUBSYNC_AWS_RATE_SHARE": "0.5"})

    bootstrap(settings, store=store)

    assert rate_limits.jira_rate("https://acme.atlassian.net") == Rate(2.5, 5)
    assert rate_limits.aws_rate(("securityhub", "111111111111", "us-east-1", "GetFindings")) == Rate(1.5, 3)


# -- hubsync's own Jira user (AppAccounts) --------------------------------------------------------------------------


def test_the_apps_own_user_is_asked_of_the_site_once(store: Store, tenant: Tenant) -> None:
    asked: list[str] = []
    clients = TenantClients(store, app_user=lambda t: asked.append(t.id) or "app-123")
    app = {"accountType": "app", "accountId": "app-123"}

    assert clients.is_own(tenant, app) and clients.is_own(tenant, app)
    assert not clients.is_own(tenant, {"accountType": "app", "accountId": "other-app"})
    assert not clients.is_own(tenant, {"accountType": "atlassian", "accountId": "app-123"})  # a person
    assert not clients.is_own(tenant, None)
    assert asked == [tenant.id]

    moved = dataclasses.replace(tenant, jira_base_url="https://renamed.atlassian.net")
    assert clients.is_own(moved, app) and asked == [tenant.id, tenant.id]  # another site: asked again


def test_a_site_that_cannot_tell_is_asked_again_and_its_webhooks_count_as_someone_elses(store: Store,
                                                                                       tenant: Tenant) -> None:
    answers = iter([None, "app-123"])
    clients = TenantClients(store, app_user=lambda t: next(answers))
    app = {"accountType": "app", "accountId": "app-123"}

    assert not clients.is_own(tenant, app)  # a needless hint costs reads; a lost one would miss a change
    assert clients.is_own(tenant, app)
