"""hubsync's web app: the Atlassian Connect side (descriptor, lifecycle, Jira's webhooks and post functions, the
issue panel and configure page shells), the iframe API, the EventBridge intake and health probes.

    app = create_app(bootstrap(settings))   # gunicorn runs it with `hubsync serve`

Blueprints by concern: descriptor, connect (lifecycle), pages, hooks, api (/api/v1), jira_api (/api/v1/jira: what
the tenant's Jira has, for the configure page's pickers), workflow_api (/api/v1/settings/risk-workflow: set up
the risk workflow), events, health. Who may call:
- Jira's calls to the app (webhooks, the post function, the iframe pages) and the iframe API (with a context token)
  are behind `jira_auth.verified_jira` (HS256 with the tenant's shared secret, and the qsh); the lifecycle
  callbacks check tokens themselves: `installed`/`uninstalled` Atlassian's RS256 signed-install token (key from
  the install-key server), `enabled`/`disabled` the shared secret (`jira_auth.verify_jira_request`);
- the EventBridge intake (`/events`) wants the tenant's events API key;
- the admin webhook's deliveries (`/webhooks/jira`, Data Center and API-token sites) its signature or URL token;
- /metrics wants the bearer token HUBSYNC_METRICS_TOKEN when one is set;
- the descriptor, its icon, the front end's static files and /healthz, /readyz are public.
Answers are JSON, errors included (`errors.py`), except the page shells and post-function pages (HTML), the static
files and the icon (their own types), /metrics (Prometheus text) and the empty 204s of hooks and lifecycle.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from hubsync.bootstrap import Runtime, bootstrap
from hubsync.config import ConfigError
from hubsync.service.json_input import load_json
from hubsync.web.errors import register_error_handlers
from hubsync.web.services import EXTENSION, Services

__all__ = ["ConfigError", "create_app"]


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON with bounded nesting: every `request.get_json()` of every route refuses a body nested past
    `json_input.MAX_DEPTH` as malformed (None when silent, else a 400), instead of a `RecursionError` (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, super().loads, **kwargs)


def create_app(runtime: Runtime | None = None) -> Flask:
    """The Flask app on what `bootstrap` built (default: from the environment, the store migrated); tests build
    their own runtime. Raises `ConfigError` when HUBSYNC_BASE_URL is unset or the descriptor template is
    missing."""
    runtime = bootstrap() if runtime is None else runtime
    config = runtime.settings
    config.require_base_url()
    from hubsync.web import (
        api,
        connect,
        descriptor,
        events,
        forge,
        health,
        hooks,
        jira_api,
        jira_webhooks,
        pages,
        workflow_api,
    )

    descriptor_bp = descriptor.descriptor_blueprint(config)  # reads and checks the template before anything else
    app = Flask(__name__, static_folder=None)
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False
    app.extensions[EXTENSION] = Services(runtime)
    register_error_handlers(app)
    for blueprint in (
        descriptor_bp,
        connect.bp,
        pages.pages_blueprint(config),
        hooks.bp,
        jira_webhooks.bp,
        forge.bp,
        api.bp,
        jira_api.bp,
        workflow_api.bp,
        events.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    return app
