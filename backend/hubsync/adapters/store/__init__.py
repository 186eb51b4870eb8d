"""The store: tenants, links and the audit timeline in SQLite (default) or PostgreSQL.

Start at `store.py` (units of work and locks), then `links.py` (the claim protocol that keeps one ticket per
finding). The schema comes only from the Alembic migrations (`migrate.upgrade`).
"""

from hubsync.adapters.store.audit import AuditLog
from hubsync.adapters.store.crypto import MissingSecretKey, SecretBox, SecretDecryptionError
from hubsync.adapters.store.database import create_engine, database_url
from hubsync.adapters.store.links import LinkStore
from hubsync.adapters.store.migrate import current_revision, downgrade, head_revision, upgrade
from hubsync.adapters.store.store import Store, UnitOfWork
from hubsync.adapters.store.tenants import TenantStore

__all__ = [
    "AuditLog",
    "LinkStore",
    "MissingSecretKey",
    "SecretBox",
    "SecretDecryptionError",
    "Store",
    "TenantStore",
    "UnitOfWork",
    "create_engine",
    "current_revision",
    "database_url",
    "downgrade",
    "head_revision",
    "upgrade",
]
