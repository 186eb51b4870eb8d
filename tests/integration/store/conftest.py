"""Store fixtures: every test runs on a fresh SQLite file and on a fresh PostgreSQL schema.

PostgreSQL comes from HUBSYNC_TEST_POSTGRES_URL; each test gets its own schema (a random name on the connection's
`search_path`), dropped afterwards, so runs never see each other's rows and leave nothing behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.domain.tenant import Tenant
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, make_tenant

POSTGRES_URL_VARIABLE = "HUBSYNC_TEST_POSTGRES_URL"

EngineFactory = Callable[[], Engine]


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: the PostgreSQL store tests need a server to run against")
    return url


@contextmanager
def _sqlite_databases(directory: Path) -> Iterator[EngineFactory]:
    url = f"sqlite:///{directory / 'hubsync.sqlite3'}"
    engines: list[Engine] = []

    def make() -> Engine:
        engines.append(create_engine(url, sqlite_busy_timeout=10))
        return engines[-1]

    try:
        yield make
    finally:
        for engine in engines:
            engine.dispose()


@contextmanager
def _postgres_databases() -> Iterator[EngineFactory]:
    url = _postgres_url()
    schema = f"hubsync_test_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engines: list[Engine] = []

    def make() -> Engine:
        engines.append(create_engine(url, connect_args={"options": f"-csearch_path={schema}"}))
        return engines[-1]

    try:
        yield make
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """Makes engines on this test's own empty database (several engines stand for several processes)."""
    databases = _sqlite_databases(tmp_path) if request.param == "sqlite" else _postgres_databases()
    with databases as make:
        yield make


@pytest.fixture
def postgres_engine_factory() -> Iterator[EngineFactory]:
    """For behaviour only PostgreSQL has (row locks, overlapping write transactions)."""
    with _postgres_databases() as make:
        yield make


@pytest.fixture
def engine(engine_factory: EngineFactory) -> Engine:
    """An engine on an empty database (no tables: migrations make them)."""
    return engine_factory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox([TEST_SECRET_KEY])


@pytest.fixture
def store(engine: Engine, secret_box: SecretBox, clock: FakeClock) -> Store:
    """A store on a migrated database, with a clock the test moves by hand."""
    upgrade(engine)
    return Store(engine, secret_box, clock=clock)


@pytest.fixture
def postgres_store(postgres_engine_factory: EngineFactory, secret_box: SecretBox, clock: FakeClock) -> Store:
    engine = postgres_engine_factory()
    upgrade(engine)
    return Store(engine, secret_box, clock=clock)


@pytest.fixture
def tenant(store: Store) -> Tenant:
    return make_tenant(store)
