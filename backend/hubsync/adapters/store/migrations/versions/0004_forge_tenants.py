"""Tenants installed through Forge: their installation, cloud and environment, and when their Jira token expires.

A Forge app's data is keyed by its installation (`forge_installation_id`, unique); the site's `forge_cloud_id`
stays the same across a reinstall and re-links a reinstalled app to its tenant (within one Forge environment,
`forge_environment_id`). The app system token Forge hands each invocation is the tenant's Jira secret (encrypted
like every secret); `jira_secret_expires_at` says until when the worker may use it.

SQLite note: the columns are added in place (ADD COLUMN), never by copying the table as batch mode would: dropping
the old table would cascade-delete every link and audit entry. The unique index is created beside them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A frozen copy of the model type: a migration must not change when models.py does.
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tenants", sa.Column("forge_installation_id", sa.String(255), nullable=True))
    op.add_column("tenants", sa.Column("forge_cloud_id", sa.String(64), nullable=True))
    op.add_column("tenants", sa.Column("forge_environment_id", sa.String(64), nullable=True))
    op.add_column("tenants", sa.Column("jira_secret_expires_at", TIMESTAMPTZ, nullable=True))
    op.create_index("ix_tenants_forge_installation_id", "tenants", ["forge_installation_id"], unique=True)
    op.create_index("ix_tenants_forge_cloud_id", "tenants", ["forge_cloud_id"])


def downgrade() -> None:
    """Forge tenants cannot be served by the older schema: they are disabled, their token erased."""
    op.execute(sa.text("UPDATE tenants SET enabled = false, jira_secret_encrypted = NULL WHERE auth_mode = 'FORGE'"))
    op.drop_index("ix_tenants_forge_cloud_id", table_name="tenants")
    op.drop_index("ix_tenants_forge_installation_id", table_name="tenants")
    op.drop_column("tenants", "jira_secret_expires_at")
    op.drop_column("tenants", "forge_environment_id")
    op.drop_column("tenants", "forge_cloud_id")
    op.drop_column("tenants", "forge_installation_id")
