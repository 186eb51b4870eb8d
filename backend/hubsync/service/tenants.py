"""Wire a tenant's sync context from what the store holds: its policy, its assumed roles, its Jira credentials."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from requests.auth import AuthBase

from hubsync.adapters.aws_session import assumed_role_session
from hubsync.adapters.jira.auth import ApiToken, ConnectJwt, PersonalAccessToken
from hubsync.adapters.jira.client import LINKED_JQL, JiraClient
from hubsync.adapters.jira.dialect import Flavour
from hubsync.adapters.jira.search import jql_list
from hubsync.adapters.organizations import OwnerDirectory
from hubsync.adapters.securityhub import SecurityHubClient
from hubsync.adapters.store import Store
from hubsync.domain.jira_site import InvalidJiraSite
from hubsync.domain.policy import Policy
from hubsync.domain.policy_schema import load_policy
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.sync import SyncContext

# The app key hubsync signs Connect calls with (the descriptor's `key`).
APP_KEY = "io.hubsync.security-hub"
# The issue property Jira reads the status lozenge of the descriptor's glance (`hubsync-glance`) from.
GLANCE_STATUS_PROPERTY = f"com.atlassian.jira.issue:{APP_KEY}:hubsync-glance:status"


class TenantNotReady(Exception):
    """The tenant lacks a setting the sync needs; the message says which, in words an admin can act on."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def sync_context(tenant: Tenant, store: Store, clock: Callable[[], datetime] = utc_now) -> SyncContext:
    if not tenant.aws_role_arn:
        raise TenantNotReady(f"tenant {tenant.name}: no AWS role ARN configured (the Security Hub admin role)")
    if not tenant.aggregation_region:
        raise TenantNotReady(f"tenant {tenant.name}: no Security Hub Region configured")
    policy = load_policy(tenant.policy)
    securityhub_session = assumed_role_session(
        tenant.aws_role_arn, tenant.id, external_id=tenant.external_id, region=tenant.aggregation_region
    )
    organizations_session = (
        assumed_role_session(tenant.organizations_role_arn, tenant.id, external_id=tenant.external_id)
        if tenant.organizations_role_arn
        else None
    )
    return SyncContext(
        tenant_id=tenant.id,
        policy=policy,
        securityhub=SecurityHubClient.for_session(securityhub_session, tenant.aggregation_region),
        jira=jira_client(tenant, linked_jql=_linked_jql(tenant, policy)),
        owners=OwnerDirectory.for_session(organizations_session, tag_key=policy.owner_tag_key),
        store=store,
        clock=clock,
    )


def jira_client(tenant: Tenant, linked_jql: str = LINKED_JQL) -> JiraClient:
    flavour: Flavour = "cloud" if tenant.jira_flavour is JiraFlavour.CLOUD else "datacenter"
    glance = GLANCE_STATUS_PROPERTY if tenant.auth_mode is AuthMode.CONNECT else None  # only apps have glances
    try:
        return JiraClient(tenant.jira_base_url, flavour, _jira_auth(tenant), linked_jql=linked_jql,
                          glance_property=glance)
    except InvalidJiraSite as exc:
        raise TenantNotReady(f"tenant {tenant.name}: its Jira site URL cannot be used: {exc}") from None


def _linked_jql(tenant: Tenant, policy: Policy) -> str:
    """How to find hubsync's tickets: the indexed `hubsync.finding` property where hubsync's Connect app declares
    the index; elsewhere (Data Center, API tokens) by the labels every ticket gets."""
    if tenant.auth_mode is AuthMode.CONNECT or not policy.labels:
        return LINKED_JQL
    return f"labels in ({jql_list(policy.labels)})"


def _jira_auth(tenant: Tenant) -> AuthBase:
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
