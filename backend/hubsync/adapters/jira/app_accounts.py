"""hubsync's own Jira user on each site, so that webhooks about changes hubsync made cost nothing.

On Jira Cloud a Connect app acts as a user of account type `app` created for it at install. A webhook whose
`user` is that account reports hubsync's own write: the sync that made it has already converged the pair. The
install payload does not name the account, so it is read once per tenant (GET /myself signed as the app) and
kept in memory (by `bootstrap.TenantClients`); only events by some `app` account ask, so people's changes never
wait for it. When Jira cannot be asked, the event counts as someone else's: a needless hint costs reads, a lost one
a missed change.
"""

from __future__ import annotations

import logging

import requests

from hubsync.adapters.jira.auth import ConnectJwt
from hubsync.domain.jira_site import parse_jira_site
from hubsync.domain.tenant import APP_KEY, Tenant

LOOKUP_TIMEOUT_S = 3.0
log = logging.getLogger(__name__)


class ConnectAppUser:
    """Asks a site who hubsync is there: GET /myself signed as the app. No memory of its own: `TenantClients`
    keeps the answer per tenant."""

    def __init__(self, *, timeout_s: float = LOOKUP_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s

    def account_id(self, tenant: Tenant) -> str | None:
        """The accountId of the app's user on the tenant's site; None when the site cannot tell now."""
        if not tenant.jira_secret:
            return None
        try:
            response = requests.get(
                f"{parse_jira_site(tenant.jira_base_url).base_url}/rest/api/3/myself",
                auth=ConnectJwt(APP_KEY, tenant.jira_secret, tenant.jira_base_url),
                timeout=self._timeout_s,
            )
            response.raise_for_status()
            account_id = response.json().get("accountId")
        except (requests.RequestException, ValueError, AttributeError) as exc:
            log.warning("could not read hubsync's own Jira user on tenant %s: %s", tenant.id, type(exc).__name__)
            return None
        return account_id if isinstance(account_id, str) and account_id else None
