"""`AdminWebhooksPort` over a site's admin-webhook REST API, in the dialect its serverInfo names:

| dialect        | collection                      | JQL                                    | secret               |
|----------------|---------------------------------|----------------------------------------|----------------------|
| Cloud          | /rest/webhooks/1.0/webhook      | filters."issue-related-events-section" | top-level `secret`   |
| Data Center 9  | /rest/webhooks/1.0/webhook      | filters."issue-related-events-section" | none (a URL token)   |
| Data Center 10 | /rest/jira-webhook/1.0/webhooks | configuration.FILTERS                  | configuration.SECRET |

The older API names a webhook by its `self` URL (the id is its last segment); Data Center 10's has a numeric `id`.
Data Center 10 accepts the older body but ignores its JQL (every issue is delivered) and a top-level secret (the
deliveries come unsigned): the service reads each webhook back after writing it. Every call needs the Jira
Administrators global permission; Jira's 401 and 403 become `WebhookAdminRefused`, naming what to do instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from requests import Session
from requests.auth import AuthBase

from hubsync.adapters.jira.transport import JiraError, JiraTransport
from hubsync.domain.jira_webhook import (
    RegisteredWebhook,
    WebhookAdminRefused,
    WebhookDialect,
    WebhookSpec,
    dialect_of,
)
from hubsync.domain.ports import JiraUnavailable

OPERATION = "admin_webhooks"  # how the transport counts these requests
OLD_COLLECTION = "/webhooks/1.0/webhook"
DC10_COLLECTION = "/jira-webhook/1.0/webhooks"
JQL_SECTION = "issue-related-events-section"
PAGE = 100
ADMIN_NEEDED = (
    "Jira shows and changes admin webhooks only to a Jira administrator (the Jira Administrators global "
    "permission), for checking as for registering: run it with an administrator's API token or personal access "
    "token, or have an administrator create the webhook by hand (README: \"Jira admin webhooks\", the manual steps)"
)


class _RestTransport(JiraTransport):
    """The transport under `<site>/rest` rather than one REST API version: admin webhooks live beside it."""

    def __init__(self, base_url: str, auth: AuthBase, **options: Any) -> None:
        super().__init__(base_url, "2", auth, **options)
        self.rest_root = f"{self.base_url}/rest"


class JiraAdminWebhooks:
    """One site's admin webhooks; `auth` an `ApiToken` (Cloud) or a personal access token or password (Data
    Center) of a Jira administrator. `linked_jql` selects hubsync's tickets there. `api_version` is the REST API
    serverInfo is read from: the tenant's ("3" on Cloud, "2" on Data Center, which has no other)."""

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        linked_jql: str,
        *,
        api_version: str = "2",
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = _RestTransport(base_url, auth, session=session, sleep=sleep)
        self._linked_jql = linked_jql
        self._api_version = api_version
        self._dialect: WebhookDialect | None = None

    @property
    def linked_jql(self) -> str:
        return self._linked_jql

    def close(self) -> None:
        self._http.close()

    def dialect(self) -> WebhookDialect:
        if self._dialect is None:
            info = self._call("GET", f"/api/{self._api_version}/serverInfo") or {}
            self._dialect = dialect_of(info.get("deploymentType"), info.get("versionNumbers"))
        return self._dialect

    def webhooks(self) -> list[RegisteredWebhook]:
        if self.dialect() is not WebhookDialect.DATA_CENTER_10:
            return [_parsed(each) for each in self._call("GET", OLD_COLLECTION) or [] if isinstance(each, Mapping)]
        found: list[RegisteredWebhook] = []
        while True:
            page = self._call("GET", DC10_COLLECTION, params={"start": len(found), "limit": PAGE}) or []
            found += [_parsed(each) for each in page if isinstance(each, Mapping)]
            if len(page) < PAGE:
                return found

    def get(self, webhook_id: str) -> RegisteredWebhook | None:
        if not _valid_id(webhook_id):
            return None
        try:
            body = self._call("GET", self._item(webhook_id))
        except JiraError as error:
            if error.status == 404:
                return None
            raise
        return _parsed(body) if isinstance(body, Mapping) else None

    def create(self, spec: WebhookSpec) -> RegisteredWebhook:
        return _parsed(self._call("POST", self._collection(), json=self._body(spec)) or {})

    def update(self, webhook_id: str, spec: WebhookSpec) -> RegisteredWebhook:
        body = self._call("PUT", self._item(webhook_id), json=self._body(spec))
        # Jira answers the webhook; an empty answer names nothing new, so the id stays
        return _parsed(body) if isinstance(body, Mapping) and body else self._read_back(webhook_id)

    def delete(self, webhook_id: str) -> bool:
        if not _valid_id(webhook_id):
            return False
        try:
            self._call("DELETE", self._item(webhook_id))
        except JiraError as error:
            if error.status == 404:
                return False
            raise
        return True

    def _read_back(self, webhook_id: str) -> RegisteredWebhook:
        found = self.get(webhook_id)
        if found is None:
            raise JiraError(404, [f"webhook {webhook_id} is gone right after its update"],
                            request=f"GET {self._item(webhook_id)}")
        return found

    def _body(self, spec: WebhookSpec) -> dict[str, Any]:
        dialect = self.dialect()
        common = {"name": spec.name, "url": spec.url, "events": list(spec.events)}
        if dialect is WebhookDialect.DATA_CENTER_10:
            configuration = {"FILTERS": spec.jql, "EXCLUDE_BODY": "false"}
            if spec.secret is not None:
                configuration["SECRET"] = spec.secret
            return {**common, "active": True, "configuration": configuration}
        body = {**common, "filters": {JQL_SECTION: spec.jql}, "excludeBody": False, "enabled": True}
        if dialect is WebhookDialect.CLOUD and spec.secret is not None:
            body["secret"] = spec.secret
        return body

    def _collection(self) -> str:
        return DC10_COLLECTION if self.dialect() is WebhookDialect.DATA_CENTER_10 else OLD_COLLECTION

    def _item(self, webhook_id: str) -> str:
        if not _valid_id(webhook_id):
            raise JiraUnavailable(f"Jira named a webhook {webhook_id[:40]!r}, which is not a webhook id")
        return f"{self._collection()}/{webhook_id}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._http.call(OPERATION, method, path, **kwargs)
        except JiraError as error:
            if error.status in (401, 403):
                said = "; ".join(error.messages) or "no details"
                raise WebhookAdminRefused(
                    f"Jira answered {error.status} to {method} /rest{path} ({said}): {ADMIN_NEEDED}") from error
            raise


def _valid_id(webhook_id: str) -> bool:
    """Ids are numbers in every dialect; anything else never becomes a path segment."""
    return webhook_id.isascii() and webhook_id.isdigit()


def _parsed(body: Mapping[str, Any]) -> RegisteredWebhook:
    """A webhook as either API lists it: the id from `id`, else the last segment of `self`."""
    identifier = body.get("id")
    if identifier is None:
        identifier = str(body.get("self") or "").rstrip("/").rsplit("/", 1)[-1]
    configuration = body.get("configuration")
    filters = body.get("filters")
    if isinstance(configuration, Mapping):
        jql = configuration.get("FILTERS")
        secret = configuration.get("SECRET")
        enabled = body.get("active", True)
    else:
        jql = filters.get(JQL_SECTION) if isinstance(filters, Mapping) else None
        secret = None
        enabled = body.get("enabled", True)
    events = body.get("events")
    return RegisteredWebhook(
        id=str(identifier),
        name=str(body.get("name") or ""),
        url=str(body.get("url") or ""),
        jql=str(jql) if isinstance(jql, str) and jql else None,
        events=tuple(str(each) for each in events) if isinstance(events, list) else (),
        enabled=enabled is not False and str(enabled).lower() != "false",
        secret=_unmasked(secret),
    )


def _unmasked(secret: Any) -> str | None:
    """The secret Jira showed back, unless it is masked (a run of `*`, or empty): then it cannot be compared."""
    if not isinstance(secret, str) or not secret or set(secret) <= {"*", "•"}:
        return None
    return secret
