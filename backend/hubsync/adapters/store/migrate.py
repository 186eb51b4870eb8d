"""Schema migrations with Alembic, driven from code: no alembic.ini, the scripts ship inside the package.

The schema is created only here (`upgrade`), never with `create_all`, so a database made by a fresh install and
one upgraded over the years are the same. To write a new migration after changing `models.py`:

    python -c "from hubsync.adapters.store.migrate import new_revision; new_revision('sqlite:///var/x.sqlite3', 'what')"

then review the generated file in `migrations/versions/` (SQLite changes run in batch mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL, Engine

from hubsync.adapters.store.database import SQLITE_BEGIN_OPTION, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Two processes starting at once must not both run the same migration: PostgreSQL serialises on this advisory lock
# (SQLite on its write lock, taken by BEGIN IMMEDIATE).
_MIGRATION_LOCK_ID = 0x68756273796E63  # "hubsync"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, running on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(target: Engine | str | URL, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest); safe to call on every start."""
    with _migration_connection(target) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(target: Engine | str | URL, revision: str = "base") -> None:
    """Step the schema back to `revision` (`base` drops every hubsync table)."""
    with _migration_connection(target) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(target: Engine | str | URL) -> str | None:
    """The revision the database is at, or None before the first `upgrade`."""
    with _engine(target) as engine, engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of hubsync."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def new_revision(target: Engine | str | URL, message: str) -> None:
    """Autogenerate a migration from the difference between `models.py` and a database at head (developers only)."""
    with _migration_connection(target) as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)


@contextmanager
def _migration_connection(target: Engine | str | URL) -> Iterator[sa.Connection]:
    with _engine(target) as engine:
        engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
            yield connection


@contextmanager
def _engine(target: Engine | str | URL) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = create_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()
