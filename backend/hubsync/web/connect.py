"""Connect's lifecycle callbacks: Jira tells hubsync it was installed, uninstalled, enabled or disabled on a site.

- `installed` / `uninstalled` are signed RS256 by Atlassian (signed-install): the public key comes from the
  install-key server by the token's `kid`; the token's `aud` must be our base URL, its `iss` the body's clientKey,
  its `qsh` this request's hash. `installed` is an upsert by clientKey (a reinstall, a shared-secret rotation or a
  site rename updates the tenant; the first install creates it, secret encrypted by the store), and the site must
  be https (http only on this machine, as the sandbox's) on a host HUBSYNC_ALLOWED_JIRA_HOSTS allows; it is
  stored as the one URL parser read it, the same the Jira client sends requests under. `uninstalled` revokes: the
  shared secret is erased, so no
  request signed with it (`enabled` included) is accepted any more, and the tenant is UNINSTALLED, not merely
  disabled. Its settings, links and audit are kept: only a new signed install (with a new secret) brings it back,
  and then it resumes where it stopped.
- `enabled` / `disabled` are HS256 with the stored shared secret (`jira_auth`) and toggle the tenant; an
  uninstalled tenant has no secret, so they are 401 for it.
Each answers 204; a request that cannot be verified is a 401 (403 for a site not allowed) and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from flask import Blueprint, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from hubsync.domain.ports import InstallKeyUnavailable
from hubsync.domain.tenant import APP_KEY
from hubsync.service import installation
from hubsync.service.installation import site_name
from hubsync.web.errors import ApiError
from hubsync.web.jira_auth import JWT_LEEWAY_S, JiraAuthError, check_qsh, request_token, verify_jira_request
from hubsync.web.services import services

log = logging.getLogger(__name__)

bp = Blueprint("connect", __name__, url_prefix="/connect")


class LifecyclePayload(Schema):
    """What Jira posts to every lifecycle callback (the fields hubsync uses; the rest is ignored)."""

    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True)
    clientKey = fields.String(required=True, validate=validate.Length(min=1, max=255))
    baseUrl = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    sharedSecret = fields.String(validate=validate.Length(min=32, max=512))
    eventType = fields.String()


@bp.post("/installed")
def installed() -> tuple[str, int]:
    claims = _verified_install_token()
    payload = _payload(require_secret=True)
    _same_client(claims, payload)
    site = services().config.allowed_jira_site(payload["baseUrl"])
    if site is None:
        raise ApiError(403, f"Jira site {site_name(payload['baseUrl'])} is not allowed to install this hubsync")
    tenant, action = installation.install(services().store, client_key=payload["clientKey"],
                                          base_url=site.base_url,  # stored as checked
                                          shared_secret=payload["sharedSecret"])
    log.info("Connect %s on %s: tenant %s", action, site_name(tenant.jira_base_url), tenant.id)
    return "", 204


@bp.post("/uninstalled")
def uninstalled() -> tuple[str, int]:
    claims = _verified_install_token()
    payload = _payload(require_secret=False)
    _same_client(claims, payload)
    tenant = installation.uninstall(services().store, payload["clientKey"])
    if tenant is not None:
        log.info("Connect uninstall on %s: tenant %s uninstalled, its shared secret erased, its data kept",
                 site_name(tenant.jira_base_url), tenant.id)
    return "", 204


@bp.post("/enabled")
def enabled() -> tuple[str, int]:
    return _set_enabled(True)


@bp.post("/disabled")
def disabled() -> tuple[str, int]:
    return _set_enabled(False)


def _set_enabled(value: bool) -> tuple[str, int]:
    verified = verify_jira_request(require_enabled=False)
    payload = _payload(require_secret=False)
    if payload["clientKey"] != verified.tenant.connect_client_key:
        raise JiraAuthError("the body's clientKey is not the JWT's issuer")
    try:
        installation.set_enabled(services().store, verified.tenant.id, value)
    except installation.TenantUninstalled as exc:  # uninstalled since the token was checked
        raise JiraAuthError(str(exc)) from None
    log.info("Connect %s on tenant %s", "enabled" if value else "disabled", verified.tenant.id)
    return "", 204


def _verified_install_token() -> dict[str, Any]:
    """Atlassian's signed-install checks: RS256 by the kid's key from the key server, exp, aud, qsh (iss is
    checked against the body by the caller)."""
    token = request_token()
    if token is None:
        raise JiraAuthError("no JWT: install callbacks must carry Authorization: JWT <token>")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise JiraAuthError("the JWT is malformed") from None
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise JiraAuthError("install callbacks must be signed RS256 with a kid (Connect's signed install)")
    config = services().config
    try:
        public_key = services().install_keys.public_key(kid)
    except InstallKeyUnavailable as exc:
        raise JiraAuthError(f"the install token cannot be verified: {exc}") from None
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=[config.base_url, f"{config.base_url}/"],
            leeway=JWT_LEEWAY_S,
            options={"require": ["iss", "exp", "qsh", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise JiraAuthError("the install token has expired") from None
    except jwt.InvalidAudienceError:
        raise JiraAuthError("the install token's audience (aud) is not this hubsync's base URL") from None
    except (jwt.PyJWTError, ValueError):
        raise JiraAuthError("the install token's signature or claims are not valid") from None
    check_qsh(claims.get("qsh"))
    return claims


def _payload(*, require_secret: bool) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be Jira's lifecycle JSON object")
    payload: dict[str, Any] = LifecyclePayload().load(body)
    if payload["key"] != APP_KEY:
        raise ApiError(400, f"this callback is for app {payload['key']!r}, not {APP_KEY!r}")
    if require_secret and "sharedSecret" not in payload:
        raise ValidationError({"sharedSecret": ["Missing data for required field."]})
    return payload


def _same_client(claims: dict[str, Any], payload: dict[str, Any]) -> None:
    if claims.get("iss") != payload["clientKey"]:
        raise JiraAuthError("the install token's issuer (iss) is not the body's clientKey")
