"""A Jira site installs, uninstalls, enables or disables hubsync: the tenant lifecycle, whichever platform says so
(Connect's lifecycle callbacks today; the web layer has verified who is asking before calling these).

- `install` is an upsert by the site's client key: a reinstall, a shared-secret rotation or a site rename updates
  the tenant (and brings an uninstalled one back, where it stopped); the first install creates it.
- `uninstall` revokes: the shared secret is erased, so nothing signed with it is accepted any more, and the tenant
  is UNINSTALLED, its settings, links and audit kept.
- `set_enabled` toggles a tenant that is installed.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from hubsync.domain.ports import StorePort
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantConflict, TenantState


class TenantUninstalled(Exception):
    """The site uninstalled hubsync: only a new install brings the tenant back."""


def install(store: StorePort, *, client_key: str, base_url: str, shared_secret: str) -> tuple[Tenant, str]:
    """The tenant of this client key, created or updated, and which it was ("install", "reinstall", "reinstall
    after an uninstall"). A concurrent first install of the same site loses the race on the unique client key and
    then updates."""
    for attempt in range(2):
        try:
            return _install_once(store, client_key, base_url, shared_secret)
        except TenantConflict:
            if attempt:
                raise
    raise AssertionError("unreachable")


def uninstall(store: StorePort, client_key: str) -> Tenant | None:
    """Revoke the tenant of this client key; None when there is none, or it was already uninstalled."""
    with store.transaction() as uow:
        tenant = uow.tenants.get_by_client_key(client_key, for_update=True)
        if tenant is None or tenant.state is TenantState.UNINSTALLED:
            return None
        return uow.tenants.uninstall(tenant.id)


def set_enabled(store: StorePort, tenant_id: str, enabled: bool) -> Tenant:
    """Enable or disable an installed tenant; raises `TenantUninstalled` when it was uninstalled meanwhile."""
    with store.transaction() as uow:
        tenant = uow.tenants.get(tenant_id, for_update=True)
        if tenant is None or tenant.state is TenantState.UNINSTALLED:
            raise TenantUninstalled("hubsync was uninstalled from this Jira site: install it again")
        if tenant.enabled == enabled:
            return tenant
        return uow.tenants.update(dataclasses.replace(tenant, enabled=enabled))


def site_name(base_url: str) -> str:
    """A site's host, the name a tenant gets when it is installed."""
    return urlsplit(base_url).netloc or base_url


def _install_once(store: StorePort, client_key: str, base_url: str, shared_secret: str) -> tuple[Tenant, str]:
    with store.transaction() as uow:
        existing = uow.tenants.get_by_client_key(client_key, for_update=True)
        if existing is None:
            tenant = uow.tenants.create(
                name=site_name(base_url),
                jira_base_url=base_url,
                jira_flavour=JiraFlavour.CLOUD,
                auth_mode=AuthMode.CONNECT,
                jira_secret=shared_secret,
                connect_client_key=client_key,
                enabled=True,
            )
            return tenant, "install"
        renamed = existing.name == site_name(existing.jira_base_url)  # still named after its site: follow a rename
        tenant = dataclasses.replace(
            existing,
            name=site_name(base_url) if renamed else existing.name,
            jira_base_url=base_url,
            jira_secret=shared_secret,
            enabled=True,
            uninstalled_at=None,
        )
        action = "reinstall after an uninstall" if existing.state is TenantState.UNINSTALLED else "reinstall"
        return uow.tenants.update(tenant), action
