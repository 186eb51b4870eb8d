"""The Forge app: `connect-descriptor/forge/manifest.yml` with the app id and the remote's base URL filled in from
HUBSYNC_FORGE_APP_ID and HUBSYNC_BASE_URL, printed by `hubsync forge manifest`, or written with the Custom UI
resources (built by `make forge-ui` into `connect-descriptor/forge/build/`) as a directory `forge deploy` takes.

The template is text with two placeholders, each the whole value of one key; the values go in as YAML
double-quoted scalars (JSON strings), so nothing in them can change the manifest's structure. Atlassian's own
validator (`@forge/manifest`) checks the result in tests/conformance/test_forge_manifest.py.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hubsync.config import FORGE_APP_ID, RESOURCES_DIR, ConfigError, Settings

FORGE_DIR = "connect-descriptor/forge"
TEMPLATE_NAME = "manifest.yml"
BUILD_DIR = "build"  # what `make forge-ui` (connect-descriptor/forge/build-ui.mjs) writes: one directory a resource
RESOURCES_OUT = "resources"  # where the manifest's `resources[].path` point, in the app directory
RESOURCE_KEYS = ("panel", "configure", "post-function")
APP_ID_PLACEHOLDER = "${HUBSYNC_FORGE_APP_ID}"
BASE_URL_PLACEHOLDER = "${HUBSYNC_BASE_URL}"
BASE_URL_VARIABLE = "HUBSYNC_BASE_URL"
# Forge needs a package.json in an app directory; the app has no functions, so it declares no dependencies.
PACKAGE_JSON = {
    "name": "hubsync-forge",
    "version": "1.0.0",
    "private": True,
    "description": "hubsync as a Forge app (Forge Remote): written by `hubsync forge manifest --out`; deploy with "
    "`forge deploy`. No functions: every module calls the hubsync service.",
}


def forge_dir(config: Settings) -> Path:
    return config.resources_dir / FORGE_DIR


def load_template(config: Settings) -> str:
    path = forge_dir(config) / TEMPLATE_NAME
    try:
        template = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"the Forge manifest template {path} is missing: set {RESOURCES_DIR} to the directory holding "
            f"connect-descriptor/ and ui-templates/ (the source checkout, or /app in the container image)"
        ) from None
    for placeholder in (APP_ID_PLACEHOLDER, BASE_URL_PLACEHOLDER):
        uses = re.findall(rf":[ \t]*{re.escape(placeholder)}[ \t]*(?:#.*)?$", template, flags=re.MULTILINE)
        if len(uses) != 1 or template.count(placeholder) != 1:
            raise ConfigError(f"the Forge manifest template {path} must use {placeholder} once, as a whole value")
    return template


def app_id(config: Settings) -> str:
    """The Forge app's id (`ari:cloud:ecosystem::app/<uuid>`) from HUBSYNC_FORGE_APP_ID."""
    value = config.forge_app_id  # Settings checked its shape (and made a bare uuid the full ari)
    if not value:
        raise ConfigError(
            f"{FORGE_APP_ID} is not set: set it to the app id `forge register` wrote into its manifest, "
            "ari:cloud:ecosystem::app/<uuid>"
        )
    return value


def base_url(config: Settings) -> str:
    if not config.base_url:
        raise ConfigError(
            f"{BASE_URL_VARIABLE} is not set: set it to the public https URL Forge reaches hubsync at "
            "(the manifest's remote baseUrl)"
        )
    if urlsplit(config.base_url).scheme != "https":
        raise ConfigError(f"{BASE_URL_VARIABLE}={config.base_url!r}: Forge reaches its remotes over https only")
    return config.base_url


def render_manifest(config: Settings, template: str | None = None) -> str:
    """The manifest's text for this deployment (comments kept: it is what an admin reads before deploying)."""
    text = template if template is not None else load_template(config)
    values = {APP_ID_PLACEHOLDER: app_id(config), BASE_URL_PLACEHOLDER: base_url(config)}
    for placeholder, value in values.items():
        text = text.replace(placeholder, json.dumps(value))
    return text


@dataclass(frozen=True)
class ForgeApp:
    directory: Path
    manifest: Path
    resources: tuple[Path, ...]


def built_resources(config: Settings) -> dict[str, Path]:
    """The Custom UI resources `make forge-ui` built, by resource key; an error naming the fix when one is missing."""
    build = forge_dir(config) / BUILD_DIR
    found = {key: build / key for key in RESOURCE_KEYS}
    missing = [key for key, path in found.items() if not (path / "index.html").is_file()]
    if missing:
        raise ConfigError(
            f"the Forge Custom UI resources are not built ({', '.join(missing)} missing in {build}): run "
            "`make forge-ui` in the source checkout (npm ci + esbuild)"
        )
    return found


def write_app(config: Settings, out: Path) -> ForgeApp:
    """A Forge app directory at `out`: manifest.yml, resources/<key>/ (replaced), and a package.json when there is
    none. Other files in `out` are left alone (e.g. what `forge register` wrote there)."""
    manifest = render_manifest(config)
    sources = built_resources(config)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    resources_dir = out / RESOURCES_OUT
    if resources_dir.exists():
        shutil.rmtree(resources_dir)
    copied = []
    for key, source in sources.items():
        target = resources_dir / key
        shutil.copytree(source, target)
        copied.append(target)
    manifest_path = out / TEMPLATE_NAME
    manifest_path.write_text(manifest, encoding="utf-8")
    package = out / "package.json"
    if not package.exists():
        package.write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n", encoding="utf-8")
    return ForgeApp(directory=out, manifest=manifest_path, resources=tuple(copied))
