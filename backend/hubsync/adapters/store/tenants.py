"""Tenants: a Jira site and the AWS organization it watches, with its secrets encrypted at rest.

The events API key (what EventBridge's API destination sends) is different: hubsync never needs it back, only to
check it, so it is stored as a hash, like a password. It is 256 random bits, so a plain SHA-256 (no salt, no slow
KDF) is as strong as the key itself. Rotating keeps the previous key valid for a grace period, so the EventBridge
connection can be updated without losing events.

The admin webhook's state (`Tenant.jira_webhook`) is stored the same way: its HMAC secret encrypted (hubsync needs
it back to verify signatures), its URL token as a hash with the previous one's hash and expiry (the domain's
`WebhookRegistration` rotates and checks them).
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hubsync.adapters.store.crypto import MissingSecretKey, SecretBox
from hubsync.adapters.store.models import TenantRow
from hubsync.domain.jira_webhook import WebhookRegistration
from hubsync.domain.tenant import (
    EVENTS_KEY_GRACE,
    AuthMode,
    JiraFlavour,
    SecurityHubGeneration,
    Tenant,
    TenantConflict,
    TenantNotFound,
)

_HASH_PREFIX = "sha256$"

# Tenant field → encrypted column; stored only as Fernet tokens bound to the tenant and the field.
_SECRET_COLUMNS = {"jira_secret": "jira_secret_encrypted"}
_WEBHOOK_SECRET = ("jira_webhook_secret", "jira_webhook_secret_encrypted")  # (context field name, column)
_PLAIN_FIELDS = (
    "name",
    "jira_base_url",
    "jira_flavour",
    "auth_mode",
    "jira_user",
    "connect_client_key",
    "aws_role_arn",
    "organizations_role_arn",
    "aggregation_region",
    "securityhub_generation",
    "policy",
    "enabled",
    "uninstalled_at",
    "forge_installation_id",
    "forge_cloud_id",
    "forge_environment_id",
    "jira_secret_expires_at",
)


class TenantStore:
    """Tenants in the current unit of work; encrypts secrets on the way in and decrypts them on the way out."""

    def __init__(self, connection: sa.Connection, secret_box: SecretBox | None, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._secret_box = secret_box
        self._clock = clock

    def create(
        self,
        *,
        name: str,
        jira_base_url: str,
        jira_flavour: JiraFlavour,
        auth_mode: AuthMode,
        jira_user: str | None = None,
        jira_secret: str | None = None,
        connect_client_key: str | None = None,
        aws_role_arn: str | None = None,
        organizations_role_arn: str | None = None,
        aggregation_region: str | None = None,
        securityhub_generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
        policy: Mapping[str, Any] | None = None,
        enabled: bool = True,
        tenant_id: str | None = None,
        external_id: str | None = None,
        forge_installation_id: str | None = None,
        forge_cloud_id: str | None = None,
        forge_environment_id: str | None = None,
        jira_secret_expires_at: datetime | None = None,
    ) -> Tenant:
        """A new tenant. hubsync generates the id, the ExternalId for the IAM trust policy, and the events API key;
        pass `external_id` only to match roles that already exist (the sandbox's)."""
        now = self._clock()
        events_key = secrets.token_urlsafe(32)  # returned this once, on the Tenant; stored as a hash
        tenant = Tenant(
            id=tenant_id or uuid.uuid4().hex,
            name=name,
            jira_base_url=jira_base_url,
            jira_flavour=JiraFlavour(jira_flavour),
            auth_mode=AuthMode(auth_mode),
            external_id=external_id or secrets.token_urlsafe(24),
            jira_user=jira_user,
            jira_secret=jira_secret,
            connect_client_key=connect_client_key,
            aws_role_arn=aws_role_arn,
            organizations_role_arn=organizations_role_arn,
            aggregation_region=aggregation_region,
            securityhub_generation=SecurityHubGeneration(securityhub_generation),
            events_api_key=events_key,
            policy=dict(policy or {}),
            enabled=enabled,
            forge_installation_id=forge_installation_id,
            forge_cloud_id=forge_cloud_id,
            forge_environment_id=forge_environment_id,
            jira_secret_expires_at=jira_secret_expires_at,
            created_at=now,
            updated_at=now,
        )
        values = self._columns(tenant)
        values.update(id=tenant.id, external_id=tenant.external_id, created_at=now, updated_at=now)
        values["events_api_key_hash"] = hash_events_api_key(events_key)
        try:
            self._connection.execute(sa.insert(TenantRow).values(**values))
        except sa.exc.IntegrityError as exc:  # the id or the client key is taken (a concurrent install)
            raise TenantConflict(f"a tenant with this id or client key exists: {tenant.name}") from exc
        return tenant

    def get(self, tenant_id: str, *, for_update: bool = False) -> Tenant | None:
        """`for_update`: read to change and `update` in this unit of work. The row stays locked until it ends
        (PostgreSQL; SQLite's write transactions are serial anyway), so a concurrent reinstall, uninstall or
        settings save is never overwritten with what this one read."""
        return self._one(sa.select(TenantRow).where(TenantRow.id == tenant_id), for_update)

    def get_by_client_key(self, client_key: str, *, for_update: bool = False) -> Tenant | None:
        """The Connect install with this `clientKey` (Connect's `installed` callback is an upsert on it)."""
        return self._one(sa.select(TenantRow).where(TenantRow.connect_client_key == client_key), for_update)

    def _one(self, statement: sa.Select[Any], for_update: bool) -> Tenant | None:
        if for_update:
            statement = statement.with_for_update()
        row = self._connection.execute(statement).mappings().first()
        return None if row is None else self._tenant(row)

    def get_by_forge_installation(self, installation_id: str, *, for_update: bool = False) -> Tenant | None:
        return self._one(sa.select(TenantRow).where(TenantRow.forge_installation_id == installation_id), for_update)

    def find_forge_site(self, cloud_id: str, environment_id: str | None, *, for_update: bool = False) -> Tenant | None:
        """The Forge tenant of a site's earlier installation (same cloud, same app environment): the one a reinstall
        re-links. The most recently changed, should there be several."""
        statement = (
            sa.select(TenantRow)
            .where(TenantRow.auth_mode == AuthMode.FORGE.value, TenantRow.forge_cloud_id == cloud_id,
                   TenantRow.forge_environment_id.is_(None) if environment_id is None
                   else TenantRow.forge_environment_id == environment_id)
            .order_by(TenantRow.updated_at.desc())
            .limit(1)
        )
        return self._one(statement, for_update)

    def list(self, *, enabled_only: bool = False) -> builtins.list[Tenant]:
        statement = sa.select(TenantRow).order_by(TenantRow.created_at, TenantRow.id)
        if enabled_only:
            statement = statement.where(TenantRow.enabled.is_(True))
        return [self._tenant(row) for row in self._connection.execute(statement).mappings()]

    def update(self, tenant: Tenant) -> Tenant:
        """Store every changeable field of `tenant` (not its id, ExternalId or creation time). An uninstalled
        tenant stays disabled and without a secret until the update that reinstalls it clears `uninstalled_at`."""
        if tenant.uninstalled_at is not None and (tenant.enabled or tenant.jira_secret is not None):
            raise ValueError(f"tenant {tenant.id} is uninstalled: only a reinstall may enable it or store a secret")
        now = self._clock()
        statement = (
            sa.update(TenantRow).where(TenantRow.id == tenant.id).values(**self._columns(tenant), updated_at=now)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise TenantNotFound(tenant.id)
        return dataclasses.replace(tenant, updated_at=now)

    def uninstall(self, tenant_id: str) -> Tenant:
        """Jira uninstalled the app: erase the shared secret (a request signed with it proves nothing any more) and
        disable the tenant, keeping its settings, links, audit and events key for a reinstall. Read the tenant
        `for_update` first where the state decides what to do."""
        now = self._clock()
        statement = (
            sa.update(TenantRow)
            .where(TenantRow.id == tenant_id)
            .values(enabled=False, jira_secret_encrypted=None, jira_secret_expires_at=None, uninstalled_at=now,
                    updated_at=now)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise TenantNotFound(tenant_id)
        tenant = self.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        return tenant

    def regenerate_events_api_key(self, tenant_id: str, *, grace: timedelta = EVENTS_KEY_GRACE) -> str:
        """A new EventBridge API key, returned in the clear this once (only its hash is kept). The previous key
        stays valid for `grace` (time to update the EventBridge connection); pass `timedelta(0)` for a key that
        leaked. A key rotated out earlier than that stops working now: at most two keys are valid at a time."""
        now = self._clock()
        current = self._connection.execute(
            sa.select(TenantRow.events_api_key_hash).where(TenantRow.id == tenant_id)
        ).one_or_none()
        if current is None:
            raise TenantNotFound(tenant_id)
        key = secrets.token_urlsafe(32)
        keep_previous = grace > timedelta(0) and current.events_api_key_hash is not None
        self._connection.execute(
            sa.update(TenantRow)
            .where(TenantRow.id == tenant_id)
            .values(
                events_api_key_hash=hash_events_api_key(key),
                events_api_key_previous_hash=current.events_api_key_hash if keep_previous else None,
                events_api_key_previous_until=now + grace if keep_previous else None,
                updated_at=now,
            )
        )
        return key

    def verify_events_api_key(self, tenant_id: str, presented: str) -> bool:
        """Whether `presented` is the tenant's events key (or its previous one, within the grace period). Compares
        hashes in constant time; an unknown tenant costs the same comparisons."""
        row = self._connection.execute(
            sa.select(
                TenantRow.events_api_key_hash,
                TenantRow.events_api_key_previous_hash,
                TenantRow.events_api_key_previous_until,
            ).where(TenantRow.id == tenant_id)
        ).one_or_none()
        digest = hash_events_api_key(presented)
        current = previous = None
        if row is not None:
            current = row.events_api_key_hash
            until = row.events_api_key_previous_until
            previous = row.events_api_key_previous_hash if until is not None and until > self._clock() else None
        matches_current = hmac.compare_digest(digest, current or _NO_KEY)
        matches_previous = hmac.compare_digest(digest, previous or _NO_KEY)
        return bool(presented) and (matches_current or matches_previous)

    def has_events_api_key(self, tenant_id: str) -> bool:
        """Whether an events key was made for the tenant (only its hash is kept)."""
        return self._connection.execute(
            sa.select(TenantRow.events_api_key_hash).where(TenantRow.id == tenant_id)
        ).scalar_one_or_none() is not None

    def delete(self, tenant_id: str) -> bool:
        """Remove a tenant with its links and audit timeline (an uninstalled app's data)."""
        return self._connection.execute(sa.delete(TenantRow).where(TenantRow.id == tenant_id)).rowcount == 1

    def reencrypt_all(self) -> int:
        """Re-encrypt every stored secret with the newest key in HUBSYNC_SECRET_KEY; returns how many changed."""
        box = self._box()
        changed = 0
        names = [*_SECRET_COLUMNS.values(), _WEBHOOK_SECRET[1]]
        columns = [getattr(TenantRow, column) for column in names]
        for row in self._connection.execute(sa.select(TenantRow.id, *columns)).mappings().all():
            values = {column: box.rotate(row[column]) for column in names if row[column] is not None}
            if values:
                self._connection.execute(sa.update(TenantRow).where(TenantRow.id == row["id"]).values(**values))
                changed += len(values)
        return changed

    def _columns(self, tenant: Tenant) -> dict[str, Any]:
        values: dict[str, Any] = {name: getattr(tenant, name) for name in _PLAIN_FIELDS}
        values["jira_flavour"] = JiraFlavour(tenant.jira_flavour).value
        values["auth_mode"] = AuthMode(tenant.auth_mode).value
        values["securityhub_generation"] = SecurityHubGeneration(tenant.securityhub_generation).value
        values["policy"] = dict(tenant.policy)
        for name, column in _SECRET_COLUMNS.items():
            plaintext = getattr(tenant, name)
            values[column] = (
                None if plaintext is None else self._box().encrypt(plaintext, context=_context(tenant.id, name))
            )
        webhook = tenant.jira_webhook
        values.update(
            jira_webhook_id=webhook.webhook_id,
            jira_webhook_signed=webhook.signed,
            jira_webhook_token_hash=webhook.token_hash,
            jira_webhook_token_previous_hash=webhook.previous_token_hash,
            jira_webhook_token_previous_until=webhook.previous_token_until,
        )
        values[_WEBHOOK_SECRET[1]] = (
            None if webhook.secret is None
            else self._box().encrypt(webhook.secret, context=_context(tenant.id, _WEBHOOK_SECRET[0]))
        )
        return values

    def _tenant(self, row: sa.RowMapping) -> Tenant:
        decrypted = {
            name: None if row[column] is None else self._box().decrypt(row[column], context=_context(row["id"], name))
            for name, column in _SECRET_COLUMNS.items()
        }
        return Tenant(
            id=row["id"],
            name=row["name"],
            jira_base_url=row["jira_base_url"],
            jira_flavour=JiraFlavour(row["jira_flavour"]),
            auth_mode=AuthMode(row["auth_mode"]),
            external_id=row["external_id"],
            jira_user=row["jira_user"],
            connect_client_key=row["connect_client_key"],
            aws_role_arn=row["aws_role_arn"],
            organizations_role_arn=row["organizations_role_arn"],
            aggregation_region=row["aggregation_region"],
            securityhub_generation=SecurityHubGeneration(row["securityhub_generation"]),
            policy=row["policy"] or {},
            enabled=row["enabled"],
            uninstalled_at=row["uninstalled_at"],
            forge_installation_id=row["forge_installation_id"],
            forge_cloud_id=row["forge_cloud_id"],
            forge_environment_id=row["forge_environment_id"],
            jira_secret_expires_at=row["jira_secret_expires_at"],
            jira_webhook=self._webhook(row),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            **decrypted,
        )

    def _webhook(self, row: sa.RowMapping) -> WebhookRegistration:
        encrypted = row[_WEBHOOK_SECRET[1]]
        return WebhookRegistration(
            webhook_id=row["jira_webhook_id"],
            signed=bool(row["jira_webhook_signed"]),
            secret=None if encrypted is None
            else self._box().decrypt(encrypted, context=_context(row["id"], _WEBHOOK_SECRET[0])),
            token_hash=row["jira_webhook_token_hash"],
            previous_token_hash=row["jira_webhook_token_previous_hash"],
            previous_token_until=row["jira_webhook_token_previous_until"],
        )

    def _box(self) -> SecretBox:
        if self._secret_box is None:
            raise MissingSecretKey(
                "this store was opened without a SecretBox: tenant secrets cannot be read or written"
            )
        return self._secret_box


def _context(tenant_id: str, field_name: str) -> str:
    return f"tenant/{tenant_id}/{field_name}"


def hash_events_api_key(key: str) -> str:
    """How an events key is stored: `sha256$<hex>` of the key."""
    return _HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


_NO_KEY = _HASH_PREFIX + "0" * 64  # compared against when there is no key, so every check costs the same
