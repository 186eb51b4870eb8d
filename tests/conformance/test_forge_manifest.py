"""The Forge app hubsync ships, checked by Atlassian's own validator: `hubsync forge manifest --out` for a sample base
URL and app id, with the Custom UI resources `make forge-ui` built, passes `@forge/manifest`'s full validation
(`validate(false, path)`: schema, cross references between modules, endpoints, remotes and resources, trigger rules),
offline, through node; a broken copy is reported. And the resources obey Forge's Content-Security-Policy: no inline
script, nothing from another origin.

Needs node and the npm packages (`make forge-ui` installs both and builds the resources); skips, saying so, without
node or node_modules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from hubsync.config import CHECKOUT_ROOT, Settings
from hubsync.web.forge_manifest import BUILD_DIR, FORGE_DIR, RESOURCE_KEYS, write_app

VALIDATOR = CHECKOUT_ROOT / FORGE_DIR / "validate-manifest.cjs"
BUILD = CHECKOUT_ROOT / FORGE_DIR / BUILD_DIR
BASE_URL = "https://hubsync.example.com"
APP_ID = "ari:cloud:ecosystem::app/0b0a9c3e-5a7f-4d2b-9d59-1c6f1f0e6b21"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the Forge manifest is validated by @forge/manifest, a node package")
    for package in ("@forge/manifest", "tslib"):
        if not (CHECKOUT_ROOT / "node_modules" / package / "package.json").is_file():
            pytest.skip(f"node_modules/{package} is not installed (`make forge-ui` runs npm ci)")
    return found


@pytest.fixture(scope="module")
def built(node: str) -> Path:
    missing = [key for key in RESOURCE_KEYS if not (BUILD / key / "index.html").is_file()]
    if missing:
        pytest.fail(f"the Forge Custom UI resources are not built ({', '.join(missing)}): run `make forge-ui`")
    return BUILD


@pytest.fixture
def app(built: Path, tmp_path: Path) -> Path:
    settings = Settings.from_environment(
        {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_FORGE_APP_ID": APP_ID, "HUBSYNC_RESOURCES_DIR": str(CHECKOUT_ROOT)}
    )
    return write_app(settings, tmp_path / "hubsync-forge").directory


def validate(node: str, manifest: Path) -> dict[str, Any]:
    run = subprocess.run(
        [node, str(VALIDATOR), str(manifest)], cwd=CHECKOUT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode in (0, 1), run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_the_rendered_app_passes_atlassians_full_validation(node: str, app: Path) -> None:
    result = validate(node, app / "manifest.yml")

    assert result == {"success": True, "errors": []}, json.dumps(result, indent=2)


def test_the_manifest_names_the_remote_and_the_app(app: Path) -> None:
    manifest = (app / "manifest.yml").read_text()

    assert f'  id: "{APP_ID}"' in manifest
    assert f'    baseUrl: "{BASE_URL}"' in manifest
    assert "${" not in manifest
    for key in RESOURCE_KEYS:
        assert (app / "resources" / key / "index.html").is_file()


def test_a_broken_copy_is_reported(node: str, app: Path) -> None:
    manifest = app / "manifest.yml"
    text = manifest.read_text()
    broken = text.replace("      route:\n        path: /forge/events\n", "", 1)  # a trigger's endpoint, unrouted
    broken = broken.replace("      resource: panel\n", "      resource: nope\n", 1)  # the issue panel's resource
    broken = broken.replace("    - key: hubsync-scheduled-endpoint\n", "    - key: hubsync-scheduled-ep\n", 1)
    assert broken.count("\n") == text.count("\n") - 2
    manifest.write_text(broken)

    result = validate(node, manifest)

    assert result["success"] is False
    messages = [error["message"] for error in result["errors"]]
    expected = [
        "Trigger module: 'hubsync-issue-events' using remote endpoint: 'hubsync-events-endpoint' requires 'route' "
        "parameter.",
        "missing resource key 'nope' is being referenced by jira:issuePanel module",
    ]
    for message in expected:
        assert message in messages, json.dumps(result, indent=2)
    assert any("hubsync-scheduled-endpoint" in message for message in messages), json.dumps(result, indent=2)


class _Page(HTMLParser):
    """What an HTML page loads and runs: script sources, inline scripts, other URLs, event handler attributes."""

    URL_ATTRIBUTES = frozenset({"src", "href", "action", "formaction", "srcset", "poster", "data", "background"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str | None] = []
        self.urls: list[str] = []
        self.handlers: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in_script = True
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in self.URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.urls.append(values.get("content") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


LOCAL_FILE = re.compile(r"^\./[A-Za-z0-9_.-]+$")  # a file beside index.html, e.g. ./app.js


@pytest.mark.parametrize("key", RESOURCE_KEYS)
def test_each_resource_loads_only_its_own_files_and_no_inline_script(built: Path, key: str) -> None:
    index = built / key / "index.html"
    html = index.read_text()
    page = _Page()
    page.feed(html)

    assert page.scripts, f"{index} loads no script"
    assert None not in page.scripts, f"{index} has an inline <script>"
    assert page.inline == []
    assert page.handlers == [], f"{index} has inline event handlers"
    for url in page.urls:
        assert LOCAL_FILE.match(url), f"{index} loads {url!r}: only files beside it (Forge's CSP: 'self')"
        assert (built / key / url).is_file(), f"{index} loads {url}, which is not in the resource"
    assert not re.search(r"https?:|//[a-z]|javascript:|<base\b", html, re.IGNORECASE)


@pytest.mark.parametrize("key", RESOURCE_KEYS)
def test_the_stylesheets_load_nothing_from_elsewhere(built: Path, key: str) -> None:
    for stylesheet in (built / key).glob("*.css"):
        css = stylesheet.read_text()
        assert "@import" not in css, stylesheet
        assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", css, re.IGNORECASE), stylesheet


def test_the_bundles_carry_the_forge_bridge_and_no_module_import(built: Path) -> None:
    """One file a resource: every import (the Forge packages included) is bundled, none left for the browser."""
    for key, entry in (("panel", "app.js"), ("configure", "app.js"), ("post-function", "post-function.js")):
        bundle = (built / key / entry).read_text()
        assert "ui-${" in bundle and "-fetch" in bundle, f"{key}: @forge/bridge's invokeRemote is not bundled"
        assert not re.search(r"""\bimport\s*\(\s*["'`]|^\s*import\s|\bfrom\s*["'][@./]""", bundle, re.MULTILINE), key
