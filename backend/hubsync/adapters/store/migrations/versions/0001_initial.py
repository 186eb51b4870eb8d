"""Tenants, links and the audit timeline.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the model types: a migration must not change when models.py does.
TIMESTAMPTZ = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("jira_base_url", sa.String(2048), nullable=False),
        sa.Column("jira_flavour", sa.String(16), nullable=False),
        sa.Column("auth_mode", sa.String(16), nullable=False),
        sa.Column("jira_user", sa.String(255), nullable=True),
        sa.Column("jira_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("connect_client_key", sa.String(255), nullable=True),
        sa.Column("aws_role_arn", sa.String(2048), nullable=True),
        sa.Column("organizations_role_arn", sa.String(2048), nullable=True),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("aggregation_region", sa.String(32), nullable=True),
        sa.Column("events_api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("connect_client_key", name="uq_tenants_connect_client_key"),
    )
    op.create_table(
        "links",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("finding_key", sa.String(64), nullable=False),
        sa.Column("finding_id", sa.Text(), nullable=False),
        sa.Column("product_arn", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ticket_key", sa.String(64), nullable=True),
        sa.Column("secondary_key", sa.Text(), nullable=True),
        sa.Column("seen_updated_at", TIMESTAMPTZ, nullable=True),
        sa.Column("fixed_at_updated_at", TIMESTAMPTZ, nullable=True),
        sa.Column("written_workflow", sa.String(16), nullable=True),
        sa.Column("seen_disposition", sa.String(16), nullable=True),
        sa.Column("accepted_until", TIMESTAMPTZ, nullable=True),
        sa.Column("rendered_severity", sa.String(16), nullable=True),
        sa.Column("rendered_title", sa.Text(), nullable=True),
        sa.Column("risk_requested_at", TIMESTAMPTZ, nullable=True),
        sa.Column("claimed_at", TIMESTAMPTZ, nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_links_tenant_id_tenants", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "finding_key", name="pk_links"),
    )
    op.create_index("ix_links_tenant_id_ticket_key", "links", ["tenant_id", "ticket_key"])
    op.create_index("ix_links_tenant_id_secondary_key", "links", ["tenant_id", "secondary_key"])
    op.create_index("ix_links_tenant_id_state", "links", ["tenant_id", "state"])
    op.create_table(
        "audit",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("finding_key", sa.String(64), nullable=False),
        sa.Column("ticket_key", sa.String(64), nullable=True),
        sa.Column("at", TIMESTAMPTZ, nullable=False),
        sa.Column("rule", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_audit_tenant_id_tenants", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_tenant_id_finding_key_at", "audit", ["tenant_id", "finding_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_tenant_id_finding_key_at", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_links_tenant_id_state", table_name="links")
    op.drop_index("ix_links_tenant_id_secondary_key", table_name="links")
    op.drop_index("ix_links_tenant_id_ticket_key", table_name="links")
    op.drop_table("links")
    op.drop_table("tenants")
