"""Calls as Forge makes them to the app's remote, for the web tests: Forge invocation tokens (RS256, signed by a key
of a stand-in key set), app system tokens, and the events' bodies."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.ports import ForgeKeyUnavailable
from hubsync.domain.tenant import AuthMode, Tenant

APP_ID = "ari:cloud:ecosystem::app/6f2b1c9e-3d4a-4b5c-8d7e-9f0a1b2c3d4e"
INSTALLATION = "ari:cloud:ecosystem::installation/11111111-2222-4333-8444-555555555555"
OTHER_INSTALLATION = "ari:cloud:ecosystem::installation/99999999-8888-4777-8666-555555555555"
CLOUD_ID = "c0ffee00-1111-4222-8333-444455556666"
OTHER_CLOUD_ID = "deadbeef-1111-4222-8333-444455556666"
API_BASE_URL = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
ENVIRONMENT = "e0000000-0000-4000-8000-000000000001"
SITE_URL = "https://acme.atlassian.net"
KID = "forge/invocation-token/test-key-1"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class StaticForgeKeys:
    """`ForgeKeys` answered from a dict (no HTTP), counting lookups."""

    keys: dict[str, Any] = field(default_factory=dict)
    lookups: int = 0
    reachable: bool = True

    def signing_key(self, kid: str) -> Any:
        self.lookups += 1
        if not self.reachable:
            raise ForgeKeyUnavailable("Forge's key set could not be fetched now", reachable=False)
        if kid not in self.keys:
            raise ForgeKeyUnavailable(f"Forge's key set has no key {kid!r}")
        return self.keys[kid]


def claims(
    *,
    installation: str = INSTALLATION,
    cloud_id: str = CLOUD_ID,
    now: float | None = None,
    lifetime: int = 25,
    principal: str | None = None,
    issue: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A FIT's claims as Forge sends them; `principal`/`issue` make it a call from the app's pages."""
    moment = int(time.time() if now is None else now)
    api = f"https://api.atlassian.com/ex/jira/{cloud_id}"
    body: dict[str, Any] = {
        "iss": "forge/invocation-token",
        "aud": APP_ID,
        "iat": moment,
        "nbf": moment,
        "exp": moment + lifetime,
        "jti": str(uuid.uuid4()),
        "app": {
            "id": APP_ID,
            "appVersion": "2.4.0",
            "installationId": installation,
            "apiBaseUrl": api,
            "environment": {"type": "PRODUCTION", "id": ENVIRONMENT},
            "module": {"type": "core:endpoint", "key": "hubsync-events-ep"},
            "installation": {"id": installation, "contexts": [{"name": "jira", "apiBaseUrl": api,
                                                                 "cloudId": cloud_id}]},
        },
    }
    if principal is not None or issue is not None:
        body["principal"] = principal
        body["context"] = {"cloudId": cloud_id, "siteUrl": SITE_URL, "moduleKey": "hubsync-panel",
                           "extension": {"type": "jira:issuePanel", **({"issue": issue} if issue else {})}}
        body["app"]["module"] = {"type": "jira:issuePanel", "key": "hubsync-panel"}
    body.update(overrides)
    return body


def fit(key: rsa.RSAPrivateKey, body: dict[str, Any], *, kid: str = KID, algorithm: str = "RS256") -> str:
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


def app_token(expires_in: int = 3 * 3600, *, marker: str = "a") -> str:
    """An app system token as Forge hands it: a JWT (hubsync reads only its `exp`)."""
    body = {"exp": int(time.time()) + expires_in, "sub": f"app-{marker}"}
    return jwt.encode(body, "forge-internal-" + "k" * 32, "HS256")


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def forge_headers(token: str, system_token: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if system_token is not None:
        headers["x-forge-oauth-system"] = system_token
    return headers


def installed_event() -> dict[str, Any]:
    return {"eventType": "avi:forge:installed:app", "id": INSTALLATION, "installerAccountId": "5b10ac8d82e05b22",
            "app": {"id": APP_ID, "version": "2.4.0"}, "environment": {"id": ENVIRONMENT}}


def issue_event(kind: str = "updated", key: str = "SEC-7", issue_id: str = "10007", **extra: Any) -> dict[str, Any]:
    return {"eventType": f"avi:jira:{kind}:issue", "selfGenerated": False, "timestamp": "1767225600000",
            "issue": {"id": issue_id, "key": key, "fields": {"summary": "S3.8 open bucket"}},
            "atlassianId": "5b10ac8d82e05b22", **extra}


FORGE_KEY = rsa_key()  # the stand-in of Forge's signing key, made once


def call(client: FlaskClient, path: str, body: dict[str, Any], *, token: str | None = None,
         system: str | None = None, **claim_overrides: Any) -> Any:
    token = token or fit(FORGE_KEY, claims(**claim_overrides))
    return client.post(path, json=body, headers=forge_headers(token, system))


def forge_tenants(store: Store) -> list[Tenant]:
    with store.read() as uow:
        return [t for t in uow.tenants.list() if t.auth_mode is AuthMode.FORGE]
