"""Jira Cloud's side of Atlassian Connect: installing an app from its descriptor, lifecycle callbacks,
webhooks, workflow post functions, and the issue page that embeds the app's iframes.

Everything Jira sends to an app is signed as Jira signs it: `installed` and `uninstalled` with an RS256
install token (key served by `InstallKeyServer`), everything else HS256 with the tenant's shared secret, `iss` =
clientKey, `qsh` over the request relative to the app's baseUrl. Webhooks and post functions leave from one
background thread, in order, retried on failure; the sandbox records them for tests under
`/_sandbox/connect/deliveries`.

Sandbox control API (JSON bodies):

    POST /_sandbox/connect/install         {"descriptorUrl": "http://app/atlassian-connect.json"}
    POST /_sandbox/connect/uninstall       {"appKey": "..."}
    POST /_sandbox/connect/enable          {"appKey": "..."}
    POST /_sandbox/connect/disable         {"appKey": "..."}
    GET  /_sandbox/connect/apps
    POST /_sandbox/connect/post-functions  {"appKey", "moduleKey", "projectKey", "configuration": "..."}
    GET  /_sandbox/connect/deliveries?wait_ms=500      (DELETE to forget them)
    GET|POST /_sandbox/connect/retry-delays  {"delays_ms": [500, 1000, 2000]}: the pauses before each retry of a
                                             failed delivery (Jira retries for minutes; the default is short)
    GET  /_sandbox/connect/context-token?appKey=&issueKey=&as=<login>

Pages: `GET /browse/<key>?as=<login>` (the issue as Jira renders it, with app panels and glances, and Forge apps'
issue panels and contexts when the site's Forge side gives them: forge/host.py),
`GET /plugins/servlet/ac/<appKey>/<moduleKey>?as=<login>` (an app's configure, admin or general page, embedded as
Jira embeds it; its context token comes from `GET /_sandbox/connect/page-context-token?appKey=&as=`) and
`GET /atlassian-connect/all.js` (the AP shim the app's iframe loads from the Jira host).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, send_from_directory

from hubsync_sandbox.jira import adf, jql
from hubsync_sandbox.jira.connect_jwt import CONTEXT_QSH, query_hash, sign_hs256
from hubsync_sandbox.jira.deliveries import BackgroundDeliveries
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from hubsync_sandbox.jira.model import InstalledApp, Issue, User
from hubsync_sandbox.jira.world import JiraError, JiraWorld

CONNECT_VERSION = "1001.0.0-SNAPSHOT"  # what Jira Cloud sends as Atlassian-Connect-Version, pluginsVersion, cv
SERVER_VERSION = "100284"
ISSUE_VIEW_LOCATION = "atl.jira.view.issue.right.context"
TOKEN_LIFETIME_S = 180
APP_TIMEOUT_S = 5.0
RETRY_DELAYS_S = (0.05, 0.2, 0.5)  # Jira retries over minutes; the sandbox keeps tests fast
DELIVERED = (200, 204)  # the only answers Jira counts as success (installed callback and webhooks alike)
APP_KEY = re.compile(r"^[a-zA-Z0-9-._]+$")
# Module fields this simulator relies on, per module type ("a.b" is a nested field).
MODULE_FIELDS = {
    "webhooks": ("event", "url"),
    "webPanels": ("key", "url", "location"),
    "jiraIssueGlances": ("key", "target.url"),
    "jiraWorkflowPostFunctions": ("key", "triggered.url"),
}


class ConnectError(Exception):
    """A platform operation that failed: `status` is the sandbox's answer, `app_status` the app's, if any."""

    def __init__(self, status: int, message: str, app_status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.app_status = app_status


# -- deliveries ----------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One webhook or post-function call as the app saw it: `status` is its last answer (None: unreachable)."""

    id: str  # X-Atlassian-Webhook-Identifier, the same on every retry
    app_key: str
    event: str
    url: str
    status: int | None = None
    attempts: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "appKey": self.app_key,
            "event": self.event,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
        }


@dataclass
class _Job:
    delivery: Delivery
    app: InstalledApp  # as installed when the event happened (a reinstall stores a new object)
    path: str  # relative to the app's baseUrl, query included
    body: dict[str, Any] | None  # None: no body (a webhook with excludeBody)


class DeliveryWorker(BackgroundDeliveries[_Job]):
    """Sends Jira's asynchronous calls to apps from one background thread, in order, retrying failures."""

    thread_name = "connect-deliveries"

    def __init__(self, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        super().__init__(retry_delays_s)

    def submit(self, app: InstalledApp, event: str, path: str, body: dict[str, Any] | None) -> None:
        delivery = Delivery(str(uuid.uuid4()), app.key, event, _app_url(app.base_url, path))
        self._enqueue(delivery, _Job(delivery, app, path, body))

    def _deliver(self, job: _Job) -> None:
        for attempt, delay_s in enumerate((0.0, *self._retry_delays_s)):
            time.sleep(delay_s)
            headers = {"X-Atlassian-Webhook-Identifier": job.delivery.id, "X-Atlassian-Webhook-Flow": "Primary"}
            if attempt:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt)
            token = sign_hs256("POST", job.path, job.app.client_key, job.app.shared_secret, TOKEN_LIFETIME_S)
            status, error = _post_to_app(job.app, job.path, token, job.body, headers)
            with self._state:
                job.delivery.attempts = attempt + 1
                job.delivery.status = status
                job.delivery.error = error
            if status in DELIVERED:
                return


def _post_to_app(
    app: InstalledApp, path: str, token: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> tuple[int | None, str | None]:
    """POST to the app as Jira does; returns the app's status, or None and the reason it was unreachable."""
    all_headers = {"Authorization": f"JWT {token}", "Atlassian-Connect-Version": CONNECT_VERSION, **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    try:
        response = requests.post(
            _app_url(app.base_url, path),
            data=json.dumps(body) if body is not None else None,
            headers=all_headers,
            timeout=APP_TIMEOUT_S,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return None, str(exc)
    return response.status_code, None


def _app_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _relative(url: str) -> str:
    """A descriptor URL as a path relative to the app's baseUrl (descriptors give them relative already)."""
    return url if url.startswith("/") else "/" + url


# -- the platform --------------------------------------------------------------------------------------------


@dataclass
class PostFunction:
    """An app's `jiraWorkflowPostFunctions` module placed on every transition of one project's workflow."""

    app_key: str
    module_key: str
    project_key: str
    configuration: str


@dataclass
class ConnectPlatform:
    """The Connect side of one Jira site: installed apps live in `world.connect_apps`."""

    world: JiraWorld
    install_keys: InstallKeyServer
    worker: DeliveryWorker = field(default_factory=DeliveryWorker)
    post_functions: list[PostFunction] = field(default_factory=list)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def install(self, descriptor_url: str) -> InstalledApp:
        """Fetch the descriptor and call `installed`; only a 200/204 answer installs (a reinstall rotates
        the shared secret), then `enabled` follows as it does on Jira Cloud.

        The install is always signed (RS256), as for every app since the signed-install migration; the
        legacy unsigned first install is not simulated."""
        descriptor = _fetch_descriptor(descriptor_url)
        _check_descriptor(descriptor)
        key = descriptor["key"]
        app = InstalledApp(
            key=key,
            base_url=descriptor["baseUrl"],
            client_key=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.world.base_url}#connect:{key}")),
            shared_secret=secrets.token_urlsafe(48),
            descriptor=descriptor,
        )
        path = _relative(descriptor["lifecycle"]["installed"])
        payload = {**self._lifecycle_payload(app, "installed"), "sharedSecret": app.shared_secret}
        status, error = _post_to_app(app, path, self._install_token(app, path), payload)
        if status not in DELIVERED:
            reason = error or f"HTTP {status}"
            raise ConnectError(502, f"the app's installed callback failed ({reason}); the app is not installed", status)
        self.world.connect_apps[key] = app
        self._notify(app, "enabled")
        return app

    def uninstall(self, app_key: str) -> int | None:
        """Call `uninstalled` (RS256) and remove the app whatever it answers; returns the app's status."""
        app = self._app(app_key)
        path = app.descriptor["lifecycle"].get("uninstalled")
        status = None
        if path:
            path = _relative(path)
            payload = self._lifecycle_payload(app, "uninstalled")
            status, _ = _post_to_app(app, path, self._install_token(app, path), payload)
        self.world.connect_apps.pop(app_key, None)
        self.post_functions = [p for p in self.post_functions if p.app_key != app_key]
        return status

    def set_enabled(self, app_key: str, enabled: bool) -> int | None:
        """Enable or disable the app and notify it (HS256); returns the app's status."""
        app = self._app(app_key)
        app.enabled = enabled
        return self._notify(app, "enabled" if enabled else "disabled")

    def _notify(self, app: InstalledApp, event: str) -> int | None:
        path = app.descriptor["lifecycle"].get(event)
        if not path:
            return None
        path = _relative(path)
        token = sign_hs256("POST", path, app.client_key, app.shared_secret, TOKEN_LIFETIME_S)
        status, _ = _post_to_app(app, path, token, self._lifecycle_payload(app, event))
        return status

    def _install_token(self, app: InstalledApp, path: str) -> str:
        """The signed-install token: RS256, `aud` = the app's baseUrl, no `sub` (a system call)."""
        now = int(time.time())
        claims = {
            "iss": app.client_key,
            "aud": [app.base_url],
            "qsh": query_hash("POST", path),
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        return self.install_keys.sign(claims)

    def _lifecycle_payload(self, app: InstalledApp, event: str) -> dict[str, Any]:
        site = self.world.base_url
        return {
            "key": app.key,
            "clientKey": app.client_key,
            "baseUrl": site,
            "displayUrl": site,
            "productType": "jira",
            "description": f"Atlassian JIRA at {site}",
            "eventType": event,
            "serverVersion": SERVER_VERSION,
            "pluginsVersion": CONNECT_VERSION,
            "cloudId": str(uuid.uuid5(uuid.NAMESPACE_URL, site)),
            "oauthClientId": uuid.uuid5(uuid.NAMESPACE_URL, f"{site}#oauth:{app.key}").hex,
        }

    def _app(self, app_key: str) -> InstalledApp:
        app = self.world.connect_apps.get(app_key)
        if app is None:
            raise ConnectError(404, f"no app with key {app_key!r} is installed")
        return app

    def enabled_apps(self) -> list[InstalledApp]:
        return [app for app in list(self.world.connect_apps.values()) if app.enabled]

    def enabled_app(self, app_key: str) -> InstalledApp:
        app = self._app(app_key)
        if not app.enabled:
            raise ConnectError(409, f"app {app_key!r} is disabled")
        return app

    # -- webhooks and post functions -------------------------------------------------------------------------
    def add_post_function(self, post_function: PostFunction) -> None:
        app = self._app(post_function.app_key)
        keys = [module["key"] for module in _modules(app, "jiraWorkflowPostFunctions")]
        if post_function.module_key not in keys:
            message = f"app {app.key!r} has no jiraWorkflowPostFunctions module {post_function.module_key!r}"
            raise ConnectError(400, message)
        self.post_functions.append(post_function)

    def on_issue_event(self, payload: dict[str, Any]) -> None:
        """A `world.listeners` hook: queue the webhooks and post functions this issue event triggers.

        Filters are evaluated now, against the issue as the event left it; delivery happens later.
        """
        event = payload["webhookEvent"]
        issue = payload["issue"]
        for app in self.enabled_apps():
            for webhook in _modules(app, "webhooks"):
                if webhook["event"] == event and self._passes_filter(webhook, event, issue["key"]):
                    path = _fill(_relative(webhook["url"]), _url_values(issue), "${", "}")
                    body = None if webhook.get("excludeBody") else _pruned(payload, webhook.get("propertyKeys"))
                    self.worker.submit(app, event, path, body)
        transition = _status_change(payload)
        if transition is not None:
            self._trigger_post_functions(payload, transition)

    def _passes_filter(self, webhook: dict[str, Any], event: str, issue_key: str) -> bool:
        """Whether the issue matches the webhook's JQL filter. A deleted issue is gone from search, so its
        webhooks are delivered whenever the event matches."""
        jql_filter = webhook.get("filter")
        if not jql_filter or event == "jira:issue_deleted":
            return True
        return issue_key in self.world.search_keys(f"({jql_filter}) AND key = {issue_key}", consistent=True)

    def _trigger_post_functions(self, payload: dict[str, Any], change: tuple[str, str]) -> None:
        project = self.world.project(payload["issue"]["fields"]["project"]["key"])
        workflow = project.workflow
        from_id, to_id = change
        from_status = next((s for s in workflow.statuses if s.id == from_id), None)
        if from_status is None:
            return
        # The transition that moved the issue: the one from its old status to its new one.
        transition = next(
            (t for t in workflow.transitions if t.to.id == to_id and t.available_from(from_status)), None
        )
        if transition is None:
            return
        for post_function in self.post_functions:
            app = self.world.connect_apps.get(post_function.app_key)
            if post_function.project_key != project.key or app is None or not app.enabled:
                continue
            module = next(m for m in _modules(app, "jiraWorkflowPostFunctions") if m["key"] == post_function.module_key)
            # Field names of Jira's post-function body as reported by Atlassian's docs; unverified.
            body = {
                "configuration": {"value": post_function.configuration},
                "issue": {k: v for k, v in payload["issue"].items() if k != "properties"},
                "transition": {
                    "transitionId": int(transition.id),
                    "transitionName": transition.name,
                    "from_status": from_status.name,
                    "to_status": transition.to.name,
                    "workflowName": workflow.name,
                },
            }
            path = _relative(module["triggered"]["url"])
            self.worker.submit(app, f"post-function:{post_function.module_key}", path, body)

    # -- iframes ---------------------------------------------------------------------------------------------
    def iframe_url(self, app: InstalledApp, module_key: str, module_url: str, issue: Issue, viewer: User) -> str:
        """The module's URL as Jira loads it in an iframe: context filled in, Jira's parameters added, and a
        `jwt` whose `qsh` covers all of it."""
        path = _fill(_relative(module_url), _url_values(_issue_json(issue)), "{", "}")
        return self._signed_iframe_url(app, module_key, path, viewer)

    def context_token(self, app: InstalledApp, issue: Issue, viewer: User) -> str:
        """What `AP.context.getToken()` hands the iframe: `qsh` = context-qsh, for the app's own backend only."""
        return sign_hs256(
            "GET",
            "/",
            app.client_key,
            app.shared_secret,
            TOKEN_LIFETIME_S,
            extra_claims={"sub": viewer.account_id, "context": jira_context(issue)},
            qsh=CONTEXT_QSH,
        )

    def issue_modules(self, issue: Issue, viewer: User) -> list[dict[str, Any]]:
        """The web panels and glances of every enabled app on the issue view, ready for the template."""
        shown = []
        for app in self.enabled_apps():
            entries = [
                (module, module["url"], "panel")
                for module in _modules(app, "webPanels")
                if module["location"] == ISSUE_VIEW_LOCATION
            ]
            entries += [(module, module["target"]["url"], "glance") for module in _modules(app, "jiraIssueGlances")]
            for module, url, kind in entries:
                status = issue.properties.get(f"com.atlassian.jira.issue:{app.key}:{module['key']}:status")
                shown.append(
                    {
                        "kind": kind,
                        "app_key": app.key,
                        "title": _module_name(module),
                        "src": self.iframe_url(app, module["key"], url, issue, viewer),
                        "origin": _origin(app.base_url),
                        "glance_status": status.get("value") if kind == "glance" and isinstance(status, dict) else None,
                        "height": (module.get("layout") or {}).get("height", "200px"),
                    }
                )
        return shown


    # -- app pages (configure, admin, general) --------------------------------------------------------------
    def page_module(self, app: InstalledApp, module_key: str) -> dict[str, Any]:
        """The app's `configurePage`, or the `adminPages` / `generalPages` entry with this key."""
        modules = app.descriptor.get("modules", {})
        candidates = [modules.get("configurePage"), *modules.get("adminPages", []), *modules.get("generalPages", [])]
        for module in candidates:
            if isinstance(module, dict) and module.get("key") == module_key and isinstance(module.get("url"), str):
                return module
        raise ConnectError(404, f"app {app.key!r} has no configurePage, adminPages or generalPages {module_key!r}")

    def page_iframe_url(self, app: InstalledApp, module_key: str, module_url: str, viewer: User) -> str:
        """A page module's URL as Jira loads it: no issue context, Jira's parameters added, a `jwt` over it all."""
        return self._signed_iframe_url(app, module_key, _relative(module_url), viewer)

    def _signed_iframe_url(self, app: InstalledApp, module_key: str, path: str, viewer: User) -> str:
        """`path` with the parameters Jira adds to every iframe, and a `jwt` whose `qsh` covers all of it."""
        jira_params = {
            "xdm_e": self.world.base_url,
            "xdm_c": f"channel-{app.key}__{module_key}",
            "cp": "",
            "xdm_deprecated_addon_key_do_not_use": app.key,
            "lic": "active" if app.descriptor.get("enableLicensing") else "none",
            "cv": CONNECT_VERSION,
            "tz": "UTC",
            "loc": "en-US",
        }
        target = path + ("&" if "?" in path else "?") + urlencode(jira_params, quote_via=quote)
        token = sign_hs256(
            "GET", target, app.client_key, app.shared_secret, TOKEN_LIFETIME_S, extra_claims={"sub": viewer.account_id}
        )
        return _app_url(app.base_url, target) + "&jwt=" + token

    def page_context_token(self, app: InstalledApp, viewer: User) -> str:
        """`AP.context.getToken()` on a page with no issue: `qsh` = context-qsh, an empty Jira context."""
        return sign_hs256(
            "GET",
            "/",
            app.client_key,
            app.shared_secret,
            TOKEN_LIFETIME_S,
            extra_claims={"sub": viewer.account_id, "context": PAGE_CONTEXT},
            qsh=CONTEXT_QSH,
        )


# What AP.context.getContext() and context tokens carry on a page that shows no issue or project.
PAGE_CONTEXT: dict[str, Any] = {"jira": {}}


def jira_context(issue: Issue) -> dict[str, Any]:
    """The Jira context of an issue page, as `AP.context.getContext()` and context tokens carry it."""
    return {
        "jira": {
            "issue": {"id": issue.id, "key": issue.key, "issuetype": {"id": issue.issue_type.id}},
            "project": {"id": issue.project.id, "key": issue.project.key},
        }
    }


def _fetch_descriptor(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=APP_TIMEOUT_S)
    except requests.RequestException as exc:
        raise ConnectError(400, f"could not fetch the descriptor from {url}: {exc}") from exc
    if response.status_code != 200:
        raise ConnectError(400, f"fetching the descriptor from {url} answered HTTP {response.status_code}")
    try:
        descriptor = response.json()
    except ValueError as exc:
        raise ConnectError(400, f"the descriptor at {url} is not JSON") from exc
    if not isinstance(descriptor, dict):
        raise ConnectError(400, f"the descriptor at {url} is not a JSON object")
    return descriptor


def _check_descriptor(descriptor: dict[str, Any]) -> None:
    """The minimum Jira needs to install an app, with one clear message per problem found first."""
    key = descriptor.get("key")
    if not isinstance(key, str) or not APP_KEY.match(key) or len(key) > 64:
        raise ConnectError(400, "descriptor key is missing or invalid (letters, digits, - . _; at most 64 chars)")
    base_url = descriptor.get("baseUrl")
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https"):
        raise ConnectError(400, "descriptor baseUrl is missing or not an http(s) URL")
    authentication = descriptor.get("authentication")
    if not isinstance(authentication, dict) or str(authentication.get("type", "")).lower() != "jwt":
        raise ConnectError(400, 'descriptor authentication must be {"type": "jwt"}')
    lifecycle = descriptor.get("lifecycle")
    if not isinstance(lifecycle, dict) or not isinstance(lifecycle.get("installed"), str):
        raise ConnectError(400, "descriptor lifecycle.installed is missing")
    modules = descriptor.get("modules", {})
    if not isinstance(modules, dict):
        raise ConnectError(400, "descriptor modules must be an object")
    for module_type, required in MODULE_FIELDS.items():
        entries = modules.get(module_type, [])
        if not isinstance(entries, list):
            raise ConnectError(400, f"descriptor modules.{module_type} must be an array")
        for index, module in enumerate(entries):
            for name in required:
                if not isinstance(_dig(module, name), str):
                    raise ConnectError(400, f"descriptor modules.{module_type}[{index}].{name} is missing")
    for index, webhook in enumerate(modules.get("webhooks", [])):
        if webhook.get("filter"):
            try:
                jql.parse(webhook["filter"])
            except jql.JqlError as exc:
                raise ConnectError(400, f"descriptor modules.webhooks[{index}].filter is not valid JQL: {exc}") from exc


def _dig(value: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _modules(app: InstalledApp, module_type: str) -> list[dict[str, Any]]:
    return app.descriptor.get("modules", {}).get(module_type, [])


def _module_name(module: dict[str, Any]) -> str:
    name = module.get("name")
    return name.get("value", module["key"]) if isinstance(name, dict) else module["key"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _issue_json(issue: Issue) -> dict[str, Any]:
    """The identifiers a module URL may name, in the webhook payload's shape."""
    return {
        "id": issue.id,
        "key": issue.key,
        "fields": {"project": {"id": issue.project.id, "key": issue.project.key}},
    }


def _url_values(issue: dict[str, Any]) -> dict[str, str]:
    project = issue.get("fields", {}).get("project", {})
    return {
        "issue.key": issue["key"],
        "issue.id": str(issue["id"]),
        "project.key": str(project.get("key", "")),
        "project.id": str(project.get("id", "")),
    }


def _fill(template: str, values: dict[str, str], opening: str, closing: str) -> str:
    """Substitute `${issue.key}` (webhooks) or `{issue.key}` (iframes) style context variables."""
    for name, value in values.items():
        template = template.replace(f"{opening}{name}{closing}", quote(value, safe=""))
    return template


def _pruned(payload: dict[str, Any], property_keys: list[str] | None) -> dict[str, Any]:
    """The payload with only the issue properties the webhook asked for (none unless it names some)."""
    issue = {k: v for k, v in payload["issue"].items() if k != "properties"}
    if property_keys:
        wanted = set(property_keys)
        issue["properties"] = [p for p in payload["issue"].get("properties", []) if p["key"] in wanted]
    return {**payload, "issue": issue}


def _status_change(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(from status id, to status id) when the event is an issue update that moved the issue's status."""
    if payload["webhookEvent"] != "jira:issue_updated":
        return None
    for item in (payload.get("changelog") or {}).get("items", []):
        if item.get("field") == "status":
            return str(item.get("from")), str(item.get("to"))
    return None


# -- HTTP ----------------------------------------------------------------------------------------------------


def connect_blueprint(
    world: JiraWorld,
    install_keys: InstallKeyServer,
    other_issue_modules: Callable[[Issue, User], list[dict[str, Any]]] | None = None,
) -> Blueprint:
    """Jira's Connect platform for `world` (a Cloud site), with its sandbox control API and issue page.
    `other_issue_modules`: what else the issue page embeds (Forge's panels: forge/host.py's issue_modules)."""
    platform = ConnectPlatform(world, install_keys)
    world.listeners.append(platform.on_issue_event)
    bp = Blueprint(
        "connect",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/_sandbox/connect/static",
    )

    @bp.errorhandler(ConnectError)
    def connect_error(exc: ConnectError) -> tuple[Response, int]:
        return jsonify(error=str(exc), appStatus=exc.app_status), exc.status

    @bp.post("/_sandbox/connect/install")
    def install() -> Response:
        app = platform.install(_field("descriptorUrl"))
        return jsonify(_app_summary(app))

    @bp.post("/_sandbox/connect/uninstall")
    def uninstall() -> Response:
        return jsonify(appStatus=platform.uninstall(_field("appKey")))

    @bp.post("/_sandbox/connect/enable")
    def enable() -> Response:
        return jsonify(appStatus=platform.set_enabled(_field("appKey"), True))

    @bp.post("/_sandbox/connect/disable")
    def disable() -> Response:
        return jsonify(appStatus=platform.set_enabled(_field("appKey"), False))

    @bp.get("/_sandbox/connect/apps")
    def apps() -> Response:
        return jsonify([_app_summary(app) for app in list(world.connect_apps.values())])

    @bp.post("/_sandbox/connect/post-functions")
    def add_post_function() -> tuple[Response, int]:
        project_key = _field("projectKey")
        if project_key not in world.projects:
            raise ConnectError(400, f"no project with key {project_key!r}")
        platform.add_post_function(
            PostFunction(_field("appKey"), _field("moduleKey"), project_key, _field("configuration"))
        )
        return jsonify(ok=True), 201

    @bp.get("/_sandbox/connect/deliveries")
    def deliveries() -> Response:
        wait_ms = max(request.args.get("wait_ms", type=int) or 0, 0)
        idle = platform.worker.wait_idle(wait_ms / 1000)  # 0: whether it is idle right now
        return jsonify(deliveries=platform.worker.records(), idle=idle)

    @bp.get("/_sandbox/connect/retry-delays")
    def retry_delays() -> Response:
        return jsonify(delays_ms=[round(delay * 1000) for delay in platform.worker.retry_delays_s])

    @bp.post("/_sandbox/connect/retry-delays")
    def set_retry_delays() -> Response:
        body = request.get_json(silent=True)
        delays = body.get("delays_ms") if isinstance(body, dict) else None
        if not isinstance(delays, list) or not all(
            isinstance(d, int | float) and not isinstance(d, bool) for d in delays
        ):
            raise ConnectError(400, 'body must be {"delays_ms": [<milliseconds>, ...]}')
        try:
            platform.worker.set_retry_delays(tuple(d / 1000 for d in delays))
        except ValueError as exc:
            raise ConnectError(400, str(exc)) from None
        return jsonify(delays_ms=[round(delay * 1000) for delay in platform.worker.retry_delays_s])

    @bp.delete("/_sandbox/connect/deliveries")
    def forget_deliveries() -> tuple[str, int]:
        platform.worker.forget()
        return "", 204

    @bp.get("/_sandbox/connect/context-token")
    def context_token() -> Response:
        app = platform.enabled_app(request.args.get("appKey", ""))
        issue = _issue_or_404(world, request.args.get("issueKey", ""))
        return jsonify(token=platform.context_token(app, issue, _viewer(world, issue)))

    @bp.get("/browse/<key>")
    def issue_page(key: str) -> str:
        issue = _issue_or_404(world, key)
        viewer = _viewer(world, issue)
        return render_template(
            "connect_issue.html",
            issue=issue,
            viewer=viewer,
            description=_description_text(issue.description),
            transitions=world.transitions(issue.key),
            modules=platform.issue_modules(issue, viewer),
            forge_modules=other_issue_modules(issue, viewer) if other_issue_modules is not None else [],
            context=jira_context(issue),
            error=request.args.get("error"),
        )

    @bp.post("/browse/<key>/transition")
    def transition(key: str) -> Response:
        issue = _issue_or_404(world, key)
        viewer = _viewer(world, issue)
        target = f"/browse/{issue.key}?as={quote(viewer.name)}"
        try:
            world.transition_issue(issue.key, request.form.get("transition", ""), viewer)
        except JiraError as exc:  # shown on the page, as Jira shows a flag
            reason = " ".join([*exc.error_messages, *exc.errors.values()])
            return redirect(f"{target}&error={quote(reason)}", code=303)
        return redirect(target, code=303)

    @bp.get("/plugins/servlet/ac/<app_key>/<module_key>")
    def app_page(app_key: str, module_key: str) -> str:
        app = platform.enabled_app(app_key)
        module = platform.page_module(app, module_key)
        viewer = _page_viewer(world)
        admin_only = module is app.descriptor.get("modules", {}).get("configurePage") or any(
            module is page for page in app.descriptor.get("modules", {}).get("adminPages", []))
        if admin_only and not viewer.site_admin:  # Jira shows configure and admin pages to administrators only
            raise ConnectError(403, f"{viewer.display_name} is not a Jira administrator")
        return render_template(
            "connect_page.html",
            app=app,
            title=_module_name(module),
            viewer=viewer,
            src=platform.page_iframe_url(app, module_key, module["url"], viewer),
            origin=_origin(app.base_url),
            context=PAGE_CONTEXT,
            token_url="/_sandbox/connect/page-context-token?"
            + urlencode({"appKey": app.key, "as": viewer.name}, quote_via=quote),
        )

    @bp.get("/_sandbox/connect/page-context-token")
    def page_context_token() -> Response:
        app = platform.enabled_app(request.args.get("appKey", ""))
        return jsonify(token=platform.page_context_token(app, _page_viewer(world)))

    @bp.get("/atlassian-connect/all.js")
    def ap_shim() -> Response:
        return send_from_directory(bp.static_folder, "all.js", mimetype="text/javascript")

    return bp


def _field(name: str) -> str:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ConnectError(400, "the body must be a JSON object")
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ConnectError(400, f"{name} is required (a string)")
    return value


def _app_summary(app: InstalledApp) -> dict[str, Any]:
    return {"key": app.key, "clientKey": app.client_key, "baseUrl": app.base_url, "enabled": app.enabled}


def _issue_or_404(world: JiraWorld, key: str) -> Issue:
    try:
        return world.get_issue(key)
    except JiraError:
        abort(404)


def _viewer(world: JiraWorld, issue: Issue) -> User:
    """The sandbox's signed-in user: `?as=<user name or email>`, by default the issue's project lead."""
    login = request.values.get("as")
    if not login:
        return issue.project.lead
    user = world.user_by_name(login) or world.user_by_email(login)
    if user is None:
        raise ConnectError(400, f"no user with login {login!r}")
    return user


def _page_viewer(world: JiraWorld) -> User:
    """Who looks at an app page: `?as=<user name or email>`, by default the lead of the site's first project
    (the sandbox's stand-in for a Jira admin)."""
    login = request.values.get("as")
    if not login:
        return next(iter(world.projects.values())).lead
    user = world.user_by_name(login) or world.user_by_email(login)
    if user is None:
        raise ConnectError(400, f"no user with login {login!r}")
    return user


def _description_text(description: Any) -> str:
    if isinstance(description, dict):
        return adf.plain_text(description)
    return description or ""
