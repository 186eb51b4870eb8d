"""Forge's side over HTTP, served by the Jira Cloud simulator next to its REST API: the JWKS, and a control API
for tests and the demo. JSON bodies; errors are `{"error": "..."}`.

    GET  /_sandbox/forge/.well-known/jwks.json      the keys FITs are signed with (HUBSYNC_FORGE_JWKS_URL)
    POST /_sandbox/forge/keys/rotate                {"retirePrevious": false} -> {"kid": ..., "kids": [...]}
    POST /_sandbox/forge/install                    {"manifest": "<the manifest's YAML text>",
                                                     "remoteBaseUrl": "http://..." | {"<remote key>": "http://..."},
                                                     "appId"?, "version"?, "installer"?}
    POST /_sandbox/forge/upgrade                    same fields, all optional
    POST /_sandbox/forge/uninstall                  {"appId"?}
    GET  /_sandbox/forge/installations
    GET  /_sandbox/forge/site                       {"cloudId", "apiBaseUrl", "jwksUrl"}
    POST /_sandbox/forge/tokens                     {"kind": "system"|"user", "user"?, "lifetimeS"?, "appId"?}
    POST /_sandbox/forge/tokens/expire              every app token issued so far expires now
    POST /_sandbox/forge/post-functions             {"moduleKey", "projectKey", "configuration"?, "appId"?}
    POST /_sandbox/forge/scheduled                  {"moduleKey"?, "appId"?}: fire scheduled triggers now
    POST /_sandbox/forge/schedules                  {"scale": 0.001}: fire them on a timer; DELETE stops it
    POST /_sandbox/forge/invoke                     {"moduleKey", "path", "method"?, "body"?, "headers"?, "user"?,
                                                     "issueKey"?} -> {"status", "headers", "body"} (invokeRemote)
    GET  /_sandbox/forge/deliveries?wait_ms=500     {"deliveries": [...], "idle": bool}; DELETE forgets them
    GET|POST /_sandbox/forge/settings               the knobs (ForgeSettings), e.g. {"retry_interval_s": 60}

The host page of the app's Custom UI (its resources, bridge.js, the bridge's calls, the configure page): host.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from hubsync_sandbox.forge import host
from hubsync_sandbox.forge.platform import JWKS_PATH, ForgeError, ForgePlatform

PREFIX = "/_sandbox/forge"


def forge_blueprint(platform: ForgePlatform) -> Blueprint:
    bp = Blueprint("forge", __name__, template_folder="templates")

    @bp.errorhandler(ForgeError)
    def forge_error(exc: ForgeError) -> tuple[Response, int]:
        return jsonify(error=str(exc)), exc.status

    host.register(bp, platform)

    @bp.get(JWKS_PATH)
    def jwks() -> Response:
        response = jsonify(platform.jwks())
        response.headers["Cache-Control"] = "max-age=60"
        return response

    @bp.post(f"{PREFIX}/keys/rotate")
    def rotate() -> Response:
        kid = platform.rotate_keys(bool(_body().get("retirePrevious")))
        return jsonify(kid=kid, kids=platform.keys.kids())

    @bp.post(f"{PREFIX}/install")
    def install() -> Response:
        body = _body()
        installation = platform.install(
            _manifest_text(body, required=True) or "",
            remote_base_url=body.get("remoteBaseUrl"),
            app_id=_optional(body, "appId"),
            version=_optional(body, "version") or "1.0.0",
            installer=_optional(body, "installer"),
        )
        return jsonify(installation.to_json())

    @bp.post(f"{PREFIX}/upgrade")
    def upgrade() -> Response:
        body = _body()
        installation = platform.upgrade(
            _manifest_text(body, required=False),
            app_id=_optional(body, "appId"),
            remote_base_url=body.get("remoteBaseUrl"),
            version=_optional(body, "version"),
            upgrader=_optional(body, "upgrader"),
        )
        return jsonify(installation.to_json())

    @bp.post(f"{PREFIX}/uninstall")
    def uninstall() -> Response:
        sent = platform.uninstall(_optional(_body(), "appId"))
        return jsonify(preUninstall=[delivery.id for delivery in sent])

    @bp.get(f"{PREFIX}/installations")
    def installations() -> Response:
        return jsonify([installation.to_json() for installation in platform.installed()])

    @bp.get(f"{PREFIX}/site")
    def site() -> Response:
        return jsonify(cloudId=platform.cloud_id, apiBaseUrl=platform.api_base_url, jwksUrl=platform.jwks_url)

    @bp.post(f"{PREFIX}/tokens")
    def mint_token() -> Response:
        body = _body()
        lifetime = body.get("lifetimeS")
        if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, int | float)):
            raise ForgeError(400, "lifetimeS must be a number of seconds")
        app_id = _optional(body, "appId")
        if body.get("kind", "system") == "system":
            token = platform.system_token(app_id, lifetime_s=lifetime)
        elif body["kind"] == "user":
            token = platform.user_token(_optional(body, "user") or "", app_id, lifetime_s=lifetime)
        else:
            raise ForgeError(400, 'kind must be "system" or "user"')
        return jsonify(token=token)

    @bp.post(f"{PREFIX}/tokens/expire")
    def expire_tokens() -> Response:
        return jsonify(expired=platform.expire_tokens())

    @bp.post(f"{PREFIX}/post-functions")
    def add_post_function() -> tuple[Response, int]:
        body = _body()
        placed = platform.add_post_function(_required(body, "moduleKey"), _required(body, "projectKey"),
                                            body.get("configuration"), _optional(body, "appId"))
        return jsonify(placed.to_json()), 201

    @bp.post(f"{PREFIX}/scheduled")
    def fire_scheduled() -> Response:
        body = _body()
        sent = platform.fire_scheduled(_optional(body, "moduleKey"), _optional(body, "appId"))
        return jsonify(deliveries=[delivery.id for delivery in sent])

    @bp.post(f"{PREFIX}/schedules")
    def start_schedules() -> Response:
        scale = _body().get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise ForgeError(400, "scale must be a number above 0")
        platform.start_schedules(float(scale))
        return jsonify(running=True, scale=scale)

    @bp.delete(f"{PREFIX}/schedules")
    def stop_schedules() -> tuple[str, int]:
        platform.stop_schedules()
        return "", 204

    @bp.post(f"{PREFIX}/invoke")
    def invoke() -> Response:
        body = _body()
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ForgeError(400, "headers must map names to strings")
        answer = platform.invoke(
            _required(body, "moduleKey"),
            _required(body, "path"),
            _optional(body, "method") or "GET",
            body.get("body"),
            _optional(body, "user"),
            _optional(body, "issueKey"),
            headers,
        )
        return jsonify(answer)

    @bp.get(f"{PREFIX}/deliveries")
    def deliveries() -> Response:
        wait_ms = max(request.args.get("wait_ms", type=int) or 0, 0)
        idle = platform.worker.wait_idle(wait_ms / 1000)
        return jsonify(deliveries=platform.worker.records_json(), idle=idle)

    @bp.delete(f"{PREFIX}/deliveries")
    def forget_deliveries() -> tuple[str, int]:
        platform.forget_deliveries()
        return "", 204

    @bp.get(f"{PREFIX}/settings")
    def settings() -> Response:
        return jsonify(platform.settings.to_json())

    @bp.post(f"{PREFIX}/settings")
    def change_settings() -> Response:
        try:
            return jsonify(platform.configure(**_body()).to_json())
        except (TypeError, ValueError) as exc:
            raise ForgeError(400, str(exc)) from None

    return bp


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ForgeError(400, "the body must be a JSON object")
    return body


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ForgeError(400, f"{name} is required (a string)")
    return value


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ForgeError(400, f"{name} must be a string")
    return value or None


def _manifest_text(body: dict[str, Any], required: bool) -> str | None:
    """The manifest's YAML text (never a path: the control API reads no files)."""
    text = _optional(body, "manifest")
    if required and not text:
        raise ForgeError(400, "manifest (the YAML text of manifest.yml) is required")
    if text and "\n" not in text:
        text += "\n"  # one-line YAML (flow style) is still text, never a path
    return text
