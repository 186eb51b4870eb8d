"""The app tokens Forge hands a remote (`x-forge-oauth-system`, `x-forge-oauth-user`), and the check the API gateway
makes when the remote presents one to `/ex/jira/<cloudId>/rest/api/3/...`.

Tokens are JWT-shaped but opaque to the app (Forge says not to parse them): the registry, not the signature, is
what makes one valid. A token is refused (401) once it expires, when its installation is gone, or when it was
never issued.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jwt

MAX_LIFETIME_S = 4 * 3600  # Forge's app tokens live at most 4 hours (CHANGE-2160)
TokenKind = Literal["system", "user"]


@dataclass
class Grant:
    token: str
    kind: TokenKind
    installation_id: str
    account_id: str  # who the token acts as: the app's user (system) or the signed-in user (user)
    expires_at: float
    scopes: frozenset[str] = frozenset()  # what the app's manifest asks (and the installation holds)
    revoked: bool = False


class TokenRegistry:
    """Mints app tokens and resolves presented ones. Thread-safe; the clock is injectable."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}
        self._secret = secrets.token_bytes(32)

    def mint(self, kind: TokenKind, installation_id: str, account_id: str, lifetime_s: float,
             scopes: tuple[str, ...] = ()) -> Grant:
        if not 0 <= lifetime_s <= MAX_LIFETIME_S:
            raise ValueError(f"an app token lives between 0 and {MAX_LIFETIME_S} seconds")
        now = self._clock()
        claims = {
            "iss": "https://forge.sandbox.invalid/app-token",
            "sub": account_id,
            "aud": "api.atlassian.com",
            "iat": int(now),
            "exp": int(now + lifetime_s),
            "jti": str(uuid.uuid4()),
            "installationId": installation_id,
            "tokenType": kind,
            "scope": " ".join(scopes),
        }
        grant = Grant(jwt.encode(claims, self._secret, algorithm="HS256"), kind, installation_id, account_id,
                      now + lifetime_s, frozenset(scopes))
        with self._lock:
            self._grants[grant.token] = grant
        return grant

    def resolve(self, token: str) -> Grant:
        """The live grant behind `token`; LookupError (with the reason, fit for a 401 body) otherwise."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            raise LookupError("The access token is not valid: it was not issued to an app on this site.")
        if grant.revoked:
            raise LookupError("The access token is not valid: the app has been uninstalled.")
        if self._clock() >= grant.expires_at:
            raise LookupError("The access token has expired.")
        return grant

    def remaining_s(self, grant: Grant) -> float:
        return grant.expires_at - self._clock()

    def revoke_installation(self, installation_id: str) -> None:
        with self._lock:
            for grant in self._grants.values():
                if grant.installation_id == installation_id:
                    grant.revoked = True

    def expire_all(self) -> int:
        """Every token expires now (a knob: the next gateway call with one answers 401). Returns how many."""
        now = self._clock()
        with self._lock:
            live = [grant for grant in self._grants.values() if grant.expires_at > now]
            for grant in live:
                grant.expires_at = now
        return len(live)
