"""Which Security Hub a tenant syncs with: Security Hub CSPM (ASFF findings), as every tenant did until now, or the
new Security Hub (OCSF findings, the V2 operations).

Every existing tenant keeps CSPM through the column's server default. The column is added in place (ADD COLUMN with
a constant default is allowed on SQLite), never by copying the table: dropping the old table would cascade-delete
every link and audit entry.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("securityhub_generation", sa.String(16), nullable=False, server_default="CSPM")
    )


def downgrade() -> None:
    """The older schema knows only Security Hub CSPM: a tenant set to the new Security Hub is disabled rather than
    left to sync with findings it was not set up for."""
    op.execute(sa.text("UPDATE tenants SET enabled = false WHERE securityhub_generation <> 'CSPM'"))
    op.drop_column("tenants", "securityhub_generation")
