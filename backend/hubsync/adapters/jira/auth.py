"""How hubsync proves who it is to Jira: one small `requests` auth class per credential kind.

Each signs a prepared request just before it is sent (so a retried request is signed again):
- `ApiToken`: Jira Cloud, Basic `email:api-token`.
- `PersonalAccessToken`: Jira Data Center, `Bearer <PAT>`.
- `ConnectJwt`: a Connect app on Jira Cloud, an HS256 JWT per request whose `qsh` covers that exact request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import jwt
from atlassian_jwt.url_utils import hash_url
from requests import PreparedRequest
from requests.auth import AuthBase, HTTPBasicAuth

CONNECT_TOKEN_LIFETIME_S = 180  # as Atlassian's own Connect framework (ACE) signs its calls


class ApiToken(HTTPBasicAuth):
    """Jira Cloud API token of a (bot) account: Basic auth with the account's email address."""

    def __init__(self, email: str, token: str) -> None:
        super().__init__(email, token)

    def __repr__(self) -> str:
        return f"ApiToken({self.username!r}, '***')"


class BearerToken(AuthBase):
    """A token sent as `Authorization: Bearer <token>`; never shown in a repr."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}('***')"


class PersonalAccessToken(BearerToken):
    """Jira Data Center personal access token."""


class ForgeAppToken(BearerToken):
    """A Forge app calling its site's Jira (at Forge's apiBaseUrl): the app system token of the latest
    invocation."""


class ConnectJwt(AuthBase):
    """A Connect app calling the tenant's Jira: `iss` is the app key (atlassian-jwt's `encode_token` would put the
    tenant's client key there, so the claims are built here), `qsh` hashes the method, the path relative to the
    tenant's base URL (which may carry a context path) and the query, and the token lives a few minutes."""

    def __init__(
        self,
        app_key: str,
        shared_secret: str,
        base_url: str,
        *,
        lifetime_s: int = CONNECT_TOKEN_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app_key = app_key
        self._secret = shared_secret
        self._base_url = base_url
        self._lifetime_s = lifetime_s
        self._clock = clock

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        now = int(self._clock())
        claims = {
            "iss": self._app_key,
            "iat": now,
            "exp": now + self._lifetime_s,
            "qsh": hash_url(request.method or "GET", relative_url(self._base_url, request.url or "")),
        }
        token = jwt.encode(claims, self._secret, algorithm="HS256")
        request.headers["Authorization"] = f"JWT {token}"
        return request

    def __repr__(self) -> str:
        return f"ConnectJwt({self._app_key!r}, '***', {self._base_url!r})"


def relative_url(base_url: str, url: str) -> str:
    """`url`'s path and query relative to `base_url`, as the `qsh` covers it: a context path such as `/jira` in
    the base URL is not part of the canonical path."""
    prefix = urlsplit(base_url).path.rstrip("/")
    parts = urlsplit(url)
    path = parts.path
    if prefix and (path == prefix or path.startswith(f"{prefix}/")):
        path = path[len(prefix) :]
    path = path or "/"
    return f"{path}?{parts.query}" if parts.query else path
