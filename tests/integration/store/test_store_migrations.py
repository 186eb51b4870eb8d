"""The schema comes only from the migrations, and it is exactly what the models say."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from hubsync.adapters.store import SecretBox, Store, current_revision, downgrade, head_revision, upgrade
from hubsync.adapters.store.models import Base
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration
from tests.integration.store.builders import TEST_SECRET_KEY

HUBSYNC_TABLES = {"tenants", "links", "audit", "queue_hints", "queue_events", "worker_timers"}


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_the_migrated_schema_is_exactly_the_models(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_fresh_database_is_empty_until_upgraded_to_head(engine: Engine) -> None:
    assert _tables(engine) == set()
    assert current_revision(engine) is None

    upgrade(engine)

    assert _tables(engine) == HUBSYNC_TABLES
    assert current_revision(engine) == head_revision()


def test_upgrade_is_safe_to_run_on_every_start(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert _tables(engine) == set()
    assert current_revision(engine) is None

    upgrade(engine)
    assert _tables(engine) == HUBSYNC_TABLES
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrade_accepts_a_url_and_creates_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "hubsync.sqlite3"
    upgrade(f"sqlite:///{path}")
    assert path.exists()
    assert current_revision(f"sqlite:///{path}") == head_revision()


def test_downgrading_below_the_generation_disables_tenants_of_the_new_security_hub(engine: Engine) -> None:
    """The older schema knows only Security Hub CSPM: a tenant set up for the new one must not sync with it."""
    upgrade(engine)
    store = Store(engine, SecretBox([TEST_SECRET_KEY]))
    with store.transaction() as uow:
        for name, generation in (("cspm", SecurityHubGeneration.CSPM), ("v2", SecurityHubGeneration.V2)):
            uow.tenants.create(name=name, jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                               auth_mode=AuthMode.API_TOKEN, securityhub_generation=generation)

    downgrade(engine, "0004")

    with engine.connect() as connection:
        enabled = {name: value for name, value in connection.execute(sa.text("SELECT name, enabled FROM tenants"))}
    assert {name: bool(value) for name, value in enabled.items()} == {"cspm": True, "v2": False}
