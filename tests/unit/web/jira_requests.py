"""Requests as Jira sends them to hubsync, for the web tests: HS256 tokens with a qsh over the exact request,
signed-install RS256 tokens, and the recording/fake boundaries the app is built with."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hubsync.adapters.connect_keys import InstallKeyUnavailable
from hubsync.domain.hint import SyncHint
from hubsync.domain.ports import (
    CreateField,
    IssueTypeChoice,
    PriorityChoice,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    UserChoice,
    WorkflowShape,
)
from hubsync.domain.tenant import Tenant
from hubsync_sandbox.jira.connect_jwt import CONTEXT_QSH, query_hash, sign_hs256
from hubsync_sandbox.jira.install_keys import InstallKeyServer

BASE_URL = "https://hubsync.example.com"
JIRA_URL = "https://acme.atlassian.net"
CLIENT_KEY = "0b0a5f0e-7f1c-4f6a-9a55-acme00000001"
SHARED_SECRET = "jira-shared-secret-acme-" + "x" * 40
SECRET_KEY = "web-tests-secret-key-0123456789-abcdefghij"
USER_ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"
APP_ACCOUNT_ID = "557058:f0000000-0000-4000-8000-00000000a0a0"


class NoProjects:
    """A Jira site with no project and no priority or person (`JiraProjectsPort`): the pickers list nothing, and the
    project check answers without asking a real Jira."""

    def projects(self, query: str = "") -> list[ProjectChoice]:
        return []

    def issue_types(self, project_key: str) -> list[IssueTypeChoice]:
        raise ProjectNotFound(project_key)

    def create_fields(self, project_key: str, issue_type_id: str) -> list[CreateField]:
        raise ProjectNotFound(project_key)

    def statuses(self, project_key: str, issue_type_id: str | None = None) -> list[StatusChoice]:
        raise ProjectNotFound(project_key)

    def workflow(self, project_key: str, issue_type_id: str) -> WorkflowShape | None:
        raise ProjectNotFound(project_key)

    def priorities(self) -> list[PriorityChoice]:
        return []

    def users(self, query: str, project_key: str | None = None) -> list[UserChoice]:
        if project_key is not None:
            raise ProjectNotFound(project_key)
        return []


class RecordingQueue:
    """A HintQueue that keeps what it was given (the boundary the web app writes to)."""

    def __init__(self) -> None:
        self.hints: list[SyncHint] = []
        self.ready_answer: bool | Exception = True
        self.put_error: Exception | None = None  # raised by put, as a queue that cannot be reached raises

    def put(self, hints: Sequence[SyncHint], priorities: Sequence[int] | None = None) -> None:
        if self.put_error is not None:
            raise self.put_error
        self.hints.extend(hints)

    def ready(self) -> bool:
        if isinstance(self.ready_answer, Exception):
            raise self.ready_answer
        return self.ready_answer


class KeyServerKeys:
    """InstallKeys answered straight from a sandbox key server (no HTTP), counting lookups."""

    def __init__(self, server: InstallKeyServer) -> None:
        self._server = server
        self.lookups = 0

    def public_key(self, kid: str) -> str:
        self.lookups += 1
        if kid != self._server.kid:
            raise InstallKeyUnavailable(f"the install key server has no key {kid} (HTTP 404)")
        return self._server.public_pem


@dataclass
class KnownAppAccounts:
    """AppAccounts with the app user of each tenant known in advance."""

    accounts: dict[str, str] = field(default_factory=dict)

    def is_own(self, tenant: Tenant, user: dict[str, Any] | None) -> bool:
        return bool(user) and user.get("accountId") == self.accounts.get(tenant.id)  # type: ignore[union-attr]


def hs256(
    method: str,
    target: str,
    *,
    issuer: str = CLIENT_KEY,
    secret: str = SHARED_SECRET,
    lifetime_s: int = 180,
    now: float | None = None,
    qsh: str | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """A token as Jira signs one for `method target` (target relative to our base URL, query included)."""
    return sign_hs256(method, target, issuer, secret, lifetime_s, now, extra_claims=claims, qsh=qsh)


def context_token(issuer: str = CLIENT_KEY, secret: str = SHARED_SECRET, **claims: Any) -> str:
    """What AP.context.getToken() hands the iframe."""
    return sign_hs256("GET", "/", issuer, secret, 180, extra_claims={"sub": USER_ACCOUNT_ID, **claims}, qsh=CONTEXT_QSH)


def jwt_header(token: str) -> dict[str, str]:
    return {"Authorization": f"JWT {token}"}


def install_token(
    keys: InstallKeyServer,
    path: str,
    *,
    client_key: str = CLIENT_KEY,
    audience: str | list[str] | None = None,
    lifetime_s: int = 180,
    qsh: str | None = None,
    now: float | None = None,
) -> str:
    """A signed-install token as Atlassian signs `installed` / `uninstalled`."""
    issued = int(now if now is not None else time.time())
    return keys.sign(
        {
            "iss": client_key,
            "aud": audience if audience is not None else [BASE_URL],
            "qsh": qsh if qsh is not None else query_hash("POST", path),
            "iat": issued,
            "exp": issued + lifetime_s,
        }
    )


def lifecycle_body(event: str, *, client_key: str = CLIENT_KEY, base_url: str = JIRA_URL, **extra: Any) -> dict:
    body = {
        "key": "io.hubsync.security-hub",
        "clientKey": client_key,
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "jira",
        "description": "Atlassian JIRA at " + base_url,
        "eventType": event,
    }
    if event == "installed":
        body["sharedSecret"] = SHARED_SECRET
    body.update(extra)
    return body
