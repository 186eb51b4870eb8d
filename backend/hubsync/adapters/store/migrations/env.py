"""Alembic environment for hubsync: always run programmatically, on a connection that `migrate.py` passes in.

There is no alembic.ini: `hubsync.adapters.store.migrate` builds the Config in code and puts the open connection
in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

from hubsync.adapters.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "hubsync migrations run through hubsync.adapters.store.migrate.upgrade(), which passes a connection; "
        "offline (--sql) mode is not supported"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: later migrations use batch mode there (copy and move the table).
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
