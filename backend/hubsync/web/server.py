"""`hubsync serve`: gunicorn running `create_app()` in each worker (not preloaded, so no database connection is
shared across a fork). Configuration errors surface before gunicorn starts, with the message to act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import BaseApplication

from hubsync.config import Settings
from hubsync.web.descriptor import render_descriptor


class _Gunicorn(BaseApplication):
    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from hubsync.web import create_app

        return create_app()  # each worker process reads the settings and opens its own store


def serve(bind: str, workers: int, settings: Settings) -> None:
    """Run the web app until stopped; raises `ConfigError` early when the environment is incomplete."""
    settings.require_secret_keys()
    render_descriptor(settings)  # fail fast: base URL and descriptor template
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": "-",
        # Jira's JWTs travel in query strings (iframe loads): log the path only, never the query.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    _Gunicorn(options).run()
