"""Fetching Connect's install keys over HTTP: one fetch per kid, then the cache; unusable answers refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, Response

from hubsync.adapters.connect_keys import HttpInstallKeys, InstallKeyUnavailable
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira.install_keys import InstallKeyServer


@pytest.fixture(scope="module")
def key_host() -> Iterator[tuple[str, InstallKeyServer, list[str]]]:
    """The sandbox key server behind a counter, plus a kid that answers something other than a key."""
    keys = InstallKeyServer()
    asked: list[str] = []
    app = Flask(__name__)

    @app.get("/<kid>")
    def key(kid: str) -> Response:
        asked.append(kid)
        if kid == "not-a-pem":
            return Response("<html>hello</html>", mimetype="text/html")
        return keys.wsgi_app.view_functions["public_key"](kid)

    server = BackgroundServer(app, name="install-keys").start()
    yield server.url, keys, asked
    server.stop()


def test_a_key_is_fetched_once_per_kid(key_host) -> None:
    url, keys, asked = key_host
    client = HttpInstallKeys(url)
    assert client.public_key(keys.kid) == keys.public_pem
    assert client.public_key(keys.kid) == keys.public_pem
    assert asked.count(keys.kid) == 1


@pytest.mark.parametrize(
    ("kid", "reason"),
    [("unknown-kid", "HTTP 404"), ("not-a-pem", "not a PEM"), ("../admin", "not a key id"), ("a/b", "not a key id")],
)
def test_unusable_keys_are_refused(key_host, kid: str, reason: str) -> None:
    url, _, _ = key_host
    with pytest.raises(InstallKeyUnavailable, match=reason):
        HttpInstallKeys(url).public_key(kid)


def test_an_unreachable_key_server_is_unavailable() -> None:
    from hubsync_sandbox.httpserver import free_port

    with pytest.raises(InstallKeyUnavailable, match="could not be reached"):
        HttpInstallKeys(f"http://127.0.0.1:{free_port()}", timeout_s=1).public_key("some-kid")
