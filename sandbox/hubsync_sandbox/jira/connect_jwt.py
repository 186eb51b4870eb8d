"""Connect JWT as Jira does it: query-string hashes, HS256 tokens between Jira and an app, RS256 install tokens.

The canonical-request rules come from `atlassian_jwt.url_utils`, which reproduces Atlassian's 78 test vectors;
this module adds what the library lacks: expiry against an injectable clock, `context-qsh`, and RS256.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
from atlassian_jwt.url_utils import canonicalize_request, hash_url

CONTEXT_QSH = "context-qsh"


class JwtRejected(Exception):
    """A token that must not be accepted; `str(exc)` says why, in words fit for a 401 body."""


def canonical_request(method: str, path_and_query: str) -> str:
    """`METHOD&/path&sorted-encoded-query`, with `jwt` dropped (path relative to the base URL)."""
    return canonicalize_request(method, path_and_query)


def query_hash(method: str, path_and_query: str) -> str:
    return hash_url(method, path_and_query)


def token_from(authorization: str | None, query_jwt: str | None) -> str | None:
    """The token of a request: `Authorization: JWT <token>` first, else the `jwt` query parameter."""
    if authorization and authorization[:4].upper() == "JWT ":
        return authorization[4:].strip()
    return query_jwt or None


def sign_hs256(
    method: str,
    path_and_query: str,
    issuer: str,
    secret: str,
    lifetime_s: int = 180,
    now: float | None = None,
    extra_claims: dict[str, Any] | None = None,
    qsh: str | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "iat": issued,
        "exp": issued + lifetime_s,
        "qsh": qsh if qsh is not None else query_hash(method, path_and_query),
    }
    claims.update(extra_claims or {})
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_hs256(
    token: str,
    secret_for_issuer: Callable[[str], str | None],
    method: str,
    path_and_query: str,
    *,
    allow_context_qsh: bool = False,
    leeway_s: int = 30,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify an HS256 Connect token fully: issuer known, signature, expiry, qsh. Returns the claims."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise JwtRejected(f"malformed JWT: {exc}") from exc
    if header.get("alg") != "HS256":
        raise JwtRejected(f"unexpected JWT algorithm {header.get('alg')!r}; HS256 required")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise JwtRejected("JWT has no issuer (iss)")
    secret = secret_for_issuer(issuer)
    if secret is None:
        raise JwtRejected(f"unknown JWT issuer {issuer!r}")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_aud": False, "require": ["iss", "exp", "qsh"]},
        )
    except jwt.PyJWTError as exc:
        raise JwtRejected(f"JWT signature or claims invalid: {exc}") from exc
    _check_expiry(claims, leeway_s, now)
    _check_qsh(claims, method, path_and_query, allow_context_qsh)
    return claims


def sign_rs256(claims: dict[str, Any], private_key_pem: bytes, kid: str) -> str:
    return jwt.encode(claims, private_key_pem, algorithm="RS256", headers={"kid": kid})


def _check_expiry(claims: dict[str, Any], leeway_s: int, now: float | None) -> None:
    current = now if now is not None else time.time()
    if not isinstance(claims.get("exp"), int | float):
        raise JwtRejected("JWT expiry (exp) is not a number")
    if current > claims["exp"] + leeway_s:
        raise JwtRejected("JWT has expired")


def _check_qsh(claims: dict[str, Any], method: str, path_and_query: str, allow_context_qsh: bool) -> None:
    qsh = claims.get("qsh")
    if qsh == CONTEXT_QSH:
        if allow_context_qsh:
            return
        raise JwtRejected("a context JWT (qsh=context-qsh) is not accepted here")
    if qsh != query_hash(method, path_and_query):
        raise JwtRejected("JWT query string hash (qsh) does not match the request")
