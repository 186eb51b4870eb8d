"""The engine: a fresh clone needs no database server, SQLite is set up for several threads, and PostgreSQL URLs
as people paste them work."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.adapters.store import Store, create_engine, database_url, upgrade
from hubsync.adapters.store.database import normalise_url
from hubsync.config import Settings
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import Tenant
from tests.integration.store.builders import finding


def test_the_default_database_is_a_sqlite_file_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = database_url(Settings.from_environment({}).database_url)
    assert url.get_backend_name() == "sqlite"
    assert Path(url.database) == tmp_path / "var" / "hubsync.sqlite3"

    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    assert (tmp_path / "var" / "hubsync.sqlite3").is_file()


def test_the_database_url_comes_from_the_environment() -> None:
    settings = Settings.from_environment({"HUBSYNC_DATABASE_URL": "postgresql://hubsync:pw@db.internal:5432/hubsync"})
    url = database_url(settings.database_url)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.database) == ("db.internal", "hubsync")


@pytest.mark.parametrize("pasted", ["postgres://u@h/d", "postgresql://u@h/d", "postgresql+psycopg://u@h/d"])
def test_postgresql_urls_use_psycopg_3(pasted: str) -> None:
    assert normalise_url(pasted).drivername == "postgresql+psycopg"


def test_sqlite_is_set_up_for_concurrent_threads(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", sqlite_busy_timeout=7)
    with engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 7000, "foreign_keys": 1}


def test_a_naive_datetime_is_refused_rather_than_stored_in_an_unknown_zone(store: Store, tenant: Tenant) -> None:
    link = Link(
        finding(1).key,
        finding(1).id,
        finding(1).product_arn,
        LinkState.LINKED,
        seen_updated_at=datetime(2025, 6, 1, 12, 0),  # naive: the mistake under test
    )
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), store.transaction() as uow:
        uow.links.save(tenant.id, link)
