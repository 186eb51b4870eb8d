"""`hubsync forge manifest`: the Forge manifest template filled in from HUBSYNC_FORGE_APP_ID and HUBSYNC_BASE_URL,
printed, or written with the built Custom UI resources as an app directory; a clear error (exit 2) when a value is
missing or wrong. Atlassian's validator checks the result in tests/conformance/test_forge_manifest.py."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from hubsync.cli import main
from hubsync.config import CHECKOUT_ROOT, ConfigError, Settings
from hubsync.web.forge_manifest import (
    BUILD_DIR,
    FORGE_DIR,
    RESOURCE_KEYS,
    load_template,
    render_manifest,
    write_app,
)

BASE_URL = "https://hubsync.example.com"
APP_ID = "ari:cloud:ecosystem::app/0b0a9c3e-5a7f-4d2b-9d59-1c6f1f0e6b21"


@pytest.fixture
def resources(tmp_path: Path) -> Path:
    """A resources dir with the real template and stand-in built resources."""
    root = tmp_path / "resources"
    (root / FORGE_DIR).mkdir(parents=True)
    shutil.copy(CHECKOUT_ROOT / FORGE_DIR / "manifest.yml", root / FORGE_DIR / "manifest.yml")
    for key in RESOURCE_KEYS:
        built = root / FORGE_DIR / BUILD_DIR / key
        built.mkdir(parents=True)
        (built / "index.html").write_text(f"<!doctype html><title>{key}</title>")
    return root


def settings(resources: Path, **environ: str) -> Settings:
    values = {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_FORGE_APP_ID": APP_ID, "HUBSYNC_RESOURCES_DIR": str(resources)}
    values.update(environ)
    return Settings.from_environment({name: value for name, value in values.items() if value})


def test_the_manifest_gets_the_app_id_and_the_remotes_base_url(resources: Path) -> None:
    manifest = render_manifest(settings(resources))

    assert f'  id: "{APP_ID}"\n' in manifest
    assert f'    baseUrl: "{BASE_URL}"\n' in manifest
    assert "${" not in manifest
    assert "# Creating and editing tickets" in manifest  # the scopes' reasons stay for the admin who deploys it


def test_the_checkout_template_has_each_placeholder_once_as_a_whole_value() -> None:
    config = dataclasses.replace(Settings(), resources_dir=CHECKOUT_ROOT)
    template = load_template(config)

    assert template.count("${HUBSYNC_FORGE_APP_ID}") == 1
    assert template.count("${HUBSYNC_BASE_URL}") == 1


def test_a_template_that_lost_a_placeholder_is_refused(resources: Path) -> None:
    template = resources / FORGE_DIR / "manifest.yml"
    template.write_text(template.read_text().replace("${HUBSYNC_BASE_URL}", "https://fixed.example.com"))

    with pytest.raises(ConfigError, match=r"\$\{HUBSYNC_BASE_URL\} once"):
        render_manifest(settings(resources))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HUBSYNC_FORGE_APP_ID": ""}, "HUBSYNC_FORGE_APP_ID is not set"),
        ({"HUBSYNC_BASE_URL": ""}, "HUBSYNC_BASE_URL is not set"),
        ({"HUBSYNC_BASE_URL": "http://127.0.0.1:8080"}, "https only"),
    ],
)
def test_missing_or_unusable_values_are_named(resources: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render_manifest(settings(resources, **environ))


@pytest.mark.parametrize(
    "app_id",
    [
        "0b0a9c3e",
        "ari:cloud:ecosystem::app/not-a-uuid",
        f"{APP_ID}\n  extra: true",
        "ari:cloud:jira::site/1",
    ],
)
def test_an_app_id_that_is_not_an_app_ari_is_refused(resources: Path, app_id: str) -> None:
    """Refused where the environment is read, before anything is rendered (a value spliced into the YAML could
    add keys to the manifest)."""
    with pytest.raises(ConfigError, match="HUBSYNC_FORGE_APP_ID"):
        settings(resources, HUBSYNC_FORGE_APP_ID=app_id)


def test_the_app_directory_holds_the_manifest_and_the_resources(resources: Path, tmp_path: Path) -> None:
    out = tmp_path / "app"
    out.mkdir()
    (out / "package.json").write_text('{"name": "mine"}')  # an admin's own files stay
    (out / "resources" / "stale").mkdir(parents=True)  # an older build's leftovers go

    app = write_app(settings(resources), out)

    assert app.manifest == out / "manifest.yml"
    assert f'"{APP_ID}"' in app.manifest.read_text()
    assert sorted(path.name for path in (out / "resources").iterdir()) == sorted(RESOURCE_KEYS)
    assert (out / "resources" / "panel" / "index.html").read_text() == "<!doctype html><title>panel</title>"
    assert json.loads((out / "package.json").read_text()) == {"name": "mine"}


def test_a_fresh_app_directory_gets_a_package_json(resources: Path, tmp_path: Path) -> None:
    app = write_app(settings(resources), tmp_path / "fresh" / "app")

    assert json.loads((app.directory / "package.json").read_text())["private"] is True


def test_without_the_built_resources_the_fix_is_named(resources: Path, tmp_path: Path) -> None:
    shutil.rmtree(resources / FORGE_DIR / BUILD_DIR / "configure")

    with pytest.raises(ConfigError, match=r"configure missing .* run `make forge-ui`"):
        write_app(settings(resources), tmp_path / "app")
    assert not (tmp_path / "app").exists()


def test_the_command_prints_the_manifest(
    resources: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_FORGE_APP_ID": APP_ID,
                        "HUBSYNC_RESOURCES_DIR": str(resources)}.items():
        monkeypatch.setenv(name, value)

    assert main(["forge", "manifest"]) == 0
    assert capsys.readouterr().out == render_manifest(settings(resources))


def test_the_command_writes_the_app_directory(
    resources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_FORGE_APP_ID": APP_ID,
                        "HUBSYNC_RESOURCES_DIR": str(resources)}.items():
        monkeypatch.setenv(name, value)

    assert main(["forge", "manifest", "--out", str(tmp_path / "app")]) == 0
    assert (tmp_path / "app" / "manifest.yml").is_file()
    assert "forge deploy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HUBSYNC_FORGE_APP_ID": None}, "HUBSYNC_FORGE_APP_ID"),
        ({"HUBSYNC_FORGE_APP_ID": "ari:cloud:ecosystem::app/nope"}, "HUBSYNC_FORGE_APP_ID"),
        ({"HUBSYNC_BASE_URL": None}, "HUBSYNC_BASE_URL"),
    ],
)
def test_the_command_exits_2_naming_the_variable(
    resources: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str | None],
    message: str,
) -> None:
    values: dict[str, str | None] = {"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_FORGE_APP_ID": APP_ID,
                                     "HUBSYNC_RESOURCES_DIR": str(resources), **environ}
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    assert main(["forge", "manifest"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("hubsync: ") and message in captured.err


def test_the_readmes_forge_section_tells_what_the_shipped_manifest_declares() -> None:
    """The README's install steps and tables are what a Jira admin reads before approving the app: every module,
    route and scope of the manifest the project ships is named there, and nothing it does not ship."""
    import re

    import yaml

    manifest = yaml.safe_load((CHECKOUT_ROOT / FORGE_DIR / "manifest.yml").read_text())
    readme = (CHECKOUT_ROOT / "README.md").read_text()
    section = readme[readme.index("## Installing hubsync on Jira Cloud as a Forge app"):]
    section = section[: section.index("\n## ", 1)]

    for module in manifest["modules"]:
        if module != "endpoint":
            assert f"`{module}`" in section, f"the README's Forge section does not name {module}"
    routes = {endpoint["route"]["path"] for endpoint in manifest["modules"]["endpoint"] if "route" in endpoint}
    assert routes == set(re.findall(r"`POST (/forge/[a-z-]+)`", section))
    for scope in manifest["permissions"]["scopes"]:
        assert f"`{scope}`" in section, f"the README's Forge section does not explain the scope {scope}"
    named_scopes = set(re.findall(r"`((?:read|write|manage|storage)[:a-z-]+)`", section))
    assert named_scopes <= set(manifest["permissions"]["scopes"]), "the README names a scope the app does not ask"
