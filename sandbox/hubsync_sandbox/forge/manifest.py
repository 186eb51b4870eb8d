"""A Forge app's `manifest.yml`, read for what the simulator runs: the modules that reach a remote, the `endpoint`
modules and the `remotes` they name, and the app's scopes.

Read: `trigger` (events, `filter.ignoreSelf`), `scheduledTrigger`, `preUninstall`, `jira:workflowPostFunction`
(`endpoint`), every module with `resolver.endpoint` (`jira:issuePanel`, `jira:issueContext`, `jira:adminPage`, ...:
the UI modules `invokeRemote` calls from), `endpoint` (remote, `route.path`, `auth`), `remotes` (`baseUrl`, a URL
or `{default: ...}`) and `permissions.scopes`. Checked as `@forge/manifest`'s validator does for these modules
(docs/forge.md §0.3, §1d, §8b), with one message per problem; modules backed by Forge *functions* are refused,
since the simulator runs no functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

APP_ARI = re.compile(r"^ari:cloud:ecosystem::app/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INTERVALS = ("fiveMinute", "hour", "day", "week")
LIFECYCLE_EVENTS = ("avi:forge:installed:app", "avi:forge:upgraded:app")
SYSTEM_TOKEN_SCOPE = "read:app-system-token"
USER_TOKEN_SCOPE = "read:app-user-token"


class ManifestError(ValueError):
    """A manifest the simulator (like Forge's validator) refuses; the message names the offending entry."""


@dataclass(frozen=True)
class Remote:
    key: str
    base_url: str


@dataclass(frozen=True)
class Endpoint:
    """An `endpoint` module: where a module's calls go (`route_path` None: the caller gives the path, as
    `invokeRemote` does), and which app tokens ride along."""

    key: str
    remote: str
    route_path: str | None
    system_token: bool
    user_token: bool


@dataclass(frozen=True)
class Trigger:
    key: str
    endpoint: str
    events: tuple[str, ...]
    ignore_self: bool


@dataclass(frozen=True)
class ScheduledTrigger:
    key: str
    endpoint: str
    interval: str


@dataclass(frozen=True)
class EndpointModule:
    """A module whose only job is to call one endpoint (`preUninstall`, `jira:workflowPostFunction`)."""

    type: str
    key: str
    endpoint: str


@dataclass(frozen=True)
class UiModule:
    """A Custom UI module whose resolver is an endpoint: `invokeRemote` from its resource goes there."""

    type: str
    key: str
    endpoint: str
    resource: str | None
    title: str | None


@dataclass(frozen=True)
class Manifest:
    app_id: str  # ari:cloud:ecosystem::app/<uuid>
    app_name: str | None
    endpoints: dict[str, Endpoint]
    remotes: dict[str, Remote]
    triggers: tuple[Trigger, ...]
    scheduled_triggers: tuple[ScheduledTrigger, ...]
    pre_uninstall: tuple[EndpointModule, ...]
    post_functions: tuple[EndpointModule, ...]
    ui_modules: dict[str, UiModule]
    scopes: tuple[str, ...]
    document: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def app_uuid(self) -> str:
        return self.app_id.rsplit("/", 1)[1]

    def endpoint(self, key: str) -> Endpoint:
        return self.endpoints[key]

    def lifecycle_triggers(self, event: str) -> list[Trigger]:
        return [trigger for trigger in self.triggers if event in trigger.events]


def load_manifest(source: str | Path, *, app_id: str | None = None) -> Manifest:
    """Parse and check a manifest: `source` is a path (a `Path`, or a one-line string) or the YAML text itself.
    `app_id` replaces the manifest's `app.id` (e.g. for a manifest that `forge register` has not filled in)."""
    if isinstance(source, Path) or "\n" not in source:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ManifestError(f"cannot read the manifest {source}: {exc}") from exc
    else:
        text = source
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"the manifest is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ManifestError("the manifest must be a YAML mapping with app, modules, remotes and permissions")
    return parse_manifest(document, app_id=app_id)


def parse_manifest(document: dict[str, Any], *, app_id: str | None = None) -> Manifest:
    app = _mapping(document.get("app"), "app")
    chosen_id = str(app_id or app.get("id") or "").lower()
    if not APP_ARI.match(chosen_id):
        hint = " (a template's placeholder: render the manifest, or pass the app id)" if "$" in chosen_id else ""
        raise ManifestError(f"app.id {chosen_id!r} is not a Forge app id (ari:cloud:ecosystem::app/<uuid>){hint}")
    modules = _mapping(document.get("modules"), "modules")
    remotes = _remotes(document.get("remotes"))
    scopes = _scopes(document.get("permissions"))
    endpoints = _endpoints(modules.get("endpoint"), remotes, scopes)

    def endpoint_of(module_type: str, index: int, entry: dict[str, Any]) -> str:
        if "function" in entry and "endpoint" not in entry:
            raise ManifestError(f"modules.{module_type}[{index}] names a function; the simulator runs no Forge "
                                "functions, only endpoints of remotes")
        key = entry.get("endpoint")
        if not isinstance(key, str) or key not in endpoints:
            raise ManifestError(f"modules.{module_type}[{index}].endpoint {key!r} is not an endpoint module")
        return key

    triggers = []
    for index, entry in _entries(modules, "trigger"):
        key = _key("trigger", index, entry)
        endpoint = endpoint_of("trigger", index, entry)
        events = entry.get("events")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise ManifestError(f"modules.trigger[{index}].events must list event names")
        if endpoints[endpoint].route_path is None:
            raise ManifestError(f"Trigger module {key!r} uses endpoint {endpoint!r}, which requires 'route' parameter")
        if endpoints[endpoint].user_token:
            raise ManifestError(f"Trigger module {key!r} uses endpoint {endpoint!r}: a trigger only supports "
                                "appSystemToken")
        ignore_self = bool(_mapping(entry.get("filter", {}), f"modules.trigger[{index}].filter").get("ignoreSelf"))
        if ignore_self and any(not event.startswith("avi:jira:") for event in events):
            raise ManifestError(f"modules.trigger[{index}]: Trigger filtering with ignoreSelf works only with Jira "
                                "events")
        triggers.append(Trigger(key, endpoint, tuple(events), ignore_self))

    scheduled = []
    for index, entry in _entries(modules, "scheduledTrigger"):
        key = _key("scheduledTrigger", index, entry)
        endpoint = endpoint_of("scheduledTrigger", index, entry)
        interval = entry.get("interval")
        if interval not in INTERVALS:
            raise ManifestError(f"modules.scheduledTrigger[{index}].interval must be one of {', '.join(INTERVALS)}")
        _require_route("scheduledTrigger", key, endpoints[endpoint])
        scheduled.append(ScheduledTrigger(key, endpoint, interval))

    pre_uninstall = []
    for index, entry in _entries(modules, "preUninstall"):
        key = _key("preUninstall", index, entry)
        endpoint = endpoint_of("preUninstall", index, entry)
        _require_route("preUninstall", key, endpoints[endpoint])
        pre_uninstall.append(EndpointModule("preUninstall", key, endpoint))

    post_functions = []
    for index, entry in _entries(modules, "jira:workflowPostFunction"):
        key = _key("jira:workflowPostFunction", index, entry)
        endpoint = endpoint_of("jira:workflowPostFunction", index, entry)
        _require_route("jira:workflowPostFunction", key, endpoints[endpoint])
        post_functions.append(EndpointModule("jira:workflowPostFunction", key, endpoint))

    ui_modules: dict[str, UiModule] = {}
    for module_type, entries in modules.items():
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            resolver = entry.get("resolver") if isinstance(entry, dict) else None
            if not isinstance(resolver, dict) or "endpoint" not in resolver:
                continue
            key = _key(module_type, index, entry)
            endpoint = resolver["endpoint"]
            if endpoint not in endpoints:
                raise ManifestError(f"modules.{module_type}[{index}].resolver.endpoint {endpoint!r} is not an "
                                    "endpoint module")
            title = entry.get("title") or entry.get("name")
            ui_modules[key] = UiModule(module_type, key, endpoint, entry.get("resource"),
                                       str(title) if isinstance(title, str) else None)

    name = app.get("name")
    return Manifest(
        app_id=chosen_id,
        app_name=name if isinstance(name, str) else None,
        endpoints=endpoints,
        remotes=remotes,
        triggers=tuple(triggers),
        scheduled_triggers=tuple(scheduled),
        pre_uninstall=tuple(pre_uninstall),
        post_functions=tuple(post_functions),
        ui_modules=ui_modules,
        scopes=scopes,
        document=document,
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be a mapping")
    return value


def _entries(modules: dict[str, Any], module_type: str) -> list[tuple[int, dict[str, Any]]]:
    entries = modules.get(module_type, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ManifestError(f"modules.{module_type} must be a list of mappings")
    return list(enumerate(entries))


def _key(module_type: str, index: int, entry: dict[str, Any]) -> str:
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise ManifestError(f"modules.{module_type}[{index}].key is missing")
    return key


def _require_route(module_type: str, key: str, endpoint: Endpoint) -> None:
    if endpoint.route_path is None:
        raise ManifestError(f"{module_type} module {key!r} uses endpoint {endpoint.key!r}, which requires 'route' "
                            "parameter")


def _remotes(value: Any) -> dict[str, Remote]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ManifestError("remotes must be a list")
    remotes = {}
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ManifestError(f"remotes[{index}].key is missing")
        base_url = entry.get("baseUrl")
        if isinstance(base_url, dict):
            base_url = base_url.get("default")
        if not isinstance(base_url, str) or not base_url:
            raise ManifestError(f"remotes[{index}].baseUrl is missing (a URL, or a mapping with default)")
        remotes[entry["key"]] = Remote(entry["key"], base_url)
    return remotes


def _scopes(value: Any) -> tuple[str, ...]:
    permissions = _mapping(value, "permissions")
    scopes = permissions.get("scopes", [])
    if isinstance(scopes, dict):  # the map form: {scope: {allowImpersonation: true}}
        scopes = list(scopes)
    if not isinstance(scopes, list):
        raise ManifestError("permissions.scopes must be a list")
    return tuple(scope if isinstance(scope, str) else next(iter(scope)) for scope in scopes)


def _endpoints(value: Any, remotes: dict[str, Remote], scopes: tuple[str, ...]) -> dict[str, Endpoint]:
    endpoints = {}
    for index, entry in enumerate(value or []):
        if not isinstance(entry, dict):
            raise ManifestError(f"modules.endpoint[{index}] must be a mapping")
        key = _key("endpoint", index, entry)
        remote = entry.get("remote")
        if remote not in remotes:
            raise ManifestError(f"modules.endpoint[{index}] ({key}) names remote {remote!r}, which is not in remotes")
        route = entry.get("route")
        path = route.get("path") if isinstance(route, dict) else None
        if route is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ManifestError(f"modules.endpoint[{index}] ({key}): route.path must be a path starting with /")
        auth = _mapping(entry.get("auth"), f"modules.endpoint[{index}].auth")
        system_token = bool(_mapping(auth.get("appSystemToken"), "auth.appSystemToken").get("enabled"))
        user_token = bool(_mapping(auth.get("appUserToken"), "auth.appUserToken").get("enabled"))
        missing = [scope for scope, wanted in ((SYSTEM_TOKEN_SCOPE, system_token), (USER_TOKEN_SCOPE, user_token))
                   if wanted and scope not in scopes]
        if missing:
            raise ManifestError(f"Missing app scopes for endpoint {key!r}: {', '.join(missing)}")
        endpoints[key] = Endpoint(key, remote, path, system_token, user_token)
    return endpoints
