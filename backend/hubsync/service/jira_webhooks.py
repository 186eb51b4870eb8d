"""hubsync's admin webhook on a Data Center or API-token Cloud site: register, check, remove it, rotate its URL token,
and take its deliveries.

    outcome = register(store, tenant, webhooks, base_url)   # webhooks: the site's AdminWebhooksPort
    outcome.status, outcome.message                          # created / updated / unchanged, and what changed
    check(tenant, webhooks, base_url)                        # present / missing / different (nothing written)
    remove(store, tenant, webhooks, base_url)                # removed / absent
    rotate_token(store, tenant, webhooks, base_url)          # Data Center 9: a new URL token, the old one for a while
    prepare_manual(store, tenant, webhooks, base_url)        # no admin credentials: what an admin types into Jira

One webhook per tenant, named "hubsync <tenant>", for issue updates and deletions, filtered by the JQL that selects
hubsync's tickets. It is found by the id hubsync stored, else by its delivery path (`/webhooks/jira/<tenant id>`,
whatever the base URL was then). Registering twice changes nothing; a webhook that differs is updated in place.
After each write the webhook is read back: Data Center 10 silently drops a JQL filter sent in the older body, and
a webhook without it would deliver every issue of the site.

Deliveries (`web/jira_webhooks.py`) are authenticated before anything is read: signed sites (Cloud, Data Center
10+) by `X-Hub-Signature` over the raw body with the tenant's secret; Data Center 9 by the URL token. Each
becomes a hint exactly like a Connect webhook (`jira_changes.accept_issue_change`).

Every change is audited on the tenant's timeline; secrets and tokens never appear in it, nor in a log line.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.jira_webhook import (
    DELIVERY_PATH,
    WEBHOOK_EVENTS,
    WEBHOOK_TOKEN_GRACE,
    RegisteredWebhook,
    WebhookDialect,
    WebhookNotApplied,
    WebhookNotRegistrable,
    WebhookRegistration,
    WebhookSpec,
    differences,
    new_token,
    signature_valid,
)
from hubsync.domain.ports import AdminWebhooksPort, HintQueue, StorePort
from hubsync.domain.tenant import AuthMode, Tenant, TenantNotFound
from hubsync.service.jira_changes import accept_issue_change

log = logging.getLogger(__name__)

# Credentials that can call a site's admin-webhook API; app tenants get the app's own webhooks from Jira.
ADMIN_AUTH_MODES = (AuthMode.API_TOKEN, AuthMode.PAT, AuthMode.BASIC)
TOKEN_PLACEHOLDER = "<token>"


def utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    PRESENT = "present"  # check: as hubsync wants it
    MISSING = "missing"  # check: the site has none of hubsync's
    DIFFERENT = "different"  # check: there, but `differences` say how it is not as wanted
    REMOVED = "removed"
    ABSENT = "absent"  # remove: there was none
    ROTATED = "rotated"
    PREPARED = "prepared"  # a secret or token made for an administrator to create the webhook by hand


@dataclass(frozen=True)
class WebhookOutcome:
    """What a use case did or found, for the command line (`message`) and for tests. `url` is the delivery URL;
    with a URL token, the token is shown only when it is new (the one time it is known), else `<token>`."""

    status: WebhookStatus
    tenant_name: str
    dialect: WebhookDialect | None
    signed: bool
    webhook_id: str | None = None
    url: str | None = None
    differences: tuple[str, ...] = ()
    previous_token_valid_until: datetime | None = None
    secret: str | None = field(default=None, repr=False)  # prepare_manual only: shown this once
    jql: str | None = None  # prepare_manual: the filter to type in

    @property
    def ok(self) -> bool:
        """False when the check found the webhook missing or different (the command's exit status)."""
        return self.status not in (WebhookStatus.MISSING, WebhookStatus.DIFFERENT)

    @property
    def message(self) -> str:
        subject = f"tenant {self.tenant_name}: Jira webhook"
        where = f" {self.webhook_id}" if self.webhook_id else ""
        how = ("deliveries signed (X-Hub-Signature)" if self.signed
               else "deliveries authenticated by the token in the URL")
        lines = {
            WebhookStatus.CREATED: f"{subject}{where} created ({how})",
            WebhookStatus.UPDATED: f"{subject}{where} updated ({how}): " + "; ".join(self.differences),
            WebhookStatus.UNCHANGED: f"{subject}{where} already registered as wanted ({how})",
            WebhookStatus.PRESENT: f"{subject}{where} registered as wanted ({how})",
            WebhookStatus.MISSING: f"{subject} missing: register it (`hubsync tenant webhook --register`)",
            WebhookStatus.DIFFERENT: f"{subject}{where} differs: " + "; ".join(self.differences)
            + " (`hubsync tenant webhook --register` puts it right)",
            WebhookStatus.REMOVED: f"{subject}{where} removed; deliveries are refused from now on",
            WebhookStatus.ABSENT: f"{subject}: none registered, nothing to remove",
            WebhookStatus.ROTATED: f"{subject}{where}: new URL token registered",
            WebhookStatus.PREPARED: f"{subject}: ready for a Jira administrator to create by hand",
        }
        text = lines[self.status]
        if self.status is WebhookStatus.PREPARED:
            return "\n".join([
                text,
                "  In Jira: Administration > System > WebHooks > Create a WebHook, then fill in:",
                f"  Name      hubsync {self.tenant_name}",
                "  Status    Enabled",
                f"  URL       {self.url}",
                *([f"  Secret    {self.secret}"] if self.secret else []),
                "  Events    Issue: updated, deleted",
                f"  JQL       {self.jql}",
                "  Exclude body: unchecked",
                "  (shown this once; deliveries signed otherwise are refused from now on)" if self.secret else
                "  (the URL carries a token shown this once"
                + (", and the previous one stays valid until "
                   f"{self.previous_token_valid_until:%Y-%m-%d %H:%M} UTC)" if self.previous_token_valid_until
                   else ")"),
            ])
        if self.url and self.status in (WebhookStatus.CREATED, WebhookStatus.UPDATED, WebhookStatus.ROTATED):
            text += f"\n  delivery URL: {self.url}"
        if self.previous_token_valid_until is not None:
            text += f"\n  the previous token is accepted until {self.previous_token_valid_until.isoformat()}"
        return text


# -- the use cases ---------------------------------------------------------------------------------------------


def register(
    store: StorePort, tenant: Tenant, webhooks: AdminWebhooksPort, base_url: str, *,
    clock: Callable[[], datetime] = utc_now,
) -> WebhookOutcome:
    """Create hubsync's webhook on the tenant's site, or update it where it differs; nothing when it is as wanted.
    Raises `WebhookNotRegistrable` (an app tenant, no base URL), `WebhookAdminRefused` (not an administrator),
    `WebhookNotApplied` (read back, Jira did not keep what was sent), `JiraUnavailable`."""
    _require_registrable(tenant, base_url)
    dialect = webhooks.dialect()
    current = tenant.jira_webhook
    found = _find(webhooks, tenant)
    if dialect.signs:
        keep = current.signed and current.secret is not None
        registration = WebhookRegistration(current.webhook_id, signed=True,
                                           secret=current.secret if keep else new_token())
        spec = _spec(tenant, webhooks, delivery_url(base_url, tenant.id), registration.secret)
        news = [] if keep else ["hubsync has a new secret for it"]
        token_new = False
    else:
        token = _current_token(found, tenant)  # the site's URL carries it: hubsync knows it in the clear again
        token_new = token is None
        if token is not None:
            registration = dataclasses.replace(current, secret=None)
        else:
            base = current if not current.signed else WebhookRegistration()
            registration, token = dataclasses.replace(base, signed=False, secret=None).with_new_token(clock())
        spec = _spec(tenant, webhooks, delivery_url(base_url, tenant.id, token), None)
        news = []
    changed: tuple[str, ...]
    if found is None:
        written = webhooks.create(spec)
        status, changed = WebhookStatus.CREATED, ()
    else:
        changed = tuple(differences(spec, found) + news)
        if not changed:
            written, status = found, WebhookStatus.UNCHANGED
        else:
            written, status = webhooks.update(found.id, spec), WebhookStatus.UPDATED
    registration = dataclasses.replace(registration, webhook_id=written.id)
    problems = [] if status is WebhookStatus.UNCHANGED else _read_back(webhooks, written.id, spec)
    if status is not WebhookStatus.UNCHANGED or current != registration:
        _save(store, tenant.id, registration, action="register_jira_webhook",
              outcome="failed" if problems else "applied",
              reason=f"{status.value} webhook {written.id} on {tenant.jira_base_url} ({dialect.value})"
              + (": " + "; ".join(changed) if changed else "")
              + (" — read back, " + "; ".join(problems) if problems else ""))
    if problems:
        raise WebhookNotApplied(
            f"tenant {tenant.name}: Jira took webhook {written.id} but, read back, " + "; ".join(problems)
            + f" (the site was taken for {_dialect_name(dialect)}; check its version in Jira's System info)")
    log.info("tenant %s: Jira webhook %s %s (%s)", tenant.id, written.id, status.value, dialect.value)
    shown = spec.url if dialect.signs or token_new else _masked(spec.url, tenant)
    return WebhookOutcome(status, tenant.name, dialect, dialect.signs, written.id, shown, changed)


def check(tenant: Tenant, webhooks: AdminWebhooksPort, base_url: str) -> WebhookOutcome:
    """Whether hubsync's webhook is on the site as `register` would leave it, and what differs; writes nothing."""
    _require_registrable(tenant, base_url)
    dialect = webhooks.dialect()
    found = _find(webhooks, tenant)
    current = tenant.jira_webhook
    if found is None:
        return WebhookOutcome(WebhookStatus.MISSING, tenant.name, dialect, dialect.signs)
    extra: list[str] = []
    if dialect.signs:
        spec = _spec(tenant, webhooks, delivery_url(base_url, tenant.id), current.secret if current.signed else None)
        url_matches = None
        if not current.signed or current.secret is None:
            extra.append("hubsync holds no secret to verify its signed deliveries")
    else:
        token = _current_token(found, tenant)
        url_matches = None if token is not None else False  # a token hubsync does not hold: never the wanted URL
        spec = _spec(tenant, webhooks, delivery_url(base_url, tenant.id, token) if token else found.url, None)
    if current.webhook_id is not None and current.webhook_id != found.id:  # None: made by hand, found by its path
        extra.append(f"hubsync's record names webhook {current.webhook_id or 'none'}, the site's is {found.id}")
    found_differences = tuple(differences(spec, found, url_matches=url_matches) + extra)
    status = WebhookStatus.DIFFERENT if found_differences else WebhookStatus.PRESENT
    return WebhookOutcome(status, tenant.name, dialect, dialect.signs, found.id,
                          spec.url if dialect.signs else _masked(found.url, tenant), found_differences)


def remove(
    store: StorePort, tenant: Tenant, webhooks: AdminWebhooksPort, base_url: str, *,
    clock: Callable[[], datetime] = utc_now,
) -> WebhookOutcome:
    """Delete hubsync's webhook(s) of this tenant from the site and forget its secret and tokens: deliveries are
    refused from then on."""
    _require_registrable(tenant, base_url)
    dialect = webhooks.dialect()
    ours = [each for each in webhooks.webhooks() if _ours(each.url, tenant)]
    stored = tenant.jira_webhook.webhook_id
    if stored and all(each.id != stored for each in ours):
        by_id = webhooks.get(stored)
        ours += [by_id] if by_id is not None and _ours(by_id.url, tenant) else []
    deleted = [each.id for each in ours if webhooks.delete(each.id)]
    if deleted or tenant.jira_webhook != WebhookRegistration():
        _save(store, tenant.id, WebhookRegistration(), action="remove_jira_webhook", outcome="applied",
              reason=(f"removed webhook {', '.join(deleted)} from {tenant.jira_base_url}" if deleted
                      else f"no webhook of hubsync's on {tenant.jira_base_url}")
              + "; its secret and URL tokens forgotten")
    status = WebhookStatus.REMOVED if deleted else WebhookStatus.ABSENT
    return WebhookOutcome(status, tenant.name, dialect, dialect.signs, ", ".join(deleted) or None)


def rotate_token(
    store: StorePort, tenant: Tenant, webhooks: AdminWebhooksPort, base_url: str, *,
    grace: timedelta = WEBHOOK_TOKEN_GRACE, clock: Callable[[], datetime] = utc_now,
) -> WebhookOutcome:
    """A new URL token, registered in the webhook's URL; the previous one is still accepted for `grace`
    (`timedelta(0)`: a token that leaked). Only for sites that cannot sign (Data Center 9)."""
    _require_registrable(tenant, base_url)
    dialect = webhooks.dialect()
    if dialect.signs:
        raise WebhookNotRegistrable(
            f"tenant {tenant.name}: its site signs deliveries ({_dialect_name(dialect)}); there is no URL token to "
            "rotate")
    found = _find(webhooks, tenant)
    if found is None:
        raise WebhookNotRegistrable(
            f"tenant {tenant.name}: no webhook of hubsync's on the site; register it first "
            "(`hubsync tenant webhook --register`)")
    now = clock()
    base = tenant.jira_webhook if not tenant.jira_webhook.signed else WebhookRegistration()
    registration, token = dataclasses.replace(base, signed=False, secret=None).with_new_token(now, grace)
    spec = _spec(tenant, webhooks, delivery_url(base_url, tenant.id, token), None)
    written = webhooks.update(found.id, spec)
    registration = dataclasses.replace(registration, webhook_id=written.id)
    problems = _read_back(webhooks, written.id, spec)
    until = registration.previous_token_until
    _save(store, tenant.id, registration, action="rotate_jira_webhook_token",
          outcome="failed" if problems else "applied",
          reason=f"new URL token for webhook {written.id} on {tenant.jira_base_url}; the previous one accepted "
          + (f"until {until.isoformat()}" if until else "no longer"))
    if problems:
        raise WebhookNotApplied(f"tenant {tenant.name}: Jira took the new URL but, read back, " + "; ".join(problems))
    return WebhookOutcome(WebhookStatus.ROTATED, tenant.name, dialect, False, written.id, spec.url,
                          previous_token_valid_until=registration.previous_token_until)


def prepare_manual(
    store: StorePort, tenant: Tenant, webhooks: AdminWebhooksPort, base_url: str, *,
    clock: Callable[[], datetime] = utc_now,
) -> WebhookOutcome:
    """Without an administrator's credentials: a new secret (sites that sign) or URL token (Data Center 9), stored,
    and returned this once with what an administrator types into Jira's form. Only the site's version is asked
    (serverInfo, which any account may read). A webhook already on the site must then be given the new secret
    or URL; a rotated-out URL token stays valid for its grace period."""
    _require_registrable(tenant, base_url)
    dialect = webhooks.dialect()
    current = tenant.jira_webhook
    secret = None
    if dialect.signs:
        secret = new_token()
        registration = WebhookRegistration(current.webhook_id, signed=True, secret=secret)
        url = delivery_url(base_url, tenant.id)
    else:
        base = current if not current.signed else WebhookRegistration()
        registration, token = dataclasses.replace(base, signed=False, secret=None).with_new_token(clock())
        url = delivery_url(base_url, tenant.id, token)
    _save(store, tenant.id, registration, action="prepare_jira_webhook", outcome="applied",
          reason=f"new {'secret' if dialect.signs else 'URL token'} for a webhook created by hand on "
                 f"{tenant.jira_base_url} ({dialect.value})")
    return WebhookOutcome(WebhookStatus.PREPARED, tenant.name, dialect, dialect.signs, current.webhook_id, url,
                          previous_token_valid_until=registration.previous_token_until, secret=secret,
                          jql=webhooks.linked_jql)


# -- deliveries ------------------------------------------------------------------------------------------------


def authentic(
    tenant: Tenant | None, body: bytes, *, signature: str | None, token: str | None, now: datetime
) -> bool:
    """Whether a delivery comes from the tenant's webhook: on the signed URL (`token` None), `signature` is the
    HMAC of the raw body under the tenant's secret; on a token URL, `token` is the current token or the previous
    one within its grace. An unknown tenant (None) costs the same checks and fails them."""
    registration = tenant.jira_webhook if tenant is not None else WebhookRegistration()
    if token is None:
        return signature_valid(registration.secret if registration.signed else None, body, signature)
    return registration.accepts_token(token, now)


def accept_delivery(
    queue: HintQueue, tenant_id: str, event: str, issue: Mapping[str, Any], *, delivery_id: str | None,
    timestamp: int | None,
) -> SyncHint | None:
    """Queue the hint for an authenticated delivery (`issue` with its `id` and `key` checked by the caller); None
    for an event hubsync did not register for (an admin ticked more). The event id is Jira's delivery id (Cloud's
    `X-Atlassian-Webhook-Identifier`, the same on every retry), else, as Data Center sends none, the event's own
    identity (event, issue id, timestamp): a redelivery is dropped by the queue. Raises `QueueUnavailable`."""
    if event not in WEBHOOK_EVENTS:
        return None
    fallback = f"{event}:{issue['id']}:{timestamp}" if timestamp is not None else None
    return accept_issue_change(queue, tenant_id, HintSource.JIRA_ADMIN_WEBHOOK, issue, delivery_id or fallback)


# -- helpers ---------------------------------------------------------------------------------------------------


def delivery_url(base_url: str, tenant_id: str, token: str | None = None) -> str:
    """Where the tenant's webhook delivers: signed sites to the tenant's path, others with the token appended."""
    url = base_url.rstrip("/") + DELIVERY_PATH.format(tenant_id=tenant_id)
    return url if token is None else f"{url}/{token}"


def _require_registrable(tenant: Tenant, base_url: str) -> None:
    if tenant.auth_mode not in ADMIN_AUTH_MODES:
        raise WebhookNotRegistrable(
            f"tenant {tenant.name} is a {tenant.auth_mode.value.title()} app: Jira sends it the app's own events, "
            "no admin webhook is needed")
    if not base_url:
        raise WebhookNotRegistrable("HUBSYNC_BASE_URL is not set: the webhook needs the URL where Jira reaches hubsync")


def _spec(tenant: Tenant, webhooks: AdminWebhooksPort, url: str, secret: str | None) -> WebhookSpec:
    return WebhookSpec(name=f"hubsync {tenant.name}", url=url, jql=webhooks.linked_jql, secret=secret)


def _find(webhooks: AdminWebhooksPort, tenant: Tenant) -> RegisteredWebhook | None:
    """hubsync's webhook for this tenant: by the id stored (if it still delivers to the tenant's path), else the
    first the site lists on that path."""
    stored = tenant.jira_webhook.webhook_id
    if stored:
        found = webhooks.get(stored)
        if found is not None and _ours(found.url, tenant):
            return found
    return next((each for each in webhooks.webhooks() if _ours(each.url, tenant)), None)


def _path(tenant: Tenant) -> str:
    return DELIVERY_PATH.format(tenant_id=tenant.id)


def _ours(url: str, tenant: Tenant) -> bool:
    return _signed_url(url, tenant) or _token_of(url, tenant) is not None


def _signed_url(url: str, tenant: Tenant) -> bool:
    parts = urlsplit(url)
    return parts.path.endswith(_path(tenant)) and not parts.query


def _token_of(url: str | None, tenant: Tenant) -> str | None:
    """The URL token of a delivery URL on the tenant's path, or None."""
    if not url:
        return None
    parts = urlsplit(url)
    head, _, token = parts.path.rpartition("/")
    return token if token and head.endswith(_path(tenant)) and not parts.query else None


def _current_token(found: RegisteredWebhook | None, tenant: Tenant) -> str | None:
    """The URL token in the site's webhook URL when it is the tenant's current one (never a signed tenant's)."""
    token = _token_of(found.url, tenant) if found is not None else None
    registration = tenant.jira_webhook
    return token if token is not None and not registration.signed and registration.is_current_token(token) else None


def _masked(url: str, tenant: Tenant) -> str:
    token = _token_of(url, tenant)
    return url if token is None else url[: len(url) - len(token)] + TOKEN_PLACEHOLDER


def _read_back(webhooks: AdminWebhooksPort, webhook_id: str, spec: WebhookSpec) -> list[str]:
    """What differs in the webhook as the site now has it from what was sent (empty: it took)."""
    found = webhooks.get(webhook_id)
    if found is None:
        return [f"webhook {webhook_id} is not on the site"]
    return differences(spec, found)


def _save(store: StorePort, tenant_id: str, registration: WebhookRegistration, *, action: str, outcome: str,
          reason: str) -> None:
    with store.transaction() as uow:
        tenant = uow.tenants.get(tenant_id, for_update=True)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        uow.tenants.update(dataclasses.replace(tenant, jira_webhook=registration))
        uow.audit.append(tenant_id=tenant_id, finding_key=TENANT_EVENTS, action=action, outcome=outcome,
                         reason=reason, before=_public(tenant.jira_webhook), after=_public(registration))


def _public(registration: WebhookRegistration) -> dict[str, Any]:
    """What the audit keeps of a registration: nothing secret (no secret, no token hash)."""
    return {"webhook_id": registration.webhook_id, "signed": registration.signed,
            "has_secret": registration.secret is not None, "has_token": registration.token_hash is not None,
            "previous_token_until": registration.previous_token_until}


def _dialect_name(dialect: WebhookDialect) -> str:
    return {WebhookDialect.CLOUD: "Jira Cloud", WebhookDialect.DATA_CENTER_9: "Data Center before 10",
            WebhookDialect.DATA_CENTER_10: "Data Center 10 or later"}[dialect]
