"""The one check every request from Jira passes: `@verified_jira()` on each Jira-facing route.

A Connect request carries an HS256 JWT (`Authorization: JWT …` or `?jwt=`) that Jira signed with the tenant's
shared secret. It is accepted when, in this order:
- the unverified `iss` names a Connect tenant we know (its clientKey), whose secret then verifies the signature;
- it has not expired (a small leeway for clock skew);
- its `qsh` is the hash of this request as received: method, path relative to our base URL, the query string
  without `jwt`. The one exception is a context token (`qsh` = "context-qsh", from `AP.context.getToken()`),
  accepted only where the route says `context_token=True` (the iframe API `/api/v1/...`), never elsewhere;
- the tenant is not uninstalled (an uninstall erases the shared secret: a token signed with it proves nothing,
  401) and is enabled (a disabled app gets 403).
On success the view finds the tenant in `g.tenant` and the verified claims in `g.jira_claims` (`sub` is the
user's accountId, `context` the Jira context when the token carries one). Anything else is a 401/403 JSON reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import jwt
from atlassian_jwt.url_utils import hash_url
from flask import g, request

from hubsync.domain.tenant import AuthMode, Tenant, TenantState
from hubsync.web.errors import ApiError
from hubsync.web.services import services

CONTEXT_QSH = "context-qsh"
JWT_LEEWAY_S = 30  # clock skew between Jira and us
_PATH_SAFE = "/!$&'()*+,;=:@-._~"

View = TypeVar("View", bound=Callable[..., Any])


class JiraAuthError(ApiError):
    """401 (who is calling is not proven) or 403 (proven, but not allowed); never changes state."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(status, message)


@dataclass(frozen=True)
class VerifiedRequest:
    tenant: Tenant
    claims: dict[str, Any]


def verified_jira(*, context_token: bool = False) -> Callable[[View], View]:
    """Decorate a view so it runs only for a verified Jira request (see the module docstring)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def verified_view(*args: Any, **kwargs: Any) -> Any:
            verified = verify_jira_request(context_token=context_token)
            g.tenant = verified.tenant
            g.jira_claims = verified.claims
            return view(*args, **kwargs)

        return verified_view  # type: ignore[return-value]

    return decorate


def verify_jira_request(*, context_token: bool = False, require_enabled: bool = True) -> VerifiedRequest:
    """The checks behind `verified_jira`; lifecycle `enabled` passes `require_enabled=False` (it re-enables a
    disabled tenant, never an uninstalled one)."""
    token = request_token()
    if token is None:
        raise JiraAuthError("no JWT: send Authorization: JWT <token> or a jwt query parameter")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise JiraAuthError("the JWT is malformed") from None
    if header.get("alg") != "HS256":
        raise JiraAuthError("the JWT must be signed with HS256")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise JiraAuthError("the JWT names no issuer (iss)")
    with services().store.read() as uow:
        tenant = uow.tenants.get_by_client_key(issuer)
    if tenant is None or tenant.auth_mode is not AuthMode.CONNECT:
        raise JiraAuthError("the JWT's issuer is not an installed Jira site")
    if tenant.state is TenantState.UNINSTALLED or not tenant.jira_secret:
        raise JiraAuthError("hubsync was uninstalled from this Jira site: install it again")
    try:
        claims = jwt.decode(
            token,
            tenant.jira_secret,
            algorithms=["HS256"],
            leeway=JWT_LEEWAY_S,
            options={"require": ["iss", "exp", "qsh"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise JiraAuthError("the JWT has expired") from None
    except jwt.PyJWTError:
        raise JiraAuthError("the JWT's signature or claims are not valid") from None
    check_qsh(claims.get("qsh"), allow_context=context_token)
    if require_enabled and not tenant.enabled:
        raise JiraAuthError("hubsync is disabled on this Jira site", status=403)
    return VerifiedRequest(tenant, claims)


def check_qsh(qsh: Any, *, allow_context: bool = False) -> None:
    """The token's `qsh` must hash this request; "context-qsh" only where `allow_context` (the iframe API)."""
    if qsh == CONTEXT_QSH:
        if allow_context:
            return
        raise JiraAuthError("a context JWT (qsh=context-qsh) is accepted only by the iframe API")
    if not isinstance(qsh, str) or qsh != hash_url(request.method, request_target()):
        raise JiraAuthError("the JWT's query string hash (qsh) does not match this request")


def request_token() -> str | None:
    """`Authorization: JWT <token>` first, else the `jwt` query parameter."""
    authorization = request.headers.get("Authorization", "")
    if authorization[:4].upper() == "JWT ":
        return authorization[4:].strip() or None
    return request.args.get("jwt") or None


def request_target() -> str:
    """This request as Connect's qsh covers it: the path relative to our base URL (so a base URL with a path, or a
    proxy mounting us under one, hashes alike) and the query string exactly as received."""
    path = request.script_root + request.path
    base_path = services().config.base_path
    if base_path and (path == base_path or path.startswith(f"{base_path}/")):
        path = path[len(base_path) :]
    path = quote(path or "/", safe=_PATH_SAFE)
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path
