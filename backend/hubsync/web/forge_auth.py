"""The one check every call from Forge passes: its Forge Invocation Token (FIT), `Authorization: Bearer <FIT>`.

A FIT is accepted when:
- it is signed RS256 (no other algorithm) by a key of Forge's key set (HUBSYNC_FORGE_JWKS_URL; the key found by
  the token's `kid`, the set fetched again for a kid it lacks);
- `iss` is "forge/invocation-token" and `aud` this app (HUBSYNC_FORGE_APP_ID);
- `exp`, `nbf` and `iat` hold, with a small leeway for clock skew; `jti` is present;
- it is not an isolated cloud's (`icLabel`: their keys are not Forge's public ones; hubsync does not serve them);
- it names the app's installation and the API URL of its site (`app.installationId`, `app.apiBaseUrl`).
The installation, the site and the user come from the token only, never from the body. With no
HUBSYNC_FORGE_APP_ID the Forge routes do not exist (404). A token that fails any check gets a 401 JSON answer
(Forge reads 401 as "token rejected"), and nothing changes; a key set that cannot be fetched now, a 503 (Forge
delivers again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import abort, request

from hubsync.domain.jira_site import InvalidJiraSite, parse_jira_site
from hubsync.domain.ports import ForgeKeyUnavailable
from hubsync.service.installation import ForgeInstallation
from hubsync.web.errors import ApiError
from hubsync.web.services import services

FIT_ISSUER = "forge/invocation-token"
FIT_LEEWAY_S = 30
SYSTEM_TOKEN_HEADER = "x-forge-oauth-system"
# An app token whose expiry cannot be read is used for this long (Forge hands one with at least 2 h left).
APP_TOKEN_ASSUMED_LIFETIME = timedelta(hours=1)


class ForgeAuthError(ApiError):
    """The call is not proven to come from Forge for this app: 401, nothing changes."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(status, message)


@dataclass(frozen=True)
class ForgeCall:
    """A verified Forge invocation: its installation, and for calls from the app's pages the user and the issue."""

    claims: dict[str, Any]
    installation: ForgeInstallation
    account_id: str | None  # the user (`principal`) of a call from the app's pages; None for events
    context: dict[str, Any]  # the page's context (`context`): module, extension (issue, project), site


def verify_forge_call() -> ForgeCall:
    """The checks of the module docstring; raises `ForgeAuthError` (401), aborts 404 without Forge configured."""
    app_id = services().config.forge_app_id
    if not app_id:
        abort(404)
    token = _bearer_token()
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ForgeAuthError("the Forge invocation token is malformed") from None
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
        raise ForgeAuthError("a Forge invocation token must be signed RS256 and name its key (kid)")
    if "icLabel" in unverified:
        raise ForgeAuthError("tokens of isolated clouds are not accepted by this hubsync")
    try:
        key = services().runtime.forge_keys.signing_key(kid)
    except ForgeKeyUnavailable as exc:
        if not exc.reachable:
            raise ApiError(503, "Forge's signing keys cannot be fetched now; retry later") from None
        raise ForgeAuthError("the Forge invocation token's key (kid) is not one of Forge's") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["RS256"], audience=app_id, issuer=FIT_ISSUER, leeway=FIT_LEEWAY_S,
            options={"require": ["iss", "aud", "exp", "nbf", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise ForgeAuthError("the Forge invocation token has expired") from None
    except jwt.ImmatureSignatureError:
        raise ForgeAuthError("the Forge invocation token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise ForgeAuthError("the Forge invocation token is for another app (aud)") from None
    except jwt.InvalidIssuerError:
        raise ForgeAuthError("the token is not a Forge invocation token (iss)") from None
    except (jwt.PyJWTError, ValueError):
        raise ForgeAuthError("the Forge invocation token's signature or claims are not valid") from None
    return ForgeCall(claims, _installation(claims), _text(claims.get("principal")), _mapping(claims.get("context")))


def _installation(claims: dict[str, Any]) -> ForgeInstallation:
    app = _mapping(claims.get("app"))
    installation = _mapping(app.get("installation"))
    installation_id = _text(app.get("installationId")) or _text(installation.get("id"))
    api_base_url = _text(app.get("apiBaseUrl"))
    if installation_id is None or api_base_url is None:
        raise ForgeAuthError("the Forge invocation token names no installation or API URL")
    try:
        site = parse_jira_site(api_base_url)
    except InvalidJiraSite:
        raise ForgeAuthError("the Forge invocation token's API URL is not a URL hubsync can call") from None
    if site.scheme != "https" and not site.is_loopback:
        raise ForgeAuthError("the Forge invocation token's API URL is not https")
    contexts = [_mapping(each) for each in installation.get("contexts") or [] if isinstance(each, dict)]
    context = _mapping(claims.get("context"))
    cloud_id = _text(context.get("cloudId")) or next(
        (cloud for each in contexts if (cloud := _text(each.get("cloudId")))), None)
    token = request.headers.get(SYSTEM_TOKEN_HEADER, "").strip() or None
    return ForgeInstallation(
        installation_id=installation_id,
        cloud_id=cloud_id,
        api_base_url=site.base_url,
        environment_id=_text(_mapping(app.get("environment")).get("id")),
        app_token=token,
        app_token_expires_at=_expiry(token) if token else None,
        site_url=_site_url(context.get("siteUrl")),
    )


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ForgeAuthError("no Forge invocation token: Forge sends Authorization: Bearer <token>")
    return token.strip()


def _expiry(app_token: str) -> datetime:
    """When an app token expires: its own `exp` where it carries one (Forge's are JWTs; read for caching only,
    never trusted for anything else), else an hour from now."""
    try:
        exp = jwt.decode(app_token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        exp = None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, UTC)
    return datetime.now(UTC) + APP_TOKEN_ASSUMED_LIFETIME


def _site_url(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return parse_jira_site(text).base_url
    except InvalidJiraSite:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
