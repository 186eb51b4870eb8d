"""The Connect descriptor: `connect-descriptor/atlassian-connect.json` with `baseUrl` filled in from
HUBSYNC_BASE_URL, served at `GET /atlassian-connect.json` (what a Jira admin installs from) and printed by
`hubsync descriptor`. The template is read and checked once, at start-up."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory

from hubsync.config import RESOURCES_DIR, ConfigError, Settings
from hubsync.domain.tenant import APP_KEY

DESCRIPTOR_DIR = "connect-descriptor"
TEMPLATE_NAME = "atlassian-connect.json"
ICON_NAME = "icon.svg"
BASE_URL_PLACEHOLDER = "${HUBSYNC_BASE_URL}"


def descriptor_dir(config: Settings) -> Path:
    return config.resources_dir / DESCRIPTOR_DIR


def load_template(config: Settings) -> dict[str, Any]:
    path = descriptor_dir(config) / TEMPLATE_NAME
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"the Connect descriptor template {path} is missing: set {RESOURCES_DIR} to the directory "
            f"holding {DESCRIPTOR_DIR}/ and ui-templates/ (the source checkout, or /app in the container image)"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"the Connect descriptor template {path} is not JSON: {exc}") from None
    if not isinstance(template, dict) or template.get("baseUrl") != BASE_URL_PLACEHOLDER:
        raise ConfigError(f"the Connect descriptor template {path} must have \"baseUrl\": \"{BASE_URL_PLACEHOLDER}\"")
    if template.get("key") != APP_KEY:
        raise ConfigError(f"the Connect descriptor template's key must be {APP_KEY!r}, the key hubsync signs with")
    return template


def render_descriptor(config: Settings, template: dict[str, Any] | None = None) -> dict[str, Any]:
    descriptor = copy.deepcopy(template if template is not None else load_template(config))
    descriptor["baseUrl"] = config.require_base_url()
    return descriptor


def descriptor_blueprint(config: Settings) -> Blueprint:
    descriptor = render_descriptor(config)
    icons = descriptor_dir(config)
    bp = Blueprint("descriptor", __name__)

    @bp.get("/atlassian-connect.json")
    def atlassian_connect() -> Response:
        return jsonify(descriptor)

    @bp.get(f"/connect/{ICON_NAME}")
    def icon() -> Response:
        return send_from_directory(icons, ICON_NAME, mimetype="image/svg+xml", max_age=3600)

    return bp
