"""hubsync's web app: the Atlassian Connect side (descriptor, lifecycle, Jira's webhooks and post functions, the
issue panel and configure page shells), the iframe API, the EventBridge intake and health probes.

    app = create_app()            # config from the environment; gunicorn runs it with `hubsync serve`

Blueprints by concern: descriptor, connect (lifecycle), pages, hooks, api (/api/v1), events, health. Who may call:
- Jira's calls to the app (webhooks, the post function, the iframe pages) and the iframe API (with a context token)
  are behind `jira_auth.verified_jira` (HS256 with the tenant's shared secret, and the qsh); the lifecycle
  callbacks check tokens themselves: `installed`/`uninstalled` Atlassian's RS256 signed-install token (key from
  the install-key server), `enabled`/`disabled` the shared secret (`jira_auth.verify_jira_request`);
- the EventBridge intake (`/events`) wants the tenant's events API key;
- /metrics wants the bearer token HUBSYNC_METRICS_TOKEN when one is set;
- the descriptor, its icon, the front end's static files and /healthz, /readyz are public.
Answers are JSON, errors included (`errors.py`), except the page shells and post-function pages (HTML), the static
files and the icon (their own types), /metrics (Prometheus text) and the empty 204s of hooks and lifecycle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from hubsync.adapters.connect_keys import HttpInstallKeys, InstallKeys
from hubsync.adapters.store import Store
from hubsync.adapters.store.migrate import upgrade
from hubsync.domain.ports import HintQueue
from hubsync.service.json_input import load_json
from hubsync.web.app_accounts import AppAccounts, JiraAppAccounts
from hubsync.web.config import ConfigError, WebConfig
from hubsync.web.errors import register_error_handlers
from hubsync.web.services import EXTENSION, Services

__all__ = ["ConfigError", "create_app"]


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON with bounded nesting: every `request.get_json()` of every route refuses a body nested past
    `json_input.MAX_DEPTH` as malformed (None when silent, else a 400), instead of a `RecursionError` (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, super().loads, **kwargs)


def create_app(
    environ: Mapping[str, str] | None = None,
    *,
    store: Store | None = None,
    queue: HintQueue | None = None,
    install_keys: InstallKeys | None = None,
    app_accounts: AppAccounts | None = None,
) -> Flask:
    """The Flask app. Without arguments everything comes from the environment (HUBSYNC_BASE_URL,
    HUBSYNC_DATABASE_URL, HUBSYNC_SECRET_KEY, HUBSYNC_INSTALL_KEYS_URL, HUBSYNC_ALLOWED_JIRA_HOSTS,
    HUBSYNC_QUEUE_URL); tests pass their own store, queue or install keys. Migrations run on start-up."""
    environ = os.environ if environ is None else environ
    config = WebConfig.from_environment(environ)
    from hubsync.web import api, connect, descriptor, events, health, hooks, pages

    descriptor_bp = descriptor.descriptor_blueprint(config)  # reads and checks the template before anything else
    store = store if store is not None else Store.from_environment(environ)
    upgrade(store.engine)
    if queue is None:
        from hubsync.adapters.queue import queue_from_environment

        queue = queue_from_environment(environ, store)
    app = Flask(__name__, static_folder=None)
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False
    app.extensions[EXTENSION] = Services(
        config=config,
        store=store,
        queue=queue,
        install_keys=install_keys or HttpInstallKeys(config.install_keys_url),
        app_accounts=app_accounts or JiraAppAccounts(),
    )
    register_error_handlers(app)
    for blueprint in (
        descriptor_bp,
        connect.bp,
        pages.pages_blueprint(config),
        hooks.bp,
        api.bp,
        events.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    return app
