"""Test doubles around the Connect platform: a Jira Cloud site with Connect, and a tiny Connect app.

The app checks what Jira sends the way a real Connect app must (signed install against the key server,
HS256 with the shared secret, `qsh` relative to its baseUrl) and answers 401 when a check fails, so a
successful install or delivery is itself evidence that the sandbox signed correctly. Tests script its
answers per path and read back what it received.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import Flask, Response, request

from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira.app import create_jira_app
from hubsync_sandbox.jira.connect import connect_blueprint
from hubsync_sandbox.jira.connect_jwt import JwtRejected, query_hash, token_from, verify_hs256
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from hubsync_sandbox.jira.world import JiraWorld

APP_KEY = "com.example.findings-test"
PREFIX = "/app"  # the app's baseUrl has a path, so every qsh must be relative to it


class Servers:
    """Loopback servers for Jira, the install-key server and the app; each test mounts fresh apps on them."""

    def __init__(self) -> None:
        self.keys = InstallKeyServer()
        self.keys_server = BackgroundServer(self.keys.wsgi_app, name="install-keys").start()
        self.jira = BackgroundServer(name="jira-cloud").start()
        self.app = BackgroundServer(name="connect-app").start()

    def stop(self) -> None:
        for server in (self.app, self.jira, self.keys_server):
            server.stop()


class JiraSite:
    """A fresh Cloud Jira simulator with the Connect platform, served on the Jira server."""

    def __init__(self, servers: Servers) -> None:
        self.keys = servers.keys
        self.keys_url = servers.keys_server.url
        self.url = servers.jira.url
        self.world = JiraWorld("cloud", self.url)
        servers.jira.mount(create_jira_app(self.world, extra_blueprints=[connect_blueprint(self.world, self.keys)]))

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/_sandbox/connect/{path}", timeout=10, **kwargs)

    def install(self, app: ConnectApp) -> requests.Response:
        return self.control("POST", "install", json={"descriptorUrl": app.descriptor_url})

    def deliveries(self) -> list[dict[str, Any]]:
        """Every recorded delivery, once the delivery worker has nothing left to send."""
        body = self.control("GET", "deliveries", params={"wait_ms": 5000}).json()
        assert body["idle"], "deliveries still pending after 5 s"
        return body["deliveries"]


@dataclass
class Received:
    """One request the app got, with the outcome of its own checks (`rejected` is why it answered 401)."""

    method: str
    path: str  # relative to the app's baseUrl, query included
    headers: dict[str, str]
    body: Any
    claims: dict[str, Any] | None = None
    rejected: str | None = None


@dataclass
class ConnectApp:
    """A Connect app served on the app server, with the modules a test gives it."""

    servers: Servers
    modules: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)  # top-level descriptor fields; None removes one
    answers: defaultdict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    received: list[Received] = field(default_factory=list)
    tenant: dict[str, Any] | None = None  # the last installed payload it accepted

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.servers.app.mount(self._create_app())
        self.base_url = self.servers.app.url + PREFIX
        self.descriptor_url = f"{self.base_url}/atlassian-connect.json"

    def descriptor(self) -> dict[str, Any]:
        descriptor = {
            "key": APP_KEY,
            "name": "Findings test app",
            "baseUrl": self.base_url,
            "authentication": {"type": "jwt"},
            "apiMigrations": {"signed-install": True, "context-qsh": True, "gdpr": True},
            "scopes": ["READ", "WRITE"],
            "lifecycle": {
                "installed": "/connect/installed",
                "uninstalled": "/connect/uninstalled",
                "enabled": "/connect/enabled",
                "disabled": "/connect/disabled",
            },
            "modules": self.modules,
        }
        descriptor.update(self.overrides)
        return {name: value for name, value in descriptor.items() if value is not None}

    def answer(self, path: str, *statuses: int) -> None:
        """Answer the next requests to `path` (no query) with these statuses, then normally again."""
        self.answers[path].extend(statuses)

    def calls(self, path_prefix: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.startswith(path_prefix)]

    # -- the app's side of the protocol ---------------------------------------------------------------------
    def _create_app(self) -> Flask:
        app = Flask(__name__)

        @app.get(f"{PREFIX}/atlassian-connect.json")
        def descriptor() -> Response:
            return Response(json.dumps(self.descriptor()), mimetype="application/json")

        @app.route(f"{PREFIX}/<path:rest>", methods=["GET", "POST"])
        def anything(rest: str) -> tuple[str, int]:
            target = request.full_path.removeprefix(PREFIX).rstrip("?")
            body = request.get_json(silent=True)
            received = Received(request.method, target, dict(request.headers), body)
            try:
                received.claims = self._verify(target, body)
            except (JwtRejected, jwt.PyJWTError) as exc:
                received.rejected = str(exc)
            with self._lock:
                self.received.append(received)
                scripted = self.answers[request.path.removeprefix(PREFIX)]
                status = scripted.popleft() if scripted else None
            if received.rejected:
                return received.rejected, 401
            if rest == "connect/installed" and status is None:
                self.tenant = body
            return "", status or (200 if request.method == "GET" else 204)

        return app

    def _verify(self, target: str, body: Any) -> dict[str, Any]:
        token = token_from(request.headers.get("Authorization"), request.args.get("jwt"))
        _require(token is not None, "no JWT")
        if request.path.endswith(("/connect/installed", "/connect/uninstalled")):
            return self._verify_signed_install(token, target, body)
        tenant = self.tenant or {}
        return verify_hs256(
            token,
            lambda iss: tenant.get("sharedSecret") if iss == tenant.get("clientKey") else None,
            request.method,
            target,
        )

    def _verify_signed_install(self, token: str, target: str, body: Any) -> dict[str, Any]:
        """Atlassian's steps for a signed install: RS256 with the `kid`'s public key, aud, iss, qsh."""
        header = jwt.get_unverified_header(token)
        _require(header.get("alg") == "RS256" and "kid" in header, f"not an RS256 token with a kid: {header}")
        pem = requests.get(f"{self.servers.keys_server.url}/{header['kid']}", timeout=5)
        _require(pem.status_code == 200, f"key server answered {pem.status_code}")
        claims = jwt.decode(token, pem.text, algorithms=["RS256"], audience=self.base_url)
        _require(claims["iss"] == body["clientKey"], "iss is not the clientKey")
        _require(claims["qsh"] == query_hash(request.method, target), "qsh does not match")
        _require("sub" not in claims, "a system call carries no sub")
        return claims


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise JwtRejected(reason)
