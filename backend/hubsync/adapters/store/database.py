"""The database engine: SQLite by default (a file under ./var), PostgreSQL through psycopg 3.

SQLite notes. hubsync runs several threads (web, worker) against one file, so the file is opened in WAL mode
(readers never block the writer) with a busy timeout (a writer waits for the lock instead of failing at once).
Python 3.11's sqlite3 driver does not begin a transaction before a SELECT, which breaks "read, then write"
consistency; we switch its transaction handling off and emit BEGIN ourselves (SQLAlchemy's documented recipe),
choosing BEGIN IMMEDIATE for write transactions so that a writer takes SQLite's single write lock up front rather
than failing with SQLITE_BUSY when it upgrades a stale read snapshot.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

DEFAULT_SQLITE_PATH = Path("var") / "hubsync.sqlite3"
SQLITE_BUSY_TIMEOUT_SECONDS = 60.0

# Execution option read by the SQLite BEGIN hook: "IMMEDIATE" for write transactions, "DEFERRED" for reads.
SQLITE_BEGIN_OPTION = "hubsync_sqlite_begin"


def database_url(value: str = "") -> URL:
    """The database `value` names (HUBSYNC_DATABASE_URL), or when empty a SQLite file `./var/hubsync.sqlite3`, so
    a fresh clone needs no database server."""
    if not value.strip():
        return URL.create("sqlite", database=str(DEFAULT_SQLITE_PATH.resolve()))
    return normalise_url(value.strip())


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs people paste (`postgres://`, `postgresql://`) and use psycopg 3 for them."""
    url = make_url(url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_engine(
    url: str | URL | None = None, *, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS, **options: Any
) -> Engine:
    """An engine configured for hubsync's concurrency model; `url` defaults to `database_url()`."""
    url = database_url() if url is None else normalise_url(url)
    options.setdefault("json_serializer", dumps_json)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, sqlite_busy_timeout, options)
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **options)


def dumps_json(value: Any) -> str:
    """JSON for policy and audit columns: datetimes as ISO 8601, enums by value, dataclasses as objects."""
    return json.dumps(value, default=_json_default, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sqlite_engine(url: URL, busy_timeout: float, options: dict[str, Any]) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_timeout)
    engine = sa.create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see the module docstring)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across application crashes; WAL keeps it consistent
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
