"""A Jira site installs, uninstalls, enables or disables hubsync: the tenant lifecycle, whichever platform says so
(Connect's lifecycle callbacks, Forge's invocations; the web layer has verified who is asking before calling these).

Connect:
- `install` is an upsert by the site's client key: a reinstall, a shared-secret rotation or a site rename updates
  the tenant (and brings an uninstalled one back, where it stopped); the first install creates it.
- `uninstall` revokes: the shared secret is erased, so nothing signed with it is accepted any more, and the tenant
  is UNINSTALLED, its settings, links and audit kept.
- `set_enabled` toggles a tenant that is installed.

Forge (`forge_tenant`, on every verified invocation): the tenant is the installation's. A verified invocation
proves the installation, so one whose install event was lost is created then. A reinstall gets a new installation
id but keeps the site's cloud id: the tenant of the same site and Forge environment is re-linked to it, settings and
links kept, and the re-link is audited. Each invocation's app system token (the newest) is kept, encrypted, with its
expiry: the worker syncs with it between invocations. `forge_uninstall` (preUninstall) revokes like Connect's.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.ports import StorePort, UnitOfWorkPort
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantConflict, TenantState

log = logging.getLogger(__name__)


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


# -- Forge ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgeInstallation:
    """What a verified Forge invocation token says of the app's installation, and the app token it came with."""

    installation_id: str
    cloud_id: str | None
    api_base_url: str  # where the app calls its site's Jira REST API
    environment_id: str | None
    app_token: str | None = None  # the app system token of this invocation (x-forge-oauth-system), if any
    app_token_expires_at: datetime | None = None
    site_url: str | None = None  # the site's own URL, which only UI invocations tell


def forge_tenant(
    store: StorePort, installation: ForgeInstallation, *, installing: bool = False, known_only: bool = False
) -> Tenant | None:
    """The installation's tenant, created, re-linked or refreshed with this invocation's app token. None for an
    installation that hubsync was uninstalled from, unless `installing` (Forge's installed/upgraded event brings it
    back); and with `known_only` (a user's call from the app's pages) for an installation hubsync has no tenant of:
    a page opens only for a tenant its lifecycle, events or hourly trigger made."""
    for attempt in range(2):
        try:
            return _forge_tenant_once(store, installation, installing, known_only)
        except TenantConflict:  # a concurrent first invocation of the same installation created it
            if attempt:
                raise
    raise AssertionError("unreachable")


def forge_uninstall(store: StorePort, installation_id: str) -> Tenant | None:
    """preUninstall: revoke the installation's tenant (its app token forgotten, the tenant UNINSTALLED, settings,
    links and audit kept for a reinstall); None when there is none or it was already uninstalled."""
    with store.transaction() as uow:
        tenant = uow.tenants.get_by_forge_installation(installation_id, for_update=True)
        if tenant is None or tenant.state is TenantState.UNINSTALLED:
            return None
        return uow.tenants.uninstall(tenant.id)


def _forge_tenant_once(
    store: StorePort, installation: ForgeInstallation, installing: bool, known_only: bool
) -> Tenant | None:
    with store.transaction() as uow:
        tenant = uow.tenants.get_by_forge_installation(installation.installation_id, for_update=True)
        if tenant is None and known_only:
            return None
        if tenant is None and installation.cloud_id:
            earlier = uow.tenants.find_forge_site(installation.cloud_id, installation.environment_id,
                                                  for_update=True)
            if earlier is not None:
                return _relink(uow, earlier, installation)
        if tenant is None:
            return _create_forge_tenant(uow, installation)
        if tenant.state is TenantState.UNINSTALLED and not installing:
            return None
        changed = _refreshed(tenant, installation, reinstall=installing)
        return uow.tenants.update(changed) if changed != tenant else tenant


def _create_forge_tenant(uow: UnitOfWorkPort, installation: ForgeInstallation) -> Tenant:
    tenant = uow.tenants.create(
        name=_forge_site_name(installation),
        jira_base_url=installation.api_base_url,
        jira_flavour=JiraFlavour.CLOUD,
        auth_mode=AuthMode.FORGE,
        jira_secret=installation.app_token,
        jira_secret_expires_at=installation.app_token_expires_at if installation.app_token else None,
        forge_installation_id=installation.installation_id,
        forge_cloud_id=installation.cloud_id,
        forge_environment_id=installation.environment_id,
        enabled=True,
    )
    log.info("Forge install on %s: tenant %s", tenant.name, tenant.id)
    return tenant


def _relink(uow: UnitOfWorkPort, earlier: Tenant, installation: ForgeInstallation) -> Tenant:
    """A reinstall on a site hubsync knows (same cloud, same Forge environment): the new installation takes the
    earlier tenant over, with its settings, links and history. Forge's own advice is to key data by installation;
    but a Jira admin who reinstalls an app expects it to carry on, and the cloud id is Atlassian's stable id of the
    site (the tokens that name it are signed by Forge), so hubsync re-links, and says so in the audit."""
    tenant = _refreshed(dataclasses.replace(earlier, forge_installation_id=installation.installation_id), installation,
                        reinstall=True)
    relinked = uow.tenants.update(tenant)
    uow.audit.append(
        tenant_id=relinked.id, finding_key=TENANT_EVENTS, action="relink_installation", outcome="applied",
        reason=f"Forge installation {installation.installation_id} on the site of cloud {installation.cloud_id} "
               f"re-linked to this tenant (was {earlier.forge_installation_id}); settings and links kept",
        before={"forge_installation_id": earlier.forge_installation_id, "state": earlier.state.value},
        after={"forge_installation_id": relinked.forge_installation_id, "state": relinked.state.value},
    )
    log.info("Forge reinstall on %s: installation %s re-linked to tenant %s", relinked.name,
             installation.installation_id, relinked.id)
    return relinked


def _refreshed(tenant: Tenant, installation: ForgeInstallation, *, reinstall: bool) -> Tenant:
    """The tenant with what this invocation tells: its newest app token, Jira's API URL, the site's name."""
    changes: dict[str, object] = {}
    if installation.app_token and installation.app_token != tenant.jira_secret:
        changes.update(jira_secret=installation.app_token, jira_secret_expires_at=installation.app_token_expires_at)
    if installation.api_base_url != tenant.jira_base_url:
        changes["jira_base_url"] = installation.api_base_url
    if installation.site_url and tenant.name == _forge_site_name(dataclasses.replace(installation, site_url=None)):
        changes["name"] = _forge_site_name(installation)  # still named after the cloud id: the site's name now
    if reinstall and tenant.state is not TenantState.ENABLED:
        changes.update(enabled=True, uninstalled_at=None)
    return dataclasses.replace(tenant, **changes) if changes else tenant  # type: ignore[arg-type]


def _forge_site_name(installation: ForgeInstallation) -> str:
    if installation.site_url:
        return site_name(installation.site_url)
    return f"Jira Cloud site {installation.cloud_id or installation.installation_id}"
