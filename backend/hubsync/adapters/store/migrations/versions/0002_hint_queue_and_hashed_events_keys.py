"""The local hint queue (hints, seen event ids, worker timers) and events API keys stored as hashes.

The encrypted events key column goes: a key hubsync can decrypt is a key a database thief with the secret key can
use. Keys are now stored as SHA-256 hashes, with the previous key's hash kept for a grace period after a rotation.
No EventBridge destination used the old keys (the intake did not exist before this revision), so none is carried
over: a tenant gets a key when an admin generates one. Downgrading drops the hashes for the same reason.

SQLite note: the tenants table is altered in place (ADD / DROP COLUMN, SQLite 3.35+), never copied and moved as
batch mode would: dropping the old table would cascade-delete every link and audit entry.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the model types: a migration must not change when models.py does.
TIMESTAMPTZ = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("tenants", sa.Column("events_api_key_hash", sa.String(128), nullable=True))
    op.add_column("tenants", sa.Column("events_api_key_previous_hash", sa.String(128), nullable=True))
    op.add_column("tenants", sa.Column("events_api_key_previous_until", TIMESTAMPTZ, nullable=True))
    op.drop_column("tenants", "events_api_key_encrypted")

    op.create_table(
        "queue_hints",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("enqueued_at", TIMESTAMPTZ, nullable=False),
        sa.Column("available_at", TIMESTAMPTZ, nullable=False),
        sa.Column("leased_until", TIMESTAMPTZ, nullable=True),
        sa.Column("lease_token", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_queue_hints_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_queue_hints"),
    )
    op.create_index("ix_queue_hints_state_priority_id", "queue_hints", ["state", "priority", "id"])
    op.create_index("ix_queue_hints_group_key_leased_until", "queue_hints", ["group_key", "leased_until"])
    op.create_index("ix_queue_hints_tenant_id", "queue_hints", ["tenant_id"])
    op.create_table(
        "queue_events",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("seen_at", TIMESTAMPTZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_queue_events_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name="pk_queue_events"),
    )
    op.create_index("ix_queue_events_seen_at", "queue_events", ["seen_at"])
    op.create_table(
        "worker_timers",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("due_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_worker_timers"),
    )


def downgrade() -> None:
    op.drop_table("worker_timers")
    op.drop_index("ix_queue_events_seen_at", table_name="queue_events")
    op.drop_table("queue_events")
    op.drop_index("ix_queue_hints_tenant_id", table_name="queue_hints")
    op.drop_index("ix_queue_hints_group_key_leased_until", table_name="queue_hints")
    op.drop_index("ix_queue_hints_state_priority_id", table_name="queue_hints")
    op.drop_table("queue_hints")
    op.add_column("tenants", sa.Column("events_api_key_encrypted", sa.Text(), nullable=True))
    op.drop_column("tenants", "events_api_key_previous_until")
    op.drop_column("tenants", "events_api_key_previous_hash")
    op.drop_column("tenants", "events_api_key_hash")
