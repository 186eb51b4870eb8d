"""Who is calling: Basic (Cloud email + API token; Data Center name + password or PAT), Bearer PAT (Data Center),
and Connect JWT (HS256 signed by an installed app with its shared secret); behind the API gateway
(`/ex/jira/<cloudId>`), the Bearer tokens `world.gateway_tokens` accepts (Forge's app system and user tokens).
Anything else is a 401, as in Jira.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from flask import Request

from hubsync_sandbox.jira.connect_jwt import JwtRejected, token_from, verify_hs256
from hubsync_sandbox.jira.world import JiraError, JiraWorld, User

NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
# A request that came through the API gateway carries the cloudId it named under this WSGI environ key.
GATEWAY_CLOUD_ID = "hubsync_sandbox.gateway_cloud_id"
# An app's request (a Connect JWT, a Forge app token) carries its `AppGrant` under this key; a person's own
# credentials (Basic, a PAT) carry none, and are limited by that person's permissions only.
APP_GRANT = "hubsync_sandbox.app_grant"


@dataclass(frozen=True)
class AppGrant:
    """How an app called: Connect (scopes from its descriptor: READ, WRITE, ADMIN, ...) or Forge (the OAuth
    scopes of its manifest, e.g. manage:jira-configuration)."""

    kind: Literal["connect", "forge"]
    scopes: frozenset[str]


def app_grant(request: Request) -> AppGrant | None:
    grant = request.environ.get(APP_GRANT)
    return grant if isinstance(grant, AppGrant) else None


def unauthorized(reason: str) -> JiraError:
    return JiraError(401, [reason])


def authenticate(world: JiraWorld, request: Request) -> User:
    """The user a REST request acts as; raises a 401 `JiraError` when it names nobody valid."""
    header = request.headers.get("Authorization", "")
    if request.environ.get(GATEWAY_CLOUD_ID):
        user, scopes = _gateway_user(world, header)
        request.environ[APP_GRANT] = AppGrant("forge", scopes)
        return user
    token = token_from(header, request.args.get("jwt"))
    if token is not None:
        return _connect_app_user(world, request, token)
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        return _basic_user(world, credentials.strip())
    if scheme.lower() == "bearer":
        return _bearer_user(world, credentials.strip())
    raise unauthorized(NOT_AUTHENTICATED)


def _gateway_user(world: JiraWorld, header: str) -> tuple[User, frozenset[str]]:
    """The API gateway takes OAuth-style Bearer tokens only; here, the app tokens Forge minted for this site:
    the user a token acts as, and the app's scopes."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(NOT_AUTHENTICATED)
    if world.gateway_tokens is None:
        raise unauthorized("The access token is not valid: no app on this site holds tokens.")
    try:
        return world.gateway_tokens(token.strip())
    except LookupError as exc:
        raise unauthorized(str(exc.args[0]) if exc.args else "The access token is not valid.") from None


def _basic_user(world: JiraWorld, credentials: str) -> User:
    try:
        login, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("Basic authentication header is malformed.") from None
    user = world.user_by_login(login)
    if world.flavour == "cloud":
        # Cloud accepts only API tokens over Basic: account passwords were retired in 2019.
        valid = user is not None and user.api_token is not None and secret == user.api_token
    else:
        valid = user is not None and secret in {s for s in (user.password, user.pat) if s}
    if not valid or user is None or not user.active:
        raise unauthorized("Invalid credentials: the login or API token is wrong.")
    return user


def _bearer_user(world: JiraWorld, token: str) -> User:
    if world.flavour == "cloud":
        # Cloud Bearer tokens are OAuth 2.0 access tokens, which this site does not issue.
        raise unauthorized("Bearer tokens are OAuth 2.0 access tokens on Jira Cloud; this one is not valid.")
    user = next((u for u in world.users if u.pat and u.pat == token and u.active), None)
    if user is None:
        raise unauthorized("The personal access token is not valid.")
    return user


def _connect_app_user(world: JiraWorld, request: Request, token: str) -> User:
    """An app's call: `iss` names an installed app whose shared secret signs the token; `qsh` covers the
    request relative to the site's base URL. Context tokens (`qsh = context-qsh`) are for the app's own
    backend, never for Jira's REST API, so they are refused here."""

    def secret_for(issuer: str) -> str | None:
        app = world.connect_apps.get(issuer)
        return app.shared_secret if app else None

    try:
        claims = verify_hs256(token, secret_for, request.method, relative_path_and_query(world, request))
    except JwtRejected as exc:
        raise unauthorized(f"Connect JWT rejected: {exc}.") from None
    app = world.connect_apps[claims["iss"]]
    if not app.enabled:
        # 401, not 403: Jira deactivates a disabled app's user, so the token no longer authenticates anyone.
        raise unauthorized(f"The app '{app.key}' is disabled on this site.")
    scopes = app.descriptor.get("scopes")
    request.environ[APP_GRANT] = AppGrant("connect", frozenset(
        str(scope).upper() for scope in scopes if isinstance(scope, str)) if isinstance(scopes, list) else frozenset())
    return world.app_user(app.key)


def relative_path_and_query(world: JiraWorld, request: Request) -> str:
    """The request as the qsh covers it: path relative to the site's base URL, query string as received."""
    prefix = urlsplit(world.base_url).path.rstrip("/")
    path = request.path[len(prefix) :] if prefix and request.path.startswith(prefix) else request.path
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path
