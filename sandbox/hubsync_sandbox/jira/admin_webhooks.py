"""Jira's admin webhooks: registered by a Jira administrator through the REST API, delivered on issue events,
signed where the site signs, retried as the site retries.

Two REST dialects, chosen by the site (what `GET /rest/api/2/serverInfo` tells a client: `deploymentType`
"Cloud" or "Server", `versionNumbers`):

    Cloud, and Data Center before 10.0: /rest/webhooks/1.0/webhook
        POST   {"name", "url", "events": [...], "filters": {"issue-related-events-section": "<JQL>"},
                "excludeBody": false, "enabled": true, "secret": "<Cloud only>"}
               -> 201, the webhook with `self` (its URL; the id is the last segment) and no `id`
        GET    -> [webhook, ...]            GET|PUT|DELETE /rest/webhooks/1.0/webhook/{id} (PUT -> 200, DELETE -> 204)
    Data Center 10.0 and later: /rest/jira-webhook/1.0/webhooks (the old path answers 404)
        POST   {"name", "url", "events": [...], "active": true,
                "configuration": {"FILTERS": "<JQL>", "EXCLUDE_BODY": "false", "SECRET": "<secret>"}}
               -> 201, the webhook with a numeric `id`, `configuration`, `active`, `scopeType`,
                  `sslVerificationRequired`, `createdDate`, `updatedDate` (no `self`)
        GET    ?event=&start=&limit= -> [webhook, ...]      GET|PUT|DELETE /rest/jira-webhook/1.0/webhooks/{id}

Only a person holding the Jira Administrators global permission (`User.site_admin`) may call them: anyone else,
and any app (Connect JWT, Forge token through the gateway), gets a 403 in Jira's error shape.

Deliveries: on `jira:issue_created` / `_updated` / `_deleted`, each enabled webhook listing the event whose JQL
matches the issue (as the event left it; a deleted issue as it was) gets a POST of the webhook payload to its URL,
`Content-Type: application/json`, plus `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` when it has
a secret and the site signs (Cloud; Data Center 10+). Cloud adds `X-Atlassian-Webhook-Identifier` (the same on
every retry), `X-Atlassian-Webhook-Flow: Primary` and, on retries, `X-Atlassian-Webhook-Retry: <n>`. A delivery is
retried on 408, 409, 425, 429, 5xx and connection failures, after the site's retry delays.

Assumptions (facts from /tmp/issue14/research.md where it has them; the rest is stated here):
- The 9.x body sent to 10.x is accepted, its `filters` (JQL), `excludeBody`, `enabled` and top-level `secret`
  ignored: the webhook is active, unfiltered and unsigned (research §0, §1.3). Symmetrically a 10.x body sent to
  the 1.0 path keeps only the fields that path knows.
- Data Center before 10.0 has no secret: one sent is ignored, deliveries are unsigned (research §1.2, §1.5).
- A secret is never returned on read: Cloud's `secret`, Data Center's `configuration.SECRET` (research §2 for
  Cloud; unknown for Data Center, where a client should check only `FILTERS` took). On PUT a body without a secret
  keeps the stored one, an empty secret removes it (unverified).
- `active` (10.x) and `enabled` (1.0) default to true when left out (unverified).
- Data Center sends no `X-Atlassian-Webhook-*` headers and its retries are undocumented: by default it retries
  twice, quickly; Cloud four times (Jira Cloud retries for up to 30 minutes; the sandbox keeps tests fast). Both
  are knobs (`retry-delays` below).
- A JQL filter must parse (the simulator's JQL subset) or the registration is a 400; values it names are not
  checked against the site. The URL is delivered as registered: no `${issue.key}` substitution.
- The payload is the one Connect webhooks get, without issue properties; with `excludeBody` the POST has no body
  (and the signature covers the empty body). Success is any 2xx; other answers are recorded and, if retryable,
  retried.
- The 403, 400 and 404 answers use Jira's `{"errorMessages": [...], "errors": {...}}` (the wording is ours).

Sandbox control API:

    GET    /_sandbox/admin-webhooks/deliveries?wait_ms=500   {"deliveries": [...], "idle": true}; DELETE forgets them
    GET    /_sandbox/admin-webhooks/registered               every webhook, with `hasSecret` and `signed`
    GET|POST /_sandbox/admin-webhooks/retry-delays {"delays_ms": [50, 200]}   the pauses before each retry
    GET|POST /_sandbox/server-version {"version": "9.12.0"}  (Data Center) the version serverInfo reports, and so
                                                              the admin webhooks' dialect
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response, g, jsonify, request

from hubsync_sandbox.jira import auth, jql
from hubsync_sandbox.jira.deliveries import BackgroundDeliveries
from hubsync_sandbox.jira.model import User
from hubsync_sandbox.jira.rest_support import caller, int_arg, json_object, no_content, reply
from hubsync_sandbox.jira.world import JiraError, JiraWorld, version_numbers

Dialect = Literal["webhooks-1.0", "jira-webhook-1.0"]
LEGACY_PATH = "/rest/webhooks/1.0/webhook"  # Cloud; Data Center before 10.0
DC10_PATH = "/rest/jira-webhook/1.0/webhooks"  # Data Center 10.0 and later
JQL_SECTION = "issue-related-events-section"
SIGNATURE_HEADER = "X-Hub-Signature"
CLOUD_RETRY_DELAYS_S = (0.05, 0.2, 0.5, 1.0)
DATA_CENTER_RETRY_DELAYS_S = (0.05, 0.2)
RETRYABLE = frozenset({408, 409, 425, 429})
TIMEOUT_S = 5.0
NOT_ADMIN = "You must be a Jira administrator (the Jira Administrators global permission) to manage webhooks."
APPS_REFUSED = "Admin webhooks are managed by a Jira administrator's own credentials, not by an app."


def signs(world: JiraWorld) -> bool:
    """Whether the site signs deliveries of a webhook with a secret: Cloud, and Data Center from 10.0."""
    return world.flavour == "cloud" or version_numbers(world.version)[0] >= 10


def dialect(world: JiraWorld) -> Dialect:
    return "webhooks-1.0" if world.flavour == "cloud" or version_numbers(world.version)[0] < 10 else "jira-webhook-1.0"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class AdminWebhook:
    """One registered webhook, independent of the dialect it was registered or is read in."""

    id: int
    name: str
    url: str
    events: list[str]
    jql_filter: str | None
    exclude_body: bool
    enabled: bool
    secret: str | None
    description: str | None
    created_ms: int
    updated_ms: int
    updated_by: User

    @property
    def query(self) -> jql.Query | None:
        return jql.parse(self.jql_filter) if self.jql_filter else None


# -- deliveries ----------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One event sent to one webhook: `statuses` per attempt (None: unreachable), `status` the last one."""

    id: str  # X-Atlassian-Webhook-Identifier on Cloud
    webhook_id: int
    event: str
    issue_key: str
    url: str
    signed: bool
    statuses: list[int | None] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhookId": self.webhook_id,
            "event": self.event,
            "issueKey": self.issue_key,
            "url": self.url,
            "signed": self.signed,
            "status": self.statuses[-1] if self.statuses else None,
            "statuses": list(self.statuses),
            "attempts": len(self.statuses),
            "error": self.error,
        }


@dataclass
class _Job:
    delivery: Delivery
    body: bytes | None
    secret: str | None


class Deliverer(BackgroundDeliveries[_Job]):
    """Sends deliveries from one background thread, in order, retrying those Jira retries."""

    thread_name = "admin-webhook-deliveries"

    def __init__(self, cloud: bool, retry_delays_s: tuple[float, ...]) -> None:
        super().__init__(retry_delays_s)
        self._cloud = cloud

    def submit(self, delivery: Delivery, body: bytes | None, secret: str | None) -> None:
        self._enqueue(delivery, _Job(delivery, body, secret))

    def _deliver(self, job: _Job) -> None:
        headers = {"Content-Type": "application/json"} if job.body is not None else {}
        if job.secret is not None:
            headers[SIGNATURE_HEADER] = signature(job.secret, job.body or b"")
        if self._cloud:
            headers |= {"X-Atlassian-Webhook-Identifier": job.delivery.id, "X-Atlassian-Webhook-Flow": "Primary"}
        for attempt, delay_s in enumerate((0.0, *self._retry_delays_s)):
            time.sleep(delay_s)
            if self._cloud and attempt:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt)
            status, error = _post(job.delivery.url, job.body, headers)
            with self._state:
                job.delivery.statuses.append(status)
                job.delivery.error = error
            if status is not None and not _retryable(status):
                return


def _retryable(status: int) -> bool:
    return status in RETRYABLE or status >= 500


def _post(url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int | None, str | None]:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        return None, str(exc)
    return response.status_code, None


# -- the registry --------------------------------------------------------------------------------------------


class AdminWebhooks:
    """The admin webhooks of one site; `on_issue_event` is a `world.listeners` hook."""

    def __init__(self, world: JiraWorld, retry_delays_s: tuple[float, ...] | None = None) -> None:
        self.world = world
        cloud = world.flavour == "cloud"
        default_delays = CLOUD_RETRY_DELAYS_S if cloud else DATA_CENTER_RETRY_DELAYS_S
        self.deliverer = Deliverer(cloud, default_delays if retry_delays_s is None else retry_delays_s)
        self._hooks: dict[int, AdminWebhook] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def all(self) -> list[AdminWebhook]:
        with self._lock:
            return list(self._hooks.values())

    def get(self, webhook_id: int) -> AdminWebhook:
        with self._lock:
            hook = self._hooks.get(webhook_id)
        if hook is None:
            raise JiraError(404, [f"The webhook with id {webhook_id} does not exist."])
        return hook

    def create(self, fields: dict[str, Any], actor: User) -> AdminWebhook:
        now = self._now_ms()
        with self._lock:
            hook = AdminWebhook(id=self._next_id, created_ms=now, updated_ms=now, updated_by=actor, **fields)
            self._hooks[hook.id] = hook
            self._next_id += 1
        return hook

    def replace(self, webhook_id: int, fields: dict[str, Any], actor: User) -> AdminWebhook:
        hook = self.get(webhook_id)
        with self._lock:
            for name, value in fields.items():
                setattr(hook, name, value)
            hook.updated_ms, hook.updated_by = self._now_ms(), actor
        return hook

    def delete(self, webhook_id: int) -> None:
        self.get(webhook_id)
        with self._lock:
            self._hooks.pop(webhook_id, None)

    def on_issue_event(self, payload: dict[str, Any]) -> None:
        """Queue a delivery to every enabled webhook for the event whose JQL matches the issue now."""
        event = payload["webhookEvent"]
        issue = payload["issue"]
        sent = {**payload, "issue": {k: v for k, v in issue.items() if k != "properties"}}
        raw = json.dumps(sent).encode()
        for hook in self.all():
            if not hook.enabled or event not in hook.events:
                continue
            query = hook.query
            if query is not None and not self.world.issue_matches(query, str(issue["id"])):
                continue
            secret = hook.secret if hook.secret and signs(self.world) else None
            delivery = Delivery(str(uuid.uuid4()), hook.id, event, issue["key"], hook.url, signed=secret is not None)
            self.deliverer.submit(delivery, None if hook.exclude_body else raw, secret)

    def _now_ms(self) -> int:
        return int(self.world.now().timestamp() * 1000)


# -- the REST dialects ---------------------------------------------------------------------------------------


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise JiraError(400, errors={name: f"The webhook's {name} is required (a non-empty string)."})
    return value


def _url(body: dict[str, Any]) -> str:
    url = _text(body, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JiraError(400, errors={"url": "The webhook's URL must be an absolute http or https URL."})
    return url


def _events(body: dict[str, Any]) -> list[str]:
    events = body.get("events", [])
    if not isinstance(events, list) or not all(isinstance(event, str) and event for event in events):
        raise JiraError(400, errors={"events": "The webhook's events must be a list of event names."})
    return list(dict.fromkeys(events))


def _jql(text: Any, field_name: str) -> str | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise JiraError(400, errors={field_name: "The JQL filter must be a string."})
    try:
        jql.parse(text)
    except jql.JqlError as exc:
        raise JiraError(400, errors={field_name: f"The JQL filter is not valid: {exc}"}) from None
    return text


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise JiraError(400, errors={name: f"{name} must be true or false."})
    return value


def _secret(raw: Any, field_name: str, current: str | None) -> str | None:
    """A secret as sent: absent keeps `current`, empty removes it."""
    if raw is None:
        return current
    if not isinstance(raw, str):
        raise JiraError(400, errors={field_name: "The secret must be a string."})
    return raw or None


def legacy_fields(world: JiraWorld, body: dict[str, Any], current: AdminWebhook | None) -> dict[str, Any]:
    """/rest/webhooks/1.0/webhook's body as stored fields; the secret counts on Cloud only."""
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise JiraError(400, errors={"filters": "filters must be an object."})
    secret = current.secret if current else None
    if world.flavour == "cloud":
        secret = _secret(body.get("secret"), "secret", secret)
    return {
        "name": _text(body, "name"),
        "url": _url(body),
        "events": _events(body),
        "jql_filter": _jql(filters.get(JQL_SECTION), JQL_SECTION),
        "exclude_body": _flag(body, "excludeBody", False),
        "enabled": _flag(body, "enabled", True),
        "secret": secret,
        "description": current.description if current else None,
    }


def dc10_fields(body: dict[str, Any], current: AdminWebhook | None) -> dict[str, Any]:
    """/rest/jira-webhook/1.0/webhooks's body as stored fields: settings live in `configuration`, as strings;
    the 9.x keys (filters, excludeBody, enabled, secret) mean nothing here."""
    configuration = body.get("configuration") or {}
    if not isinstance(configuration, dict) or not all(isinstance(v, str) for v in configuration.values()):
        raise JiraError(400, errors={"configuration": "configuration must map names to strings."})
    exclude = configuration.get("EXCLUDE_BODY", "false").lower()
    if exclude not in ("true", "false"):
        raise JiraError(400, errors={"EXCLUDE_BODY": 'EXCLUDE_BODY must be "true" or "false".'})
    return {
        "name": _text(body, "name"),
        "url": _url(body),
        "events": _events(body),
        "jql_filter": _jql(configuration.get("FILTERS"), "FILTERS"),
        "exclude_body": exclude == "true",
        "enabled": _flag(body, "active", True),
        "secret": _secret(configuration.get("SECRET"), "SECRET", current.secret if current else None),
        "description": configuration.get("DESCRIPTION"),
    }


def legacy_json(world: JiraWorld, hook: AdminWebhook) -> dict[str, Any]:
    """A webhook as /rest/webhooks/1.0/webhook shows it: `self`, no id, never the secret."""
    user = hook.updated_by
    return {
        "name": hook.name,
        "url": hook.url,
        "excludeBody": hook.exclude_body,
        "filters": {JQL_SECTION: hook.jql_filter or ""},
        "events": list(hook.events),
        "enabled": hook.enabled,
        "self": f"{world.base_url}{LEGACY_PATH}/{hook.id}",
        "lastUpdatedUser": user.account_id if world.flavour == "cloud" else user.key,
        "lastUpdatedDisplayName": user.display_name,
        "lastUpdated": hook.updated_ms,
    }


def dc10_json(hook: AdminWebhook) -> dict[str, Any]:
    """A webhook as /rest/jira-webhook/1.0/webhooks shows it: a numeric id, settings in `configuration`, never
    the secret."""
    configuration = {"EXCLUDE_BODY": "true" if hook.exclude_body else "false"}
    if hook.jql_filter:
        configuration["FILTERS"] = hook.jql_filter
    if hook.description:
        configuration["DESCRIPTION"] = hook.description
    return {
        "id": hook.id,
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events),
        "configuration": configuration,
        "active": hook.enabled,
        "scopeType": "global",
        "sslVerificationRequired": True,
        "createdDate": hook.created_ms,
        "updatedDate": hook.updated_ms,
    }


def rest_blueprint(world: JiraWorld, hooks: AdminWebhooks) -> Blueprint:
    """Both dialects' routes; each answers 404 where the site's version serves the other one (Cloud serves only
    the 1.0 path)."""
    bp = Blueprint("jira_admin_webhooks", __name__)

    @bp.before_request
    def _administrator_only() -> None:
        wanted: Dialect = "webhooks-1.0" if request.path.startswith(LEGACY_PATH) else "jira-webhook-1.0"
        if dialect(world) != wanted:
            raise JiraError(404, [f"No resource at {request.path} on Jira {world.version}."])
        g.jira_user = auth.authenticate(world, request)
        if auth.app_grant(request) is not None:
            raise JiraError(403, [APPS_REFUSED])
        if not (g.jira_user.active and g.jira_user.site_admin):
            raise JiraError(403, [NOT_ADMIN])

    @bp.get(LEGACY_PATH)
    def legacy_list() -> Response:
        return reply([legacy_json(world, hook) for hook in hooks.all()])

    @bp.post(LEGACY_PATH)
    def legacy_create() -> Response:
        hook = hooks.create(legacy_fields(world, json_object(), None), caller())
        return reply(legacy_json(world, hook), 201)

    @bp.get(f"{LEGACY_PATH}/<int:webhook_id>")
    def legacy_get(webhook_id: int) -> Response:
        return reply(legacy_json(world, hooks.get(webhook_id)))

    @bp.put(f"{LEGACY_PATH}/<int:webhook_id>")
    def legacy_replace(webhook_id: int) -> Response:
        fields = legacy_fields(world, json_object(), hooks.get(webhook_id))
        return reply(legacy_json(world, hooks.replace(webhook_id, fields, caller())))

    @bp.delete(f"{LEGACY_PATH}/<int:webhook_id>")
    def legacy_delete(webhook_id: int) -> Response:
        hooks.delete(webhook_id)
        return no_content()

    if world.flavour == "cloud":
        return bp

    @bp.get(DC10_PATH)
    def dc10_list() -> Response:
        """`?event=` keeps the webhooks listening to it; `?start=&limit=` pages (no limit by default)."""
        event = request.args.get("event")
        start, limit = int_arg("start", 0), int_arg("limit", 0)
        listed = [dc10_json(hook) for hook in hooks.all() if event is None or event in hook.events][start:]
        return reply(listed[:limit] if limit else listed)

    @bp.post(DC10_PATH)
    def dc10_create() -> Response:
        return reply(dc10_json(hooks.create(dc10_fields(json_object(), None), caller())), 201)

    @bp.get(f"{DC10_PATH}/<int:webhook_id>")
    def dc10_get(webhook_id: int) -> Response:
        return reply(dc10_json(hooks.get(webhook_id)))

    @bp.put(f"{DC10_PATH}/<int:webhook_id>")
    def dc10_replace(webhook_id: int) -> Response:
        fields = dc10_fields(json_object(), hooks.get(webhook_id))
        return reply(dc10_json(hooks.replace(webhook_id, fields, caller())))

    @bp.delete(f"{DC10_PATH}/<int:webhook_id>")
    def dc10_delete(webhook_id: int) -> Response:
        hooks.delete(webhook_id)
        return no_content()

    return bp


# -- sandbox control -----------------------------------------------------------------------------------------


def control_blueprint(world: JiraWorld, hooks: AdminWebhooks) -> Blueprint:
    bp = Blueprint("jira_admin_webhooks_control", __name__, url_prefix="/_sandbox")
    deliverer = hooks.deliverer

    @bp.get("/admin-webhooks/deliveries")
    def deliveries() -> Response:
        wait_ms = max(request.args.get("wait_ms", type=int) or 0, 0)
        idle = deliverer.wait_idle(wait_ms / 1000)
        return jsonify(deliveries=deliverer.records(), idle=idle)

    @bp.delete("/admin-webhooks/deliveries")
    def forget_deliveries() -> tuple[str, int]:
        deliverer.forget()
        return "", 204

    @bp.get("/admin-webhooks/registered")
    def registered() -> Response:
        return jsonify([
            {"id": hook.id, "name": hook.name, "url": hook.url, "events": hook.events, "jql": hook.jql_filter,
             "enabled": hook.enabled, "hasSecret": hook.secret is not None,
             "signed": hook.secret is not None and signs(world)}
            for hook in hooks.all()
        ])

    def delays() -> Response:
        return jsonify(delays_ms=[round(delay * 1000) for delay in deliverer.retry_delays_s])

    @bp.get("/admin-webhooks/retry-delays")
    def get_retry_delays() -> Response:
        return delays()

    @bp.post("/admin-webhooks/retry-delays")
    def set_retry_delays() -> tuple[Response, int] | Response:
        body = request.get_json(silent=True)
        given = body.get("delays_ms") if isinstance(body, dict) else None
        if not isinstance(given, list) or not all(isinstance(d, int | float) and not isinstance(d, bool)
                                                  for d in given):
            return jsonify(error='body must be {"delays_ms": [<milliseconds>, ...]}'), 400
        try:
            deliverer.set_retry_delays(tuple(d / 1000 for d in given))
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return delays()

    @bp.get("/server-version")
    def get_version() -> Response:
        return jsonify(version=world.version, versionNumbers=version_numbers(world.version))

    @bp.post("/server-version")
    def set_version() -> tuple[Response, int] | Response:
        body = request.get_json(silent=True)
        version = body.get("version") if isinstance(body, dict) else None
        if world.flavour == "cloud":
            return jsonify(error="Jira Cloud's version is not a knob"), 400
        if not isinstance(version, str):
            version = ""
        try:
            version_numbers(version)
        except ValueError as exc:
            return jsonify(error=f'body must be {{"version": "<major>.<minor>.<revision>"}}: {exc}'), 400
        world.version = version
        return get_version()

    return bp
