"""Forge's token-signing keys: its JWKS, fetched from the configured URL (never one a request names), cached, and
fetched again when a token names a kid the cached set lacks (Forge rotates keys) — at most once a minute, so a
stream of made-up kids cannot turn hubsync into a client that hammers Forge's CDN."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from jwt import PyJWKClient

from hubsync.domain.ports import ForgeKeyUnavailable

FETCH_TIMEOUT_S = 5
REFRESH_AT_MOST_EVERY_S = 60.0


class JwksForgeKeys:
    """`ForgeKeys` over PyJWT's JWKS client (thread-safe)."""

    def __init__(self, jwks_url: str, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client = PyJWKClient(jwks_url, cache_keys=False, cache_jwk_set=True, lifespan=3600,
                                   timeout=FETCH_TIMEOUT_S)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._refreshed_at: float | None = None

    def signing_key(self, kid: str) -> Any:
        key = self._find(kid, refresh=False)
        if key is None:
            with self._lock:
                now = self._monotonic()
                may_refresh = self._refreshed_at is None or now - self._refreshed_at >= REFRESH_AT_MOST_EVERY_S
                if may_refresh:
                    self._refreshed_at = now
            if may_refresh:
                key = self._find(kid, refresh=True)
        if key is None:
            raise ForgeKeyUnavailable(f"Forge's key set has no key {kid!r}")
        return key

    def _find(self, kid: str, *, refresh: bool) -> Any:
        try:
            keys = self._client.get_signing_keys(refresh=refresh)
        except jwt.PyJWKClientConnectionError as exc:
            raise ForgeKeyUnavailable("Forge's key set could not be fetched now", reachable=False) from exc
        except jwt.PyJWKClientError as exc:  # an answer that is no key set
            raise ForgeKeyUnavailable(f"Forge's key set is not usable: {exc}", reachable=False) from exc
        return next((found.key for found in keys if found.key_id == kid), None)
