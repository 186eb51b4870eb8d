"""Forge's host page for an installed app's Custom UI, as the simulated Jira Cloud site shows it: the issue page's
panels (`jira:issuePanel`, `jira:issueContext`) and the app's configure page (`jira:adminPage` with `useAsConfig`)
embed the resources the app was installed with (`ForgePlatform.install(..., resources=...)`) in an iframe.

Forge's real host gives the iframe a `globalThis.__bridge` that @forge/bridge calls; here the simulator serves the
resource's index.html with one script put before everything else, `bridge.js` (no inline script: the resources are
served under a Content-Security-Policy as strict as Forge's), which defines that global. The REAL @forge/bridge
bundled into the resource calls it: `getContext` and `invoke` (invokeRemote: the simulator mints a FIT for the
page's user and issue and calls the remote through `ForgePlatform.invoke`) are answered by the simulator, the rest
(`refresh`, `showFlag`, `resize`-like calls) harmlessly by the script.

    GET  /_sandbox/forge/resources/<installation uuid>/<resource key>/<file>   a resource's files (index.html with
         ?moduleKey=&issueKey=&as=<login>: the frame's module, issue and viewer, which bridge.js sends along)
    GET  /_sandbox/forge/static/bridge.js                                      the bridge the iframe gets
    GET  /_sandbox/forge/static/forge-host.js      the host page's side: sizes the iframes to their content
    POST /_sandbox/forge/bridge   {"frame": {"moduleKey", "issueKey"?, "as"?}, "name", "payload"} -> the answer
    GET  /jira/settings/apps/configure/<app uuid>/<environment id>?as=<login>  the configure page (admins only)
    GET  /jira/settings/apps/<app uuid>/<environment id>?as=<login>            the plain admin page, if any
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_from_directory

from hubsync_sandbox.forge.platform import ForgeError, ForgePlatform, Installation
from hubsync_sandbox.jira.model import Issue, User

RESOURCES_PATH = "/_sandbox/forge/resources"
BRIDGE_SCRIPT = "/_sandbox/forge/static/bridge.js"
ISSUE_MODULE_TYPES = ("jira:issuePanel", "jira:issueContext")
# Forge's CSP for Custom UI (@forge/csp), as far as these resources need it: their own files only.
RESOURCE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
STATIC = Path(__file__).with_name("static")


def installation_uuid(installation: Installation) -> str:
    return installation.installation_id.rsplit("/", 1)[-1]


def frame_url(installation: Installation, resource: str, module_key: str, viewer: User,
              issue: Issue | None = None) -> str:
    """Where the iframe of `module_key` loads its resource, naming the frame's module, issue and viewer."""
    query = {"moduleKey": module_key, **({"issueKey": issue.key} if issue is not None else {}), "as": viewer.name}
    return (f"{RESOURCES_PATH}/{installation_uuid(installation)}/{quote(resource)}/index.html?"
            + urlencode(query, quote_via=quote))


def issue_modules(platform: ForgePlatform, issue: Issue, viewer: User) -> list[dict[str, Any]]:
    """The Forge issue panels and issue contexts of every installed app, for the issue page's template."""
    shown = []
    for installation in platform.installed():
        for module in installation.manifest.ui_modules.values():
            if module.type not in ISSUE_MODULE_TYPES:
                continue
            resource = module.resource or ""
            shown.append({
                "kind": "context" if module.type == "jira:issueContext" else "panel",
                "module_key": module.key,
                "title": module.title or module.key,
                "src": frame_url(installation, resource, module.key, viewer, issue)
                if resource in installation.resource_dirs else None,
                "resource": resource,
            })
    return shown


def configure_page_path(installation: Installation) -> str:
    """The app's configure page (Manage apps → Configure): /jira/settings/apps/configure/<app uuid>/<env id>."""
    return f"/jira/settings/apps/configure/{installation.manifest.app_uuid}/{installation.environment_id}"


def register(bp: Blueprint, platform: ForgePlatform) -> None:
    """The host page's routes, on the Forge blueprint."""

    @bp.get(f"{RESOURCES_PATH}/<installation_id>/<resource>/<path:filename>")
    def resource_file(installation_id: str, resource: str, filename: str) -> Response:
        found = [i for i in platform.installed() if installation_uuid(i) == installation_id]
        if not found or resource not in found[0].resource_dirs:
            abort(404)
        directory = found[0].resource_dirs[resource]
        if filename == "index.html":
            html = (directory / "index.html").read_text(encoding="utf-8")
            response = Response(_with_bridge(html), mimetype="text/html")
        else:
            response = send_from_directory(directory, filename, max_age=0)
            if filename.endswith((".js", ".mjs")):
                response.mimetype = "text/javascript"
        response.headers["Content-Security-Policy"] = RESOURCE_CSP
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/_sandbox/forge/static/<any('bridge.js', 'forge-host.js'):name>")
    def host_script(name: str) -> Response:
        response = send_from_directory(STATIC, name, mimetype="text/javascript", max_age=0)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.post("/_sandbox/forge/bridge")
    def bridge() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("frame"), dict):
            raise ForgeError(400, 'the body must be {"frame": {...}, "name": ..., "payload": ...}')
        frame = body["frame"]
        module_key, issue_key, login = frame.get("moduleKey"), frame.get("issueKey") or None, frame.get("as") or None
        if not isinstance(module_key, str) or not all(isinstance(v, str | None) for v in (issue_key, login)):
            raise ForgeError(400, "frame.moduleKey is required; frame.issueKey and frame.as are strings")
        name, payload = body.get("name"), body.get("payload") or {}
        if name == "getContext":
            return jsonify(platform.view_context(module_key, login, issue_key))
        if name == "invoke":
            return jsonify(_invoke(platform, module_key, issue_key, login, payload))
        raise ForgeError(400, f"the simulator answers getContext and invoke, not {name!r}")

    @bp.get("/jira/settings/apps/configure/<app_uuid>/<environment_id>")
    def configure_page(app_uuid: str, environment_id: str) -> str:
        return _admin_page(platform, app_uuid, environment_id, use_as_config=True)

    @bp.get("/jira/settings/apps/<app_uuid>/<environment_id>")
    def admin_page(app_uuid: str, environment_id: str) -> str:
        return _admin_page(platform, app_uuid, environment_id, use_as_config=False)


def _invoke(platform: ForgePlatform, module_key: str, issue_key: str | None, login: str | None,
            payload: Any) -> dict[str, Any]:
    """invokeRemote's answer as Forge's host gives it to @forge/bridge: {success, payload | error}."""
    if not isinstance(payload, dict) or payload.get("invokeType") != "ui-remote-fetch":
        return {"success": False, "error": {"code": "UNSUPPORTED", "message": "only invokeRemote (ui-remote-fetch) "
                                            "is simulated: this app has no Forge functions"}}
    headers = payload.get("headers") or {}
    if not isinstance(headers, dict):
        headers = {}
    try:
        answer = platform.invoke(module_key, str(payload.get("path") or ""), str(payload.get("method") or "GET"),
                                 payload.get("body"), login, issue_key,
                                 {str(k): str(v) for k, v in headers.items()})
    except ForgeError as exc:
        return {"success": False, "error": {"code": f"HTTP_{exc.status}", "message": str(exc)}}
    return {"success": True, "payload": answer}


def _admin_page(platform: ForgePlatform, app_uuid: str, environment_id: str, *, use_as_config: bool) -> str:
    installation = next((i for i in platform.installed()
                         if i.manifest.app_uuid == app_uuid and i.environment_id == environment_id), None)
    if installation is None:
        abort(404)
    entries = [e for e in (installation.manifest.document.get("modules") or {}).get("jira:adminPage") or []
               if isinstance(e, dict) and bool(e.get("useAsConfig")) == use_as_config]
    module = next((installation.manifest.ui_modules.get(str(e.get("key"))) for e in entries), None)
    if module is None:
        abort(404)
    viewer = _viewer(platform)
    if not viewer.site_admin:  # Jira shows the app's admin pages to administrators only
        raise ForgeError(403, f"{viewer.display_name} is not a Jira administrator")
    resource = module.resource or ""
    return render_template(
        "forge_page.html",
        app_name=installation.manifest.app_name or module.title or module.key,
        title=module.title or module.key,
        viewer=viewer,
        module_key=module.key,
        resource=resource,
        src=frame_url(installation, resource, module.key, viewer)
        if resource in installation.resource_dirs else None,
    )


def _viewer(platform: ForgePlatform) -> User:
    """Who looks at a page: `?as=<user name or email>`, by default the site's first administrator."""
    login = request.values.get("as")
    world = platform.world
    if not login:
        admin = next((u for u in world.users if u.site_admin and u.active), None)
        if admin is None:
            abort(404)
        return admin
    user = world.user_by_name(login) or world.user_by_email(login)
    if user is None:
        raise ForgeError(400, f"no user with login {login!r}")
    return user


def _with_bridge(html: str) -> str:
    """The resource's index.html with bridge.js loaded first (a classic script: it runs before the module bundle)."""
    tag = f'<script src="{BRIDGE_SCRIPT}"></script>'
    lower = html.lower()
    at = lower.find("<head>")
    if at >= 0:
        return html[: at + len("<head>")] + "\n  " + tag + html[at + len("<head>"):]
    at = lower.find("<script")
    return html[:at] + tag + html[at:] if at >= 0 else tag + html
