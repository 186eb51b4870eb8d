"""The store: tenants, links and the audit timeline in SQLite (default) or PostgreSQL.

Start at `store.py` (units of work and locks), then `links.py` (the claim protocol that keeps one ticket per
finding). The schema comes only from the Alembic migrations (`migrate.upgrade`).
"""

from hubsync.adapters.store.audit import AuditEntry, AuditLog
from hubsync.adapters.store.crypto import MissingSecretKey, SecretBox, SecretDecryptionError
from hubsync.adapters.store.database import create_engine, database_url
from hubsync.adapters.store.links import Claim, ClaimOutcome, LinkStore, StaleLink
from hubsync.adapters.store.migrate import current_revision, downgrade, head_revision, upgrade
from hubsync.adapters.store.store import Store, UnitOfWork
from hubsync.adapters.store.sync_locks import HeldLocks, SyncLockLost, SyncLockTimeout
from hubsync.adapters.store.tenants import (
    AuthMode,
    JiraFlavour,
    Tenant,
    TenantNotFound,
    TenantState,
    TenantStore,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuthMode",
    "Claim",
    "ClaimOutcome",
    "HeldLocks",
    "JiraFlavour",
    "LinkStore",
    "MissingSecretKey",
    "SecretBox",
    "SecretDecryptionError",
    "StaleLink",
    "Store",
    "SyncLockLost",
    "SyncLockTimeout",
    "Tenant",
    "TenantNotFound",
    "TenantState",
    "TenantStore",
    "UnitOfWork",
    "create_engine",
    "current_revision",
    "database_url",
    "downgrade",
    "head_revision",
    "upgrade",
]
