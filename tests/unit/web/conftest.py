"""Web app fixtures: the app built on a fresh SQLite store, a recording queue, a sandbox install-key server (no
HTTP) and one installed Connect tenant, for requests through Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.web import create_app
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from tests.unit.web.forge_requests import (
    APP_ID,
    FORGE_KEY,
    KID,
    StaticForgeKeys,
    app_token,
    call,
    forge_tenants,
    installed_event,
)
from tests.unit.web.jira_requests import (
    APP_ACCOUNT_ID,
    BASE_URL,
    CLIENT_KEY,
    JIRA_URL,
    SECRET_KEY,
    SHARED_SECRET,
    KeyServerKeys,
    KnownAppAccounts,
    RecordingQueue,
)


@pytest.fixture(scope="session")
def key_server() -> InstallKeyServer:
    return InstallKeyServer()  # an RSA key pair: made once, it takes a moment


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    running = Store(create_engine(f"sqlite:///{tmp_path / 'web.sqlite3'}"), SecretBox([SECRET_KEY]))
    upgrade(running.engine)
    yield running
    running.dispose()


@pytest.fixture
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture
def install_keys(key_server: InstallKeyServer) -> KeyServerKeys:
    return KeyServerKeys(key_server)


@pytest.fixture
def app_accounts() -> KnownAppAccounts:
    return KnownAppAccounts()


@pytest.fixture
def environ() -> dict[str, str]:
    return {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY}


@pytest.fixture
def app(
    environ: dict[str, str],
    store: Store,
    queue: RecordingQueue,
    install_keys: KeyServerKeys,
    app_accounts: KnownAppAccounts,
) -> Flask:
    runtime = bootstrap(Settings.from_environment(environ), store=store, queue=queue, install_keys=install_keys,
                        app_accounts=app_accounts)
    return create_app(runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tenant(app: Flask, store: Store, app_accounts: KnownAppAccounts) -> Tenant:
    """A Connect install of acme.atlassian.net (created after the app, on the store's migrated schema)."""
    with store.transaction() as uow:
        created = uow.tenants.create(
            name="acme.atlassian.net",
            jira_base_url=JIRA_URL,
            jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT,
            jira_secret=SHARED_SECRET,
            connect_client_key=CLIENT_KEY,
        )
    app_accounts.accounts[created.id] = APP_ACCOUNT_ID
    return created


def tenants(store: Store) -> list[Tenant]:
    with store.read() as uow:
        return uow.tenants.list()


# -- Forge ---------------------------------------------------------------------------------------------------

@pytest.fixture
def forge_keys() -> StaticForgeKeys:
    return StaticForgeKeys({KID: FORGE_KEY.public_key()})


@pytest.fixture
def forge_app(store: Store, queue: RecordingQueue, forge_keys: StaticForgeKeys) -> Flask:
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SECRET_KEY,
                                          "HUBSYNC_FORGE_APP_ID": APP_ID})
    return create_app(bootstrap(settings, store=store, queue=queue, forge_keys=forge_keys))


@pytest.fixture
def forge(forge_app: Flask) -> FlaskClient:
    return forge_app.test_client()


@pytest.fixture
def installed(forge: FlaskClient, store: Store) -> Iterator[Tenant]:
    assert call(forge, "/forge/lifecycle", installed_event(), system=app_token()).status_code == 204
    [tenant] = forge_tenants(store)
    yield tenant
