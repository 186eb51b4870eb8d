"""Test doubles around the Forge side: a small Forge Remote that checks every call the way a real remote must, and
a manifest for it.

The remote verifies each Forge Invocation Token with PyJWT against the site's JWKS (RS256, `kid`, issuer,
audience = the app id, `exp`/`iat`/`nbf`/`jti` required) and answers 401 when a check fails, so a delivery that
succeeds is itself evidence that the simulator signed correctly. Tests script its answers per path and read back
what it received.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, Response, jsonify, request

from hubsync_sandbox.httpserver import BackgroundServer

APP_ID = "ari:cloud:ecosystem::app/3f1f0c8e-7c1d-4b8e-9a6e-2d5b8f0a9c41"

MANIFEST = f"""
app:
  id: {APP_ID}
  runtime: {{ name: nodejs22.x }}
modules:
  jira:issuePanel:
    - key: test-panel
      resource: panel-ui
      resolver: {{ endpoint: test-ui }}
      title: Test panel
      icon: resource:panel-ui;icon.svg
  jira:adminPage:
    - {{ key: test-configure, resource: admin-ui, resolver: {{ endpoint: test-ui }}, title: Settings,
         useAsConfig: true }}
  jira:workflowPostFunction:
    - key: test-postfn
      name: Sync on transition
      description: Tells the remote about a transition.
      endpoint: postfn-ep
  trigger:
    - key: issue-events
      endpoint: events-ep
      events: [avi:jira:created:issue, avi:jira:updated:issue, avi:jira:deleted:issue, avi:jira:commented:issue]
      filter: {{ ignoreSelf: IGNORE_SELF }}
    - key: lifecycle
      endpoint: lifecycle-ep
      events: [avi:forge:installed:app, avi:forge:upgraded:app]
  scheduledTrigger:
    - {{ key: hourly, endpoint: cron-ep, interval: hour }}
  preUninstall:
    - {{ key: pre-uninstall, endpoint: uninstall-ep }}
  endpoint:
    - key: test-ui
      remote: backend
      auth: {{ appUserToken: {{ enabled: true }}, appSystemToken: {{ enabled: true }} }}
    - key: events-ep
      remote: backend
      route: {{ path: /forge/events }}
      auth: {{ appSystemToken: {{ enabled: true }} }}
    - {{ key: lifecycle-ep, remote: backend, route: {{ path: /forge/lifecycle }},
         auth: {{ appSystemToken: {{ enabled: true }} }} }}
    - {{ key: postfn-ep, remote: backend, route: {{ path: /forge/post-function }},
         auth: {{ appSystemToken: {{ enabled: true }} }} }}
    - {{ key: cron-ep, remote: backend, route: {{ path: /forge/scheduled }},
         auth: {{ appSystemToken: {{ enabled: true }} }} }}
    - {{ key: uninstall-ep, remote: backend, route: {{ path: /forge/pre-uninstall }},
         auth: {{ appSystemToken: {{ enabled: true }} }} }}
resources:
  - {{ key: panel-ui, path: static/panel }}
  - {{ key: admin-ui, path: static/admin }}
remotes:
  - key: backend
    baseUrl: https://remote.example.com
    operations: [storage, compute]
    storage: {{ inScopeEUD: true }}
permissions:
  scopes: [read:jira-work, write:jira-work, read:jira-user, manage:jira-configuration, read:app-system-token,
           read:app-user-token]
"""


def manifest(ignore_self: bool = True) -> str:
    return MANIFEST.replace("IGNORE_SELF", "true" if ignore_self else "false")


@dataclass
class Received:
    """One request the remote got, with the FIT's claims if it verified (`rejected` says why it did not)."""

    method: str
    path: str  # query included
    headers: dict[str, str]
    body: Any
    claims: dict[str, Any] = field(default_factory=dict)  # empty when the FIT was rejected
    kid: str | None = None
    rejected: str | None = None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)


# A scripted answer: a status, or a callable taking the request and returning (status, JSON body or None).
Answer = int | Callable[[Received], tuple[int, Any]]


@dataclass
class StandInRemote:
    """A Forge Remote on a loopback port. Set `jwks_url` (and the audience) once the site is up."""

    audience: str = APP_ID
    jwks_url: str | None = None
    received: list[Received] = field(default_factory=list)
    answers: defaultdict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    handlers: dict[str, Callable[[Received], tuple[int, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._jwks: jwt.PyJWKClient | None = None
        self.server = BackgroundServer(self._create_app(), name="forge-remote")

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> StandInRemote:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def answer(self, path: str, *answers: Answer) -> None:
        """Answer the next requests to `path` (no query) with these, then normally again."""
        with self._lock:
            self.answers[path].extend(answers)

    def handle(self, path: str, handler: Callable[[Received], tuple[int, Any]]) -> None:
        """Answer every request to `path` with `handler` (after the FIT check passed)."""
        self.handlers[path] = handler

    def calls(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.split("?", 1)[0] == path]

    def verify(self, token: str) -> dict[str, Any]:
        """A remote's FIT check (docs/forge.md §2): RS256 with the JWKS key named by `kid`, iss, aud, times."""
        if self._jwks is None:
            assert self.jwks_url, "set the remote's jwks_url before Forge calls it"
            # No cool-down between refetches for an unknown kid (PyJWKClient's default is 30 s), so a key rotation
            # is seen at once.
            self._jwks = jwt.PyJWKClient(self.jwks_url, cache_keys=True, cooldown_duration=0)
        key = self._jwks.get_signing_key_from_jwt(token).key
        return jwt.decode(token, key, algorithms=["RS256"], audience=self.audience, issuer="forge/invocation-token",
                          options={"require": ["exp", "iat", "nbf", "iss", "aud", "jti"]})

    def _create_app(self) -> Flask:
        app = Flask(__name__)

        @app.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def anything(rest: str) -> Response | tuple[Response | str, int]:
            received = Received(request.method, request.full_path.rstrip("?"), dict(request.headers),
                                request.get_json(silent=True))
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            try:
                if scheme != "Bearer" or not token:
                    raise jwt.InvalidTokenError("no Bearer FIT")
                received.kid = jwt.get_unverified_header(token).get("kid")
                received.claims = self.verify(token)
            except jwt.PyJWTError as exc:
                received.rejected = str(exc)
            with self._lock:
                self.received.append(received)
                scripted = self.answers[request.path]
                answer = scripted.popleft() if scripted else None
            if received.rejected:
                return jsonify(error=received.rejected), 401
            if callable(answer):
                status, body = answer(received)
            elif answer is not None:
                status, body = answer, None
            elif request.path in self.handlers:
                status, body = self.handlers[request.path](received)
            else:
                status, body = 204, None
            if body is None:
                return "", status
            return jsonify(body), status

        return app


def slow(seconds: float, status: int = 204) -> Callable[[Received], tuple[int, Any]]:
    """An answer that comes after `seconds` (to run into Forge's timeout)."""

    def answer(_: Received) -> tuple[int, Any]:
        time.sleep(seconds)
        return status, None

    return answer
