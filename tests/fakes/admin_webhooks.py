"""A Jira site's admin-webhook REST API in memory, behind a `requests.Session`, in the three dialects hubsync meets
(/tmp research, README "Jira admin webhooks"):

- Cloud (`deploymentType: Cloud`) and Data Center before 10: `/rest/webhooks/1.0/webhook`, JQL in
  `filters."issue-related-events-section"`, the id only in `self`; Cloud keeps a top-level `secret` (never shown
  back), Data Center 9 ignores it.
- Data Center 10+: `/rest/jira-webhook/1.0/webhooks` with a numeric `id` and `configuration.FILTERS/SECRET`; the
  older path answers 404. The older body sent there is taken with its JQL and secret silently dropped.

Only an administrator may call them (`admin=False`: 403 in Jira's error shape). `requests` records each call.
`drops_jql`: the site takes a webhook but drops its JQL, as Data Center 10 does with a body it does not expect.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlsplit

import requests

OLD = "/rest/webhooks/1.0/webhook"
DC10 = "/rest/jira-webhook/1.0/webhooks"
SECTION = "issue-related-events-section"


class FakeWebhookSite(requests.Session):
    def __init__(self, base_url: str, *, version: str = "cloud", admin: bool = True, drops_jql: bool = False) -> None:
        super().__init__()
        self.drops_jql = drops_jql
        self.base_url = base_url.rstrip("/")
        self.version = version  # "cloud", or a Data Center version such as "9.12.0" or "10.3.1"
        self.admin = admin
        self.hooks_by_id: dict[int, dict[str, Any]] = {}  # name, url, events, jql, secret, enabled
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(1)

    @property
    def dc10(self) -> bool:
        return self.version != "cloud" and int(self.version.split(".")[0]) >= 10

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = urlsplit(url).path.removeprefix(urlsplit(self.base_url).path)
        self.requests.append((method, path))
        body = kwargs.get("json")
        if path in ("/rest/api/2/serverInfo", "/rest/api/3/serverInfo"):
            return _answer(200, self._server_info())
        if not self.admin and (path.startswith(OLD) or path.startswith(DC10)):
            return _answer(403, {"errorMessages": ["You are not a Jira administrator."], "errors": {}})
        collection = DC10 if self.dc10 else OLD
        if not path.startswith(collection):
            return _answer(404, {"errorMessages": ["Not found"], "errors": {}})
        rest = path.removeprefix(collection).strip("/")
        if not rest:
            if method == "GET":
                start = int((kwargs.get("params") or {}).get("start", 0))
                return _answer(200, [self._shown(i) for i in sorted(self.hooks_by_id)][start:])
            if method == "POST":
                webhook_id = next(self._ids)
                self.hooks_by_id[webhook_id] = self._fields(body, None)
                return _answer(201, self._shown(webhook_id))
            return _answer(405, None)
        webhook_id = int(rest)
        if webhook_id not in self.hooks_by_id:
            return _answer(404, {"errorMessages": [f"No webhook with id {webhook_id}"], "errors": {}})
        if method == "GET":
            return _answer(200, self._shown(webhook_id))
        if method == "PUT":
            self.hooks_by_id[webhook_id] = self._fields(body, self.hooks_by_id[webhook_id])
            return _answer(200, self._shown(webhook_id))
        if method == "DELETE":
            del self.hooks_by_id[webhook_id]
            return _answer(204, None)
        return _answer(405, None)

    def _server_info(self) -> dict[str, Any]:
        if self.version == "cloud":
            return {"baseUrl": self.base_url, "deploymentType": "Cloud", "versionNumbers": [1001, 0, 0]}
        numbers = [int(part) for part in self.version.split(".")]
        return {"baseUrl": self.base_url, "deploymentType": "Server", "version": self.version,
                "versionNumbers": numbers}

    def _fields(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        current = current or {}
        configuration = body.get("configuration") if self.dc10 else None
        if self.dc10:
            configuration = configuration if isinstance(configuration, dict) else {}
            jql, secret = configuration.get("FILTERS"), configuration.get("SECRET", current.get("secret"))
            enabled = body.get("active", True)
        else:
            jql = (body.get("filters") or {}).get(SECTION)
            secret = body.get("secret", current.get("secret")) if self.version == "cloud" else None
            enabled = body.get("enabled", True)
        return {"name": body["name"], "url": body["url"], "events": list(body["events"]),
                "jql": None if self.drops_jql else jql,
                "secret": secret, "enabled": enabled}

    def _shown(self, webhook_id: int) -> dict[str, Any]:
        hook = self.hooks_by_id[webhook_id]
        if self.dc10:
            configuration = {"EXCLUDE_BODY": "false"} | ({"FILTERS": hook["jql"]} if hook["jql"] else {})
            return {"id": webhook_id, "name": hook["name"], "url": hook["url"], "events": hook["events"],
                    "active": hook["enabled"], "configuration": configuration, "scopeType": "global"}
        return {"self": f"{self.base_url}{OLD}/{webhook_id}", "name": hook["name"], "url": hook["url"],
                "events": hook["events"], "filters": {SECTION: hook["jql"] or ""}, "enabled": hook["enabled"],
                "excludeBody": False}


def _answer(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    return response
