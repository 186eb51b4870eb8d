"""hubsync's admin webhook on a Data Center or API-token Cloud site: its id there, whether its deliveries are signed
(with the HMAC secret, encrypted like every tenant secret) or carry a URL token (stored as a SHA-256 hash, the
previous token's hash kept until its grace period ends, as the events key is).

Every existing tenant starts without a webhook (nothing is registered until an admin runs `hubsync tenant
webhook --register`): the columns are empty, `jira_webhook_signed` false through its server default. They are added
in place (ADD COLUMN), never by copying the table: dropping the old table would cascade-delete every link and audit
entry.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A frozen copy of the model type: a migration must not change when models.py does.
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tenants", sa.Column("jira_webhook_id", sa.String(64), nullable=True))
    op.add_column("tenants", sa.Column("jira_webhook_signed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tenants", sa.Column("jira_webhook_secret_encrypted", sa.Text(), nullable=True))
    op.add_column("tenants", sa.Column("jira_webhook_token_hash", sa.String(128), nullable=True))
    op.add_column("tenants", sa.Column("jira_webhook_token_previous_hash", sa.String(128), nullable=True))
    op.add_column("tenants", sa.Column("jira_webhook_token_previous_until", TIMESTAMPTZ, nullable=True))


def downgrade() -> None:
    """The older schema has no webhook: its deliveries are refused from then on (the site's webhook stays until an
    admin removes it; the periodic reconcile carries on)."""
    op.drop_column("tenants", "jira_webhook_token_previous_until")
    op.drop_column("tenants", "jira_webhook_token_previous_hash")
    op.drop_column("tenants", "jira_webhook_token_hash")
    op.drop_column("tenants", "jira_webhook_secret_encrypted")
    op.drop_column("tenants", "jira_webhook_signed")
    op.drop_column("tenants", "jira_webhook_id")
