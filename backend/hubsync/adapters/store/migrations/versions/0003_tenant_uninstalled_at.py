"""An uninstalled tenant is a state of its own: `tenants.uninstalled_at`.

Until now an uninstall only disabled the tenant and kept its shared secret, so a request signed with that secret
(`enabled` included) could bring it back. From this revision an uninstall erases the secret and sets
`uninstalled_at`; only a new signed install clears it. Existing rows are kept as they are (NULL): a tenant
uninstalled before this revision cannot be told from a disabled one, and stays disabled until Jira reinstalls or
enables it.

SQLite note: the column is added in place (ADD COLUMN), never by copying the table as batch mode would: dropping
the old table would cascade-delete every link and audit entry.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A frozen copy of the model type: a migration must not change when models.py does.
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tenants", sa.Column("uninstalled_at", TIMESTAMPTZ, nullable=True))


def downgrade() -> None:
    """Uninstalled tenants stay disabled with no secret: the older schema's nearest state."""
    op.drop_column("tenants", "uninstalled_at")
