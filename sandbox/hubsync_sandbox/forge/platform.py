"""Forge's side of one Jira Cloud site, for apps whose backend is a Forge Remote.

    forge = ForgePlatform(world)                    # hooks itself into the world (issue events, the API gateway)
    forge.install(manifest, remote_base_url="http://127.0.0.1:5000")   # delivers avi:forge:installed:app
    forge.invoke("hubsync-panel", "/api/v1/panel", user="alice", issue_key="SEC-1")   # invokeRemote
    forge.fire_scheduled()                          # the hourly trigger, now
    forge.uninstall()                               # preUninstall, then the app's tokens stop working

What a remote receives (docs/forge.md §2, §4-§6): `Authorization: Bearer <FIT>` (RS256, `kid` in the header,
verifiable with the JWKS at `jwks_url`), `x-forge-oauth-system` (and `x-forge-oauth-user` on UI calls) when the
endpoint's `auth` enables them, `content-type: application/json`. The app tokens work at `api_base_url`
(`<site>/ex/jira/<cloudId>`) + `/rest/api/3/...`, acting as the app's user (account type `app`) or the signed-in
user; Jira changes made with the system token come back as events with `selfGenerated: true`, or not at all to a
trigger with `filter.ignoreSelf`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from hubsync_sandbox.forge import events
from hubsync_sandbox.forge.delivery import Delivery, DeliveryTiming, DeliveryWorker, new_delivery_id
from hubsync_sandbox.forge.keys import SigningKeys
from hubsync_sandbox.forge.manifest import Endpoint, Manifest, ManifestError, UiModule, load_manifest
from hubsync_sandbox.forge.settings import ForgeSettings
from hubsync_sandbox.forge.tokens import Grant, TokenKind, TokenRegistry
from hubsync_sandbox.jira.model import Issue, User
from hubsync_sandbox.jira.world import JiraError, JiraWorld

JWKS_PATH = "/_sandbox/forge/.well-known/jwks.json"
FIT_ISSUER = "forge/invocation-token"
CONTEXT_TOKEN_ISSUER = "forge/context-token"
ENDPOINT_MODULE_TYPE = "core:endpoint"  # app.module.type of every call that is not from a UI module
INVOKE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
INTERVAL_S = {"fiveMinute": 300, "hour": 3600, "day": 86400, "week": 604800}
DEFAULT_VERSION = "1.0.0"
# An app id for the sandbox's installs of a manifest template whose app.id is a placeholder (the demo and the
# backend's tests can set HUBSYNC_FORGE_APP_ID to it); any ari:cloud:ecosystem::app/<uuid> works as well.
ResourcesArg = str | Path | Mapping[str, Path] | None
SANDBOX_APP_ID = "ari:cloud:ecosystem::app/5a4d0b3e-9c2f-4e61-8d7a-0f1e2d3c4b5a"


class ForgeError(Exception):
    """A platform operation refused or failed: `status` is the sandbox API's answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Installation:
    """The app installed on this site. A reinstall is a new Installation (new id); an upgrade keeps the id."""

    manifest: Manifest
    installation_id: str  # ari:cloud:ecosystem::installation/<uuid>
    environment_type: str
    environment_id: str
    version: str
    remote_urls: dict[str, str]  # remote key -> base URL
    installer_account_id: str
    app_user: User
    installed_at: float
    system_grant: Grant | None = field(default=None, repr=False)
    # The Custom UI resources the app was deployed with, by resource key (empty: none were given to the simulator)
    resource_dirs: dict[str, Path] = field(default_factory=dict)

    @property
    def app_id(self) -> str:
        return self.manifest.app_id

    def endpoint_url(self, endpoint: Endpoint, path: str | None = None) -> str:
        route = path if path is not None else endpoint.route_path or ""
        return self.remote_urls[endpoint.remote].rstrip("/") + route

    def to_json(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "installationId": self.installation_id,
            "version": self.version,
            "environment": {"type": self.environment_type, "id": self.environment_id},
            "remotes": dict(self.remote_urls),
            "installerAccountId": self.installer_account_id,
            "appAccountId": self.app_user.account_id,
        }


@dataclass
class PlacedPostFunction:
    """An app's `jira:workflowPostFunction` added to every transition of one project's workflow."""

    id: str
    app_id: str
    module_key: str
    project_key: str
    configuration: Any  # what the config UI saved (Forge: a JSON string from workflowRules.onConfigure)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "appId": self.app_id, "moduleKey": self.module_key, "projectKey": self.project_key,
                "configuration": self.configuration}


class ForgePlatform:
    """Forge for one Jira Cloud site (`world`). Thread-safe."""

    def __init__(self, world: JiraWorld, settings: ForgeSettings | None = None,
                 keys: SigningKeys | None = None) -> None:
        if world.flavour != "cloud":
            raise ValueError("Forge runs on Jira Cloud sites only")
        self.world = world
        self.settings = settings or ForgeSettings()
        self.settings.check()
        self.keys = keys or SigningKeys()
        self.tokens = TokenRegistry()
        self.worker = DeliveryWorker(self._timing)
        self.installations: dict[str, Installation] = {}  # by app id
        self.post_functions: list[PlacedPostFunction] = []
        self._lock = threading.RLock()
        self._schedule_stop: threading.Event | None = None
        self._schedule_thread: threading.Thread | None = None
        world.listeners.append(self.on_issue_event)
        world.gateway_tokens = self.user_for_token

    # -- where things are ----------------------------------------------------------------------------------
    @property
    def cloud_id(self) -> str:
        return self.world.cloud_id

    @property
    def api_base_url(self) -> str:
        """What `app.apiBaseUrl` says: the site's REST API behind the API gateway."""
        return f"{self.world.base_url}/ex/jira/{self.cloud_id}"

    @property
    def jwks_url(self) -> str:
        """Where a remote fetches the keys FITs are signed with (HUBSYNC_FORGE_JWKS_URL)."""
        return self.world.base_url + JWKS_PATH

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()

    def rotate_keys(self, retire_previous: bool = False) -> str:
        return self.keys.rotate(retire_previous)

    def configure(self, **changes: Any) -> ForgeSettings:
        """Change knobs (see ForgeSettings); they apply from the next call on."""
        with self._lock:
            self.settings = self.settings.updated(changes)
            return self.settings

    # -- install, upgrade, uninstall -----------------------------------------------------------------------
    def install(
        self,
        manifest: Manifest | str | Path,
        *,
        remote_base_url: str | dict[str, str] | None = None,
        app_id: str | None = None,
        version: str = DEFAULT_VERSION,
        installer: User | str | None = None,
        resources: ResourcesArg = None,
    ) -> Installation:
        """Install the app from its manifest (a `Manifest`, a path or the YAML text) and deliver
        avi:forge:installed:app to the triggers that listen for it. `remote_base_url` replaces the remotes'
        `baseUrl` (a URL for every remote, or per remote key), e.g. the loopback URL of the app under test.
        `resources`: the built Custom UI resources, as `forge deploy` uploads them (a directory holding the
        manifest's resource paths or one directory per resource key, or a mapping of resource key to directory);
        the site's issue and admin pages embed them (forge/host.py). None: the pages say they are missing."""
        parsed = self._manifest(manifest, app_id)
        resource_dirs = resolve_resources(parsed, resources)
        account = self._user(installer, default_admin=True)
        with self._lock:
            if parsed.app_id in self.installations:
                raise ForgeError(409, f"{parsed.app_id} is already installed on this site: uninstall it first, "
                                      "or upgrade it")
            environment_type = self.settings.environment_type
            installation = Installation(
                manifest=parsed,
                installation_id=f"ari:cloud:ecosystem::installation/{uuid.uuid4()}",
                environment_type=environment_type,
                environment_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{parsed.app_id}#{environment_type}")),
                version=version,
                remote_urls=_remote_urls(parsed, remote_base_url),
                installer_account_id=account.account_id,
                app_user=self.world.app_user(f"forge-{parsed.app_uuid}", parsed.app_name or "Forge app"),
                installed_at=time.time(),
                resource_dirs=resource_dirs,
            )
            self.installations[parsed.app_id] = installation
        self._lifecycle(installation, events.INSTALLED, account)
        return installation

    def upgrade(
        self,
        manifest: Manifest | str | Path | None = None,
        *,
        app_id: str | None = None,
        remote_base_url: str | dict[str, str] | None = None,
        version: str | None = None,
        upgrader: User | str | None = None,
        resources: ResourcesArg = None,
    ) -> Installation:
        """A new version of an installed app (same installation id); delivers avi:forge:upgraded:app. The
        version defaults to the next major, as a deploy that changes the remotes or scopes is. `resources` as for
        install (None: the resources stay as they were)."""
        account = self._user(upgrader, default_admin=True)
        new_manifest = None if manifest is None else self._manifest(manifest, app_id)
        with self._lock:
            current = self.installation(app_id if new_manifest is None else new_manifest.app_id)
            parsed = new_manifest or current.manifest
            if resources is not None:
                current.resource_dirs = resolve_resources(parsed, resources)
            major = current.version.split(".", 1)[0]
            current.manifest = parsed
            current.version = version or (f"{int(major) + 1}.0.0" if major.isdigit() else current.version)
            if remote_base_url is not None or manifest is not None:
                current.remote_urls = _remote_urls(parsed, remote_base_url) if remote_base_url is not None else {
                    key: current.remote_urls.get(key, remote.base_url) for key, remote in parsed.remotes.items()}
        self._lifecycle(current, events.UPGRADED, account)
        return current

    def uninstall(self, app_id: str | None = None) -> list[Delivery]:
        """Remove the app: no more events reach it, its post functions go, and its preUninstall modules are
        called (in the background); its tokens keep working until those calls end, then stop (401)."""
        with self._lock:
            installation = self.installation(app_id)
            del self.installations[installation.app_id]
            self.post_functions = [p for p in self.post_functions if p.app_id != installation.app_id]
        modules = installation.manifest.pre_uninstall
        if not modules:
            self.tokens.revoke_installation(installation.installation_id)
            return []
        left = [len(modules)]

        def one_done(_: Delivery) -> None:
            with self._lock:
                left[0] -= 1
                if left[0] == 0:
                    self.tokens.revoke_installation(installation.installation_id)

        sent = []
        for module in modules:
            body = events.context_event(self.cloud_id, module.key, self._context_token(installation, module.key))
            sent.append(self._submit(installation, "pre-uninstall", None, module.key, module.endpoint, body,
                                     on_done=one_done))
        return sent

    def installed(self) -> list[Installation]:
        with self._lock:
            return list(self.installations.values())

    def installation(self, app_id: str | None = None) -> Installation:
        """The installed app with this id, or the only one installed."""
        with self._lock:
            if app_id is not None:
                found = self.installations.get(app_id.lower())
                if found is None:
                    raise ForgeError(404, f"{app_id} is not installed on this site")
                return found
            if len(self.installations) != 1:
                raise ForgeError(404 if not self.installations else 400,
                                 "no Forge app is installed" if not self.installations
                                 else "several Forge apps are installed: name the app id")
            return next(iter(self.installations.values()))

    # -- tokens --------------------------------------------------------------------------------------------
    def system_token(self, app_id: str | None = None, *, lifetime_s: float | None = None) -> str:
        """The app system token Forge hands the remote now (cached while it has enough life left); with
        `lifetime_s`, a new one of that lifetime (e.g. 0 for a token that has already expired)."""
        installation = self.installation(app_id)
        if lifetime_s is not None:
            return self._mint(installation, "system", installation.app_user.account_id, lifetime_s).token
        return self._system_grant(installation).token

    def user_token(self, user: User | str, app_id: str | None = None, *, lifetime_s: float | None = None) -> str:
        """An app user token: the app acting as `user` (the signed-in user of a UI call)."""
        installation = self.installation(app_id)
        account = self._user(user)
        lifetime = self.settings.app_token_lifetime_s if lifetime_s is None else lifetime_s
        return self._mint(installation, "user", account.account_id, lifetime).token

    def expire_tokens(self) -> int:
        """Every app token issued so far expires now; new ones are minted for the next calls."""
        return self.tokens.expire_all()

    def user_for_token(self, token: str) -> tuple[User, frozenset[str]]:
        """The API gateway's check (world.gateway_tokens): who a Bearer token acts as, with the scopes its app
        holds; LookupError if refused."""
        grant = self.tokens.resolve(token)
        user = self.world.user_by_account_id(grant.account_id)
        if user is None or not user.active:
            raise LookupError("The access token is not valid: its user is no longer active.")
        return user, grant.scopes

    def _mint(self, installation: Installation, kind: TokenKind, account_id: str, lifetime_s: float) -> Grant:
        try:
            return self.tokens.mint(kind, installation.installation_id, account_id, lifetime_s,
                                    installation.manifest.scopes)
        except ValueError as exc:
            raise ForgeError(400, str(exc)) from None

    def _system_grant(self, installation: Installation) -> Grant:
        with self._lock:
            grant = installation.system_grant
            settings = self.settings
            threshold = min(settings.app_token_min_remaining_s, settings.app_token_lifetime_s / 2)
            if grant is None or grant.revoked or self.tokens.remaining_s(grant) <= threshold:
                grant = self._mint(installation, "system", installation.app_user.account_id,
                                   settings.app_token_lifetime_s)
                installation.system_grant = grant
            return grant

    # -- tokens Forge signs --------------------------------------------------------------------------------
    def invocation_token(
        self,
        installation: Installation,
        module_type: str,
        module_key: str,
        *,
        context: dict[str, Any] | None = None,
        principal: str | None = None,
    ) -> str:
        """A Forge Invocation Token for one call to the remote (UI calls add `context` and `principal`)."""
        now = int(time.time())
        settings = self.settings
        site = {"name": f"ari:cloud:jira::site/{self.cloud_id}", "apiBaseUrl": self.api_base_url,
                "cloudId": self.cloud_id}
        claims: dict[str, Any] = {
            "iss": FIT_ISSUER,
            "aud": installation.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + settings.fit_lifetime_s,
            "jti": str(uuid.uuid4()),
            "app": {
                "id": installation.app_id,
                "appVersion": installation.version,
                "installationId": installation.installation_id,
                "apiBaseUrl": self.api_base_url,
                "environment": {"type": installation.environment_type, "id": installation.environment_id},
                "module": {"type": module_type, "key": module_key},
                "installation": {"id": installation.installation_id, "contexts": [site]},
            },
        }
        if context is not None:
            claims["context"] = context
        if principal is not None:
            claims["principal"] = principal
        for name, value in settings.fit_claims_override.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.keys.sign(claims, unpublished=settings.sign_with_unpublished_key)

    def _context_token(self, installation: Installation, module_key: str) -> str:
        now = int(time.time())
        return self.keys.sign({
            "iss": CONTEXT_TOKEN_ISSUER,
            "aud": installation.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.fit_lifetime_s,
            "jti": str(uuid.uuid4()),
            "context": {"cloudId": self.cloud_id, "moduleKey": module_key},
            "app": {"id": installation.app_id, "installationId": installation.installation_id},
        })

    def _headers(self, installation: Installation, endpoint: Endpoint, module_type: str, module_key: str,
                 *, context: dict[str, Any] | None = None, user: User | None = None) -> dict[str, str]:
        fit = self.invocation_token(installation, module_type, module_key, context=context,
                                    principal=user.account_id if user is not None else None)
        headers = {
            "Authorization": f"Bearer {fit}",
            "Content-Type": "application/json",
            "x-b3-traceid": uuid.uuid4().hex,
            "x-b3-spanid": uuid.uuid4().hex[:16],
        }
        if endpoint.system_token:
            headers["x-forge-oauth-system"] = self._system_grant(installation).token
        if endpoint.user_token and user is not None:
            headers["x-forge-oauth-user"] = self._mint(installation, "user", user.account_id,
                                                       self.settings.app_token_lifetime_s).token
        return headers

    # -- deliveries ----------------------------------------------------------------------------------------
    def _timing(self) -> DeliveryTiming:
        settings = self.settings
        return DeliveryTiming(settings.delivery_timeout_s, settings.retry_interval_s, settings.max_attempts,
                              settings.delivery_delay_s)

    def _submit(self, installation: Installation, kind: str, event_type: str | None, module_key: str,
                endpoint_key: str, body: dict[str, Any],
                on_done: Callable[[Delivery], None] | None = None) -> Delivery:
        endpoint = installation.manifest.endpoints[endpoint_key]
        delivery = Delivery(new_delivery_id(), kind, event_type, module_key, endpoint_key,
                            installation.installation_id, installation.endpoint_url(endpoint))

        def headers() -> dict[str, str]:
            return self._headers(installation, endpoint, ENDPOINT_MODULE_TYPE, endpoint.key)

        return self.worker.submit(delivery, body, headers, on_done)

    def _lifecycle(self, installation: Installation, event_type: str, account: User) -> list[Delivery]:
        body = events.lifecycle_event(event_type, installation_id=installation.installation_id,
                                      account_id=account.account_id, app_id=installation.app_id,
                                      version=installation.version, environment_id=installation.environment_id)
        return [self._submit(installation, "lifecycle", event_type, trigger.key, trigger.endpoint, body)
                for trigger in installation.manifest.lifecycle_triggers(event_type)]

    def on_issue_event(self, payload: dict[str, Any]) -> None:
        """A `world.listeners` hook: queue the product events and post functions this issue change triggers."""
        forge_type = events.event_type(payload)
        actor = events.actor_id(payload)
        with self._lock:
            installations = list(self.installations.values())
        for installation in installations:
            if forge_type is None:
                break
            self_generated = actor is not None and actor == installation.app_user.account_id
            for trigger in installation.manifest.triggers:
                if forge_type not in trigger.events or (self_generated and trigger.ignore_self):
                    continue
                body = events.product_event(payload, forge_type, self_generated, self.cloud_id, trigger.key)
                self._submit(installation, "product-event", forge_type, trigger.key, trigger.endpoint, body)
        change = events.status_change(payload)
        if change is not None:
            self._run_post_functions(payload, change[0], change[1])

    # -- post functions ------------------------------------------------------------------------------------
    def add_post_function(self, module_key: str, project_key: str, configuration: Any = None,
                          app_id: str | None = None) -> PlacedPostFunction:
        """Put the app's post function on every transition of the project's workflow, as an admin does in the
        workflow editor; `configuration` is what its config UI saved."""
        with self._lock:
            installation = self.installation(app_id)
            if module_key not in {m.key for m in installation.manifest.post_functions}:
                raise ForgeError(400, f"the app has no jira:workflowPostFunction module {module_key!r}")
            try:
                project = self.world.project(project_key)
            except JiraError:
                raise ForgeError(400, f"no project with key {project_key!r}") from None
            placed = PlacedPostFunction(str(uuid.uuid4()), installation.app_id, module_key, project.key,
                                        configuration)
            self.post_functions.append(placed)
            return placed

    def _run_post_functions(self, payload: dict[str, Any], from_id: str, to_id: str) -> None:
        project_key = payload["issue"]["fields"]["project"]["key"]
        with self._lock:
            placed = [p for p in self.post_functions if p.project_key == project_key]
            if not placed:
                return
        workflow = self.world.project(project_key).workflow
        from_status = next((s for s in workflow.statuses if s.id == from_id), None)
        transition = next((t for t in workflow.transitions
                           if from_status is not None and t.to.id == to_id and t.available_from(from_status)), None)
        if from_status is None or transition is None:
            return
        shown_transition = {
            "transitionId": transition.id,
            "transitionName": transition.name,
            "from": {"id": from_status.id, "name": from_status.name},
            "to": {"id": transition.to.id, "name": transition.to.name},
            "executionId": str(uuid.uuid4()),  # one per transition, shared by its post functions
        }
        shown_workflow = {"workflowId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.cloud_id}#{workflow.name}")),
                          "workflowName": workflow.name}
        for post_function in placed:
            installation = self.installations.get(post_function.app_id)
            if installation is None:
                continue
            module = next(m for m in installation.manifest.post_functions if m.key == post_function.module_key)
            body = events.post_function_event(payload, transition=shown_transition, workflow=shown_workflow,
                                              configuration=post_function.configuration,
                                              post_function_id=post_function.id)
            self._submit(installation, "post-function", None, module.key, module.endpoint, body)

    # -- scheduled triggers --------------------------------------------------------------------------------
    def fire_scheduled(self, module_key: str | None = None, app_id: str | None = None) -> list[Delivery]:
        """Run scheduled triggers now: `module_key`'s, or every one of the app(s)."""
        with self._lock:
            chosen = [self.installation(app_id)] if app_id is not None else list(self.installations.values())
        sent = []
        for installation in chosen:
            for trigger in installation.manifest.scheduled_triggers:
                if module_key is None or trigger.key == module_key:
                    body = events.context_event(self.cloud_id, trigger.key,
                                                self._context_token(installation, trigger.key))
                    sent.append(self._submit(installation, "scheduled", None, trigger.key, trigger.endpoint, body))
        if module_key is not None and not sent:
            raise ForgeError(404, f"no installed app has a scheduledTrigger {module_key!r}")
        return sent

    def start_schedules(self, scale: float = 1.0) -> None:
        """Fire every scheduled trigger on its interval times `scale` (e.g. 1/3600: an hourly one every second),
        the first time one interval after this call; replaces a running timer."""
        if not scale > 0:
            raise ForgeError(400, "scale must be above 0")
        self.stop_schedules()
        stop = threading.Event()
        thread = threading.Thread(target=self._schedule_loop, args=(stop, scale), name="forge-schedules",
                                  daemon=True)
        with self._lock:
            self._schedule_stop, self._schedule_thread = stop, thread
        thread.start()

    def stop_schedules(self) -> None:
        with self._lock:
            stop, thread = self._schedule_stop, self._schedule_thread
            self._schedule_stop = self._schedule_thread = None
        if stop is not None and thread is not None:
            stop.set()
            thread.join(timeout=5)

    @property
    def schedules_running(self) -> bool:
        with self._lock:
            return self._schedule_thread is not None

    def _schedule_loop(self, stop: threading.Event, scale: float) -> None:
        due: dict[tuple[str, str], float] = {}
        while not stop.is_set():
            now = time.monotonic()
            with self._lock:
                installations = list(self.installations.values())
            for installation in installations:
                for trigger in installation.manifest.scheduled_triggers:
                    slot = (installation.installation_id, trigger.key)
                    period = INTERVAL_S[trigger.interval] * scale
                    if slot not in due:
                        due[slot] = now + period
                    elif now >= due[slot]:
                        due[slot] = now + period
                        body = events.context_event(self.cloud_id, trigger.key,
                                                    self._context_token(installation, trigger.key))
                        self._submit(installation, "scheduled", None, trigger.key, trigger.endpoint, body)
            wait = min([*(moment - time.monotonic() for moment in due.values()), 1.0])
            stop.wait(max(wait, 0.01))

    # -- records -------------------------------------------------------------------------------------------
    def deliveries(self, wait_s: float = 0.0) -> list[Delivery]:
        """Every delivery so far, after waiting up to `wait_s` for the pending ones to finish."""
        if wait_s:
            self.worker.wait_idle(wait_s)
        return self.worker.records()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        return self.worker.wait_idle(timeout_s)

    def forget_deliveries(self) -> None:
        self.worker.forget()

    # -- Custom UI: invokeRemote ---------------------------------------------------------------------------
    def invoke(
        self,
        module_key: str,
        path: str,
        method: str = "GET",
        body: Any = None,
        user: User | str | None = None,
        issue_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """What `@forge/bridge`'s `invokeRemote({path, method, headers, body})` does from the Custom UI of
        `module_key`, viewed by `user` (default: the site's admin) on `issue_key` (issue modules): a FIT with
        `context` and `principal`, the endpoint's tokens, the call to the remote. Returns `{status, headers,
        body}` (headers lower-cased; body parsed when it is JSON, else text, None when empty); ForgeError 502
        when the remote cannot be reached or times out."""
        installation, module = self._ui_module(module_key)
        endpoint = installation.manifest.endpoints[module.endpoint]
        verb = method.upper()
        if verb not in INVOKE_METHODS:
            raise ForgeError(400, f"method must be one of {', '.join(INVOKE_METHODS)}")
        if not path.startswith("/"):
            raise ForgeError(400, "path must start with /")
        viewer = self._user(user, default_admin=True)
        context = self._ui_context(installation, module, issue_key)
        sent_headers = {**(headers or {}),
                        **self._headers(installation, endpoint, module.type, module.key, context=context,
                                        user=viewer)}
        data = json.dumps(body) if body is not None and verb != "GET" else None
        try:
            response = requests.request(verb, installation.endpoint_url(endpoint, path), data=data,
                                             headers=sent_headers, timeout=self.settings.invoke_timeout_s,
                                             allow_redirects=False)
        except requests.RequestException as exc:
            raise ForgeError(502, f"the remote could not be reached: {exc}") from exc
        return {"status": response.status_code,
                "headers": {name.lower(): value for name, value in response.headers.items()},
                "body": _parsed_body(response)}

    def _ui_module(self, module_key: str) -> tuple[Installation, UiModule]:
        with self._lock:
            found = [(i, i.manifest.ui_modules[module_key]) for i in self.installations.values()
                     if module_key in i.manifest.ui_modules]
        if not found:
            raise ForgeError(404, f"no installed app has a UI module {module_key!r} with an endpoint resolver")
        if len(found) > 1:
            raise ForgeError(400, f"several installed apps have a UI module {module_key!r}")
        return found[0]

    def _ui_context(self, installation: Installation, module: UiModule, issue_key: str | None) -> dict[str, Any]:
        extension: dict[str, Any] = {"type": module.type}
        if issue_key is not None:
            try:
                issue: Issue = self.world.get_issue(issue_key)
            except JiraError:
                raise ForgeError(404, f"no issue {issue_key!r}") from None
            extension["issue"] = {"id": issue.id, "key": issue.key, "type": issue.issue_type.name,
                                  "typeId": issue.issue_type.id}
            extension["project"] = {"id": issue.project.id, "key": issue.project.key, "type": "software"}
        return {
            "cloudId": self.cloud_id,
            "siteUrl": self.world.base_url,
            "moduleKey": module.key,
            "localId": f"ari:cloud:ecosystem::extension/{installation.manifest.app_uuid}/"
                       f"{installation.environment_id}/static/{module.key}",
            "extension": extension,
        }

    def view_context(self, module_key: str, user: User | str | None = None,
                     issue_key: str | None = None) -> dict[str, Any]:
        """What `view.getContext()` answers in the Custom UI of `module_key`, seen by `user` on `issue_key`
        (@forge/bridge's FullContext): the FIT's `context` plus the viewer, the environment and the locale."""
        installation, module = self._ui_module(module_key)
        viewer = self._user(user, default_admin=True)
        return {
            **self._ui_context(installation, module, issue_key),
            "accountId": viewer.account_id,
            "environmentId": installation.environment_id,
            "environmentType": installation.environment_type,
            "license": None,
            "locale": "en-US",
            "timezone": "UTC",
            "theme": None,
            "surfaceColor": None,
            "userAccess": {"enabled": False, "hasAccess": True},
            "permissions": {"scopes": list(installation.manifest.scopes)},
        }

    def ui_module(self, module_key: str) -> tuple[Installation, UiModule]:
        """The installed app's Custom UI module with this key (ForgeError 404 when none)."""
        return self._ui_module(module_key)

    # -- helpers -------------------------------------------------------------------------------------------
    def _manifest(self, manifest: Manifest | str | Path, app_id: str | None) -> Manifest:
        if isinstance(manifest, Manifest):
            return manifest
        try:
            return load_manifest(manifest, app_id=app_id)
        except ManifestError as exc:
            raise ForgeError(400, str(exc)) from None

    def _user(self, ref: User | str | None, default_admin: bool = False) -> User:
        """A user named by object, accountId, user name or email; None: the site's first administrator."""
        if isinstance(ref, User):
            return ref
        if ref is None:
            if not default_admin:
                raise ForgeError(400, "a user is required")
            admin = next((u for u in self.world.users if u.site_admin and u.active), None)
            if admin is None:
                raise ForgeError(400, "the site has no administrator to act as")
            return admin
        user = (self.world.user_by_account_id(ref) or self.world.user_by_name(ref)
                or self.world.user_by_email(ref))
        if user is None:
            raise ForgeError(400, f"no user {ref!r} on this site")
        return user

    def stop(self) -> None:
        self.stop_schedules()
        self.worker.stop()


def resolve_resources(manifest: Manifest, resources: ResourcesArg) -> dict[str, Path]:
    """The directory of each of the manifest's `resources` (each must hold an index.html); ForgeError 400 naming
    what is missing."""
    if resources is None:
        return {}
    declared: dict[str, str] = {}
    for entry in manifest.document.get("resources") or []:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            declared[entry["key"]] = str(entry.get("path") or entry["key"])
    found: dict[str, Path] = {}
    missing = []
    for key, path in declared.items():
        if isinstance(resources, str | Path):
            root = Path(resources)
            candidates = [root / path, root / key]
        else:
            candidates = [Path(resources[key])] if key in resources else []
        directory = next((c for c in candidates if (c / "index.html").is_file()), None)
        if directory is None:
            missing.append(key)
        else:
            found[key] = directory.resolve()
    if missing:
        raise ForgeError(400, f"the Custom UI resources {', '.join(missing)} have no index.html in {resources}")
    return found


def _remote_urls(manifest: Manifest, override: str | dict[str, str] | None) -> dict[str, str]:
    urls = {key: remote.base_url for key, remote in manifest.remotes.items()}
    if isinstance(override, str):
        return dict.fromkeys(urls, override)
    for key, url in (override or {}).items():
        if key not in urls:
            raise ForgeError(400, f"the manifest has no remote {key!r}")
        urls[key] = url
    return urls


def _parsed_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("Content-Type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text
