"""Serve a WSGI app on a loopback port from a background thread, so tests and the CLI can run simulators."""

from __future__ import annotations

import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: simulators answer thousands of calls in a test run."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class BackgroundServer:
    """A threaded WSGI server on 127.0.0.1; port 0 picks a free port."""

    def __init__(self, app: Any = None, host: str = "127.0.0.1", port: int = 0, name: str = "server") -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=name, daemon=True)
        self.host = host
        self.port = self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def mount(self, app: Any) -> BackgroundServer:
        """Set the app after binding: apps that must know their own URL are built once the port is known."""
        self._server.app = app
        return self

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """A port that is free right now on 127.0.0.1 (for servers that cannot bind port 0 themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
