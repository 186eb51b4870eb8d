"""The composition root: the one place that builds adapters and hands them to the service.

    runtime = bootstrap(Settings.from_environment())     # the store opened and migrated once, the queue
    ctx = runtime.tenants.sync_context(tenant)           # a tenant's clients, built once and reused
    app = create_app(runtime)                            # `hubsync serve`; the worker and the CLI take it too

Tests call `bootstrap` with a dict of settings and their own store, queue or fakes. Nothing outside this module
constructs a store, a queue, a Jira client or an AWS client for production code.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from requests.auth import AuthBase

from hubsync.adapters import rate_limits
from hubsync.adapters.aws_session import assumed_role_session
from hubsync.adapters.aws_setup import AwsSetup
from hubsync.adapters.connect_keys import HttpInstallKeys
from hubsync.adapters.faults import is_transient
from hubsync.adapters.forge_keys import JwksForgeKeys
from hubsync.adapters.jira.admin_webhooks import JiraAdminWebhooks
from hubsync.adapters.jira.app_accounts import ConnectAppUser
from hubsync.adapters.jira.auth import ApiToken, ConnectJwt, ForgeAppToken, PersonalAccessToken
from hubsync.adapters.jira.client import LINKED_JQL, JiraClient
from hubsync.adapters.jira.dialect import Flavour
from hubsync.adapters.jira.projects import JiraProjects
from hubsync.adapters.jira.search import jql_list
from hubsync.adapters.jira.transport import JiraTransport
from hubsync.adapters.jira.workflow_admin import JiraWorkflowAdmin
from hubsync.adapters.jira.workflow_xml import render_workflow_xml, site_resolutions, site_statuses
from hubsync.adapters.organizations import OwnerDirectory
from hubsync.adapters.queue import LocalQueue, SqsEventSource, SqsQueue, WorkerTimers
from hubsync.adapters.securityhub import SecurityHubClient, SecurityHubV2Client
from hubsync.adapters.store import SecretBox, Store, create_engine, database_url, upgrade
from hubsync.config import ConfigError, Settings
from hubsync.domain.jira_site import InvalidJiraSite
from hubsync.domain.policy import Policy
from hubsync.domain.policy_schema import load_policy
from hubsync.domain.ports import (
    AdminWebhooksPort,
    AppAccounts,
    AwsSetupPort,
    EventSource,
    ForgeKeys,
    InstallKeys,
    JiraProjectsPort,
    ResolutionChoice,
    SecurityHubPort,
    StatusChoice,
    StorePort,
    WorkflowAdminPort,
    WorkQueue,
)
from hubsync.domain.tenant import (
    APP_KEY,
    AuthMode,
    JiraFlavour,
    SecurityHubGeneration,
    Tenant,
    TenantNotReady,
    TenantWaiting,
    forge_token_valid,
)
from hubsync.service.sync import SyncContext
from hubsync.service.worker import Worker, WorkerSettings

log = logging.getLogger(__name__)

# The issue property Jira reads the status lozenge of the descriptor's glance (`hubsync-glance`) from.
GLANCE_STATUS_PROPERTY = f"com.atlassian.jira.issue:{APP_KEY}:hubsync-glance:status"
# How long a tenant's clients are reused before they are built again (botocore refreshes assumed-role keys
# itself in between; a settings change rebuilds them at once).
CLIENTS_TTL = timedelta(minutes=15)
MAX_CACHED_TENANTS = 1024


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What a process runs on: its settings, the store, the hint queue and the tenants' clients."""

    settings: Settings
    store: Store
    queue: WorkQueue
    tenants: TenantClients
    install_keys: InstallKeys  # Connect's signed-install key server
    app_accounts: AppAccounts  # hubsync's own Jira user on each site (the tenants' clients know it)
    aws: AwsSetupPort  # the one-off AWS calls of setting a tenant up (Test connection, the custom action)
    forge_keys: ForgeKeys  # the keys Forge signs its invocation tokens with
    clock: Callable[[], datetime] = utc_now
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def events_source(self) -> EventSource | None:
        """The EventBridge → SQS events queue the worker moves onto the hint queue, if one is configured."""
        url = self.settings.events_queue_url
        return SqsEventSource.from_url(url, self.settings.aws_region) if url else None

    def close(self) -> None:
        """Close pooled connections (on shutdown, and in tests)."""
        for close in self._closers:
            close()


def bootstrap(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    queue: WorkQueue | None = None,
    sandbox: bool = False,
    pool_size: int | None = None,
    install_keys: InstallKeys | None = None,
    app_accounts: AppAccounts | None = None,
    aws: AwsSetupPort | None = None,
    forge_keys: ForgeKeys | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    """Build the runtime from `settings` (default: the environment): the store opened and migrated (unless one is
    given: its owner migrated it), the queue, the tenants' client cache, the per-site rate budgets. `sandbox`
    (the sandbox and demo only) lets an unset HUBSYNC_SECRET_KEY fall back to the public sandbox key."""
    settings = Settings.from_environment() if settings is None else settings
    rate_limits.configure(jira_rate=settings.jira_rate, jira_burst=settings.jira_burst,
                          aws_share=settings.aws_rate_share)
    closers: list[Callable[[], None]] = []
    if store is None:
        store = open_store(settings, sandbox=sandbox, pool_size=pool_size)
        upgrade(store.engine)
        closers.append(store.dispose)
    if queue is None:
        queue = open_queue(settings, store)
    tenants = TenantClients(store, clock=clock)
    return Runtime(
        settings, store, queue, tenants,
        install_keys=install_keys or HttpInstallKeys(settings.install_keys_url),
        app_accounts=app_accounts or tenants,
        aws=aws or AwsSetup(),
        forge_keys=forge_keys or JwksForgeKeys(settings.forge_jwks_url),
        clock=clock, _closers=closers,
    )


def build_worker(runtime: Runtime, settings: WorkerSettings) -> Worker:
    """`hubsync worker`'s engine on the runtime: the queue, the events queue (if configured), the shared timers of
    the periodic reconcile, and the tenants' sync contexts."""
    store = runtime.store
    return Worker(store, runtime.queue, contexts=runtime.tenants, is_transient=is_transient, settings=settings,
                  events=runtime.events_source(), timers=WorkerTimers(store.engine), clock=runtime.clock)


def open_store(settings: Settings, *, sandbox: bool = False, pool_size: int | None = None) -> Store:
    """The store HUBSYNC_DATABASE_URL names, tenant secrets encrypted under HUBSYNC_SECRET_KEY; `pool_size`:
    connections the engine keeps (default SQLAlchemy's 5), for a process running many syncs at once."""
    if settings.secret_keys:
        box = SecretBox(list(settings.secret_keys))
    elif sandbox:
        box = SecretBox.for_sandbox()
    else:
        box = SecretBox(list(settings.require_secret_keys()))
    options = {} if pool_size is None else {"pool_size": pool_size}
    return Store(create_engine(database_url(settings.database_url), **options), box)


def open_queue(settings: Settings, store: Store) -> WorkQueue:
    """The local queue on the store's database, or the SQS FIFO queue HUBSYNC_QUEUE_URL names."""
    if not settings.queue_url:
        return LocalQueue(store.engine)
    return SqsQueue.from_url(settings.queue_url, settings.aws_region)


class TenantClients:
    """Each tenant's clients, built on first use and reused: a panel view then costs one GetFindings, not an
    AssumeRole too, and the Jira client remembers its short-lived answers (who is an admin). Rebuilt when the
    tenant's settings change (`updated_at`, or the Jira secret a reinstall replaces) or after `ttl`; a replaced
    client is dropped, not closed (a request may still be using it).

    The Jira client alone is shared by all threads; a sync context is each thread's own, because a sync keeps
    per-call state in its clients (the findings Security Hub returned unparsed, say)."""

    def __init__(
        self,
        store: StorePort,
        *,
        app_user: Callable[[Tenant], str | None] | None = None,
        ttl: timedelta = CLIENTS_TTL,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._app_user = app_user or ConnectAppUser().account_id
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, datetime, Any]] = {}

    def jira(self, tenant: Tenant) -> JiraClient:
        """The tenant's Jira client: needs only its Jira site and credentials (the configure page's pickers)."""
        client: JiraClient = self._cached(tenant, "jira", lambda: jira_client(tenant))
        return client

    def projects(self, tenant: Tenant) -> JiraProjectsPort:
        """What the tenant's Jira site has to pick from (projects, issue types, statuses, priorities, people): the
        configure page's pickers and the project check."""
        projects: JiraProjectsPort = self._cached(tenant, "projects", lambda: jira_projects(tenant))
        return projects

    def workflow_admin(self, tenant: Tenant) -> WorkflowAdminPort:
        """The tenant's Jira Cloud workflow administration: setting up the risk workflow."""
        admin: WorkflowAdminPort = self._cached(tenant, "workflow-admin", lambda: jira_workflow_admin(tenant))
        return admin

    def securityhub(self, tenant: Tenant) -> SecurityHubPort:
        """The tenant's Security Hub alone (the configure page's rule preview); raises `TenantNotReady` without its
        AWS role or Region. Each thread's own, as in a sync context."""
        build = lambda: securityhub_client(tenant)  # noqa: E731
        client: SecurityHubPort = self._cached(tenant, f"securityhub:{threading.get_ident()}", build)
        return client

    def sync_context(self, tenant: Tenant) -> SyncContext:
        """Everything the tenant's syncs need; raises `TenantNotReady` when a setting is missing."""
        build = lambda: build_sync_context(tenant, self._store, self._clock)  # noqa: E731
        context: SyncContext = self._cached(tenant, f"sync:{threading.get_ident()}", build)
        return context

    def is_own(self, tenant: Tenant, user: dict[str, Any] | None) -> bool:
        """Whether a webhook's `user` is hubsync's own app user on the tenant's site (`AppAccounts`): asked of the
        site once, and again only when the tenant changes; a site that cannot tell now is asked next time."""
        if not isinstance(user, dict) or user.get("accountType") != "app" or not user.get("accountId"):
            return False
        key = (tenant.id, "app-user")
        identity = _identity(tenant)
        with self._lock:
            hit = self._cache.get(key)
        own = hit[2] if hit is not None and hit[0] == identity else None
        if own is None:
            own = self._app_user(tenant)
            if own is not None:
                with self._lock:
                    self._cache[key] = (identity, datetime.max.replace(tzinfo=UTC), own)
        return own is not None and own == user["accountId"]

    def forget(self, tenant_id: str) -> None:
        """Drop a tenant's clients (uninstalled, deleted)."""
        with self._lock:
            for key in [key for key in self._cache if key[0] == tenant_id]:
                del self._cache[key]

    def _cached(self, tenant: Tenant, kind: str, build: Callable[[], Any]) -> Any:
        identity = _identity(tenant)
        now = self._clock()
        with self._lock:
            hit = self._cache.get((tenant.id, kind))
        if hit is not None and hit[0] == identity and now < hit[1]:
            return hit[2]
        built = build()
        with self._lock:
            if (tenant.id, kind) not in self._cache and len(self._cache) >= MAX_CACHED_TENANTS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[(tenant.id, kind)] = (identity, now + self._ttl, built)
        return built


def _identity(tenant: Tenant) -> str:
    """What the clients are built from: a change to any of it rebuilds them (the secret only as a hash)."""
    secret = hashlib.sha256((tenant.jira_secret or "").encode()).hexdigest()
    return "|".join(str(part) for part in (
        tenant.updated_at, tenant.jira_base_url, tenant.jira_flavour, tenant.auth_mode, tenant.jira_user, secret,
        tenant.aws_role_arn, tenant.organizations_role_arn, tenant.aggregation_region, tenant.external_id,
        tenant.securityhub_generation,
    ))


def build_sync_context(tenant: Tenant, store: StorePort, clock: Callable[[], datetime] = utc_now) -> SyncContext:
    """A tenant's sync context from what the store holds: its policy, its assumed roles, its Jira credentials."""
    securityhub = securityhub_client(tenant)
    policy = load_policy(tenant.policy)
    organizations_session = (
        assumed_role_session(tenant.organizations_role_arn, tenant.id, external_id=tenant.external_id)
        if tenant.organizations_role_arn
        else None
    )
    return SyncContext(
        tenant_id=tenant.id,
        policy=policy,
        securityhub=securityhub,
        jira=jira_client(tenant, linked_jql=_linked_jql(tenant, policy)),
        owners=OwnerDirectory.for_session(organizations_session, tag_key=policy.owner_tag_key),
        store=store,
        clock=clock,
        is_transient=is_transient,
    )


def securityhub_client(tenant: Tenant) -> SecurityHubPort:
    """Security Hub in the tenant's aggregation Region, through the role it granted hubsync: Security Hub CSPM
    (ASFF) or the new Security Hub (OCSF), as the tenant chose."""
    if not tenant.aws_role_arn:
        raise TenantNotReady(f"tenant {tenant.name}: no AWS role ARN configured (the Security Hub admin role)")
    if not tenant.aggregation_region:
        raise TenantNotReady(f"tenant {tenant.name}: no Security Hub Region configured")
    session = assumed_role_session(
        tenant.aws_role_arn, tenant.id, external_id=tenant.external_id, region=tenant.aggregation_region
    )
    client = SecurityHubV2Client if tenant.securityhub_generation is SecurityHubGeneration.V2 else SecurityHubClient
    return client.for_session(session, tenant.aggregation_region)


def jira_client(tenant: Tenant, linked_jql: str = LINKED_JQL) -> JiraClient:
    flavour = _flavour(tenant)
    glance = GLANCE_STATUS_PROPERTY if tenant.auth_mode is AuthMode.CONNECT else None  # only apps have glances
    try:
        return JiraClient(tenant.jira_base_url, flavour, _jira_auth(tenant), linked_jql=linked_jql,
                          glance_property=glance)
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None


def jira_projects(tenant: Tenant) -> JiraProjects:
    try:
        return JiraProjects(tenant.jira_base_url, _flavour(tenant), _jira_auth(tenant))
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None


def jira_workflow_admin(tenant: Tenant) -> JiraWorkflowAdmin:
    try:
        return JiraWorkflowAdmin(tenant.jira_base_url, _jira_auth(tenant))
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None


def jira_admin_webhooks(tenant: Tenant) -> AdminWebhooksPort:
    """The tenant's site's admin webhooks, with the tenant's credentials (to use an administrator's instead, pass
    the tenant with them: `dataclasses.replace(tenant, auth_mode=AuthMode.PAT, jira_secret=token)`), filtered by
    the JQL its syncs find hubsync's tickets with."""
    try:
        jql = _linked_jql(tenant, load_policy(tenant.policy))
        version = "3" if tenant.jira_flavour is JiraFlavour.CLOUD else "2"
        return JiraAdminWebhooks(tenant.jira_base_url, _jira_auth(tenant), jql, api_version=version)
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None


def _flavour(tenant: Tenant) -> Flavour:
    return "cloud" if tenant.jira_flavour is JiraFlavour.CLOUD else "datacenter"


def _linked_jql(tenant: Tenant, policy: Policy) -> str:
    """How to find hubsync's tickets: the indexed `hubsync.finding` property where hubsync's app declares the index
    (the Connect descriptor's `jiraEntityProperties`, the Forge manifest's `jira:entityProperty`); elsewhere (Data
    Center, API tokens) by the labels every ticket gets."""
    if tenant.auth_mode in (AuthMode.CONNECT, AuthMode.FORGE) or not policy.labels:
        return LINKED_JQL
    return f"labels in ({jql_list(policy.labels)})"


_Read = TypeVar("_Read")


def jira_site_statuses(tenant: Tenant) -> list[StatusChoice]:
    """Every status of the tenant's Jira site, in one request: what `hubsync jira workflow-xml` fills ids from."""
    return _read_site(tenant, site_statuses)


def jira_site_resolutions(tenant: Tenant) -> list[ResolutionChoice]:
    """Every resolution of the tenant's Jira site, in one request: what `hubsync jira workflow-xml` picks from."""
    return _read_site(tenant, site_resolutions)


def _read_site(tenant: Tenant, read: Callable[[JiraTransport], _Read]) -> _Read:
    flavour: Flavour = "cloud" if tenant.jira_flavour is JiraFlavour.CLOUD else "datacenter"
    try:
        transport = JiraTransport(tenant.jira_base_url, "3" if flavour == "cloud" else "2", _jira_auth(tenant))
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None
    try:
        return read(transport)
    finally:
        transport.close()


def _jira_auth(tenant: Tenant) -> AuthBase:
    if tenant.auth_mode is AuthMode.FORGE:
        if not tenant.jira_secret or not forge_token_valid(tenant, utc_now()):
            raise TenantWaiting(f"tenant {tenant.name}: waiting for Forge to hand hubsync a fresh app token (the "
                                "hourly scheduled trigger, or any use of the app in Jira, brings one)")
        return ForgeAppToken(tenant.jira_secret)
    if not tenant.jira_secret:
        raise TenantNotReady(f"tenant {tenant.name}: no Jira credentials stored")
    if tenant.auth_mode is AuthMode.API_TOKEN:
        if not tenant.jira_user:
            raise TenantNotReady(f"tenant {tenant.name}: API-token auth needs the Jira user's email")
        return ApiToken(tenant.jira_user, tenant.jira_secret)
    if tenant.auth_mode is AuthMode.PAT:
        return PersonalAccessToken(tenant.jira_secret)
    if tenant.auth_mode is AuthMode.BASIC:
        if not tenant.jira_user:
            raise TenantNotReady(f"tenant {tenant.name}: basic auth needs a Jira user name")
        return ApiToken(tenant.jira_user, tenant.jira_secret)  # Basic user:password is the same header
    return ConnectJwt(APP_KEY, tenant.jira_secret, tenant.jira_base_url)


__all__ = ["ConfigError", "Runtime", "Settings", "TenantClients", "bootstrap", "open_queue", "open_store",
           "render_workflow_xml"]
