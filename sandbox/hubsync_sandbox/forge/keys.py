"""Forge's signing keys: RS256 key pairs under `kid`s, published as a JWKS, signing invocation and context tokens.

The newest key signs; older keys stay in the JWKS until retired, as a key rotation leaves both published for a
while. `rotate(retire_previous=True)` drops the old keys at once (tokens they signed stop verifying). A rotated key
signs at once: a remote whose JWKS client caches the key set (PyJWKClient refetches for an unknown kid at most
every 30 s by default) may refuse the first FITs it signs with 401, and Forge's retries then carry the call.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class _Key:
    kid: str
    private_key: rsa.RSAPrivateKey


class SigningKeys:
    """Thread-safe key ring; `jwks()` is the document a remote fetches from the JWKS URL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[_Key] = [self._new_key()]

    @staticmethod
    def _new_key() -> _Key:
        return _Key(f"forge/invocation-token/{uuid.uuid4()}", rsa.generate_private_key(public_exponent=65537,
                                                                                       key_size=2048))

    @property
    def current_kid(self) -> str:
        with self._lock:
            return self._keys[-1].kid

    def kids(self) -> list[str]:
        with self._lock:
            return [key.kid for key in self._keys]

    def rotate(self, retire_previous: bool = False) -> str:
        """A new signing key; the previous ones stay published unless `retire_previous`. Returns the new kid."""
        key = self._new_key()
        with self._lock:
            self._keys = [key] if retire_previous else [*self._keys, key]
        return key.kid

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            keys = list(self._keys)
        published = []
        for key in keys:
            jwk = RSAAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True)
            published.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def sign(self, claims: dict[str, Any], *, unpublished: bool = False) -> str:
        """An RS256 token with the current key's `kid` in its header (`unpublished`: signed with a throwaway key
        under a kid the JWKS does not list, for a remote's refusal to be tested)."""
        with self._lock:
            key = self._keys[-1]
        if unpublished:
            key = self._new_key()
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
