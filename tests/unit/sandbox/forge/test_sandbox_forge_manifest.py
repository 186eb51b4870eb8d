"""Reading manifest.yml: what the simulator takes from it, what it refuses (as Forge's validator does), and the
project's own manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubsync_sandbox.forge import ManifestError, load_manifest
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import APP_ID, manifest

REPO = Path(__file__).resolve().parents[4]
PROJECT_MANIFEST = REPO / "connect-descriptor" / "forge" / "manifest.yml"


def test_the_test_manifest_is_read_in_full(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yml"
    path.write_text(manifest())

    for source in (path, str(path), manifest()):
        parsed = load_manifest(source)
        assert parsed.app_id == APP_ID
        assert [(t.key, t.endpoint, t.ignore_self) for t in parsed.triggers] == [
            ("issue-events", "events-ep", True), ("lifecycle", "lifecycle-ep", False)]
        assert [(t.key, t.interval) for t in parsed.scheduled_triggers] == [("hourly", "hour")]
        assert [m.key for m in parsed.pre_uninstall] == ["pre-uninstall"]
        assert [(m.key, m.endpoint) for m in parsed.post_functions] == [("test-postfn", "postfn-ep")]
        assert {k: (m.type, m.endpoint, m.resource) for k, m in parsed.ui_modules.items()} == {
            "test-panel": ("jira:issuePanel", "test-ui", "panel-ui"),
            "test-configure": ("jira:adminPage", "test-ui", "admin-ui"),
        }
        ui = parsed.endpoints["test-ui"]
        assert (ui.route_path, ui.system_token, ui.user_token) == (None, True, True)
        assert parsed.endpoints["events-ep"].route_path == "/forge/events"
        assert parsed.remotes["backend"].base_url == "https://remote.example.com"
        assert "read:app-system-token" in parsed.scopes


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: ari:cloud:ecosystem::app/", "id: app/", "not a Forge app id"),
        ("      route: { path: /forge/events }\n", "", "requires 'route' parameter"),
        ("route: { path: /forge/events }\n      auth: { appSystemToken",
         "route: { path: /forge/events }\n      auth: { appUserToken", "only supports appSystemToken"),
        ("events: [avi:forge:installed:app, avi:forge:upgraded:app]",
         "events: [avi:forge:installed:app]\n      filter: { ignoreSelf: true }", "ignoreSelf works only with Jira"),
        ("endpoint: postfn-ep", "endpoint: nope-ep", "'nope-ep' is not an endpoint module"),
        ("endpoint: postfn-ep", "function: postfn", "runs no Forge functions"),
        ("resolver: { endpoint: test-ui }\n      title", "resolver: { endpoint: nope }\n      title",
         "resolver.endpoint 'nope'"),
        ("read:app-system-token,", "", "Missing app scopes"),
        ("remote: backend\n      auth", "remote: elsewhere\n      auth", "names remote 'elsewhere'"),
        ("interval: hour", "interval: minute", "interval must be one of"),
        ("baseUrl: https://remote.example.com", "operations: []", "baseUrl is missing"),
    ],
)
def test_a_manifest_forge_would_refuse_is_refused_with_the_reason(old: str, new: str, message: str) -> None:
    text = manifest()
    assert old in text
    with pytest.raises(ManifestError, match=message):
        load_manifest(text.replace(old, new, 1))


def test_unreadable_manifests_say_why(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.yml")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest("app: [\n")
    with pytest.raises(ManifestError, match="YAML mapping"):
        load_manifest("- a\n- b\n")


def test_an_app_id_can_be_given_for_an_unregistered_manifest() -> None:
    other = "ari:cloud:ecosystem::app/0b9e3a55-8d0f-4b9e-a1f2-6c3b2d1e0f99"
    text = manifest().replace(APP_ID, "ari:cloud:ecosystem::app/<uuid>")
    assert load_manifest(text, app_id=other).app_id == other


@pytest.mark.skipif(not PROJECT_MANIFEST.exists(), reason="connect-descriptor/forge/manifest.yml is not written yet")
def test_the_projects_manifest_installs_and_every_module_reaches_the_remote(forge_site: ForgeSite) -> None:
    """The manifest is a template (`hubsync forge manifest` fills in app.id and the remote's baseUrl): the app id
    and the remote's URL are given at install."""
    parsed = load_manifest(PROJECT_MANIFEST, app_id=APP_ID)
    forge = forge_site.forge
    installation = forge.install(parsed, remote_base_url=forge_site.remote.url)
    alice = forge_site.user("alice")

    issue = forge_site.create(alice)
    for post_function in parsed.post_functions:
        forge.add_post_function(post_function.key, "SEC", configuration="{}")
    forge.world.transition_issue(issue.key, forge.world.transitions(issue.key)[0].id, alice)
    forge.fire_scheduled()
    for key in parsed.ui_modules:
        assert forge.invoke(key, "/api/v1/ping", user=alice, issue_key=issue.key)["status"] == 204
    forge_site.settle()
    forge.uninstall()

    deliveries = forge_site.settle()
    assert {d["outcome"] for d in deliveries} == {"delivered"}  # the stand-in verified every FIT
    paths = {d["url"].removeprefix(forge_site.remote.url) for d in deliveries}
    assert paths == {"/forge/lifecycle", "/forge/events", "/forge/post-function", "/forge/scheduled",
                     "/forge/pre-uninstall"}
    installed = [r for r in forge_site.remote.calls("/forge/lifecycle")]
    assert [r.body["eventType"] for r in installed] == ["avi:forge:installed:app"]
    assert installed[0].body["id"] == installation.installation_id
    assert {"hubsync-panel", "hubsync-configure"} <= set(parsed.ui_modules)
    assert all(r.rejected is None for r in forge_site.remote.received)


def test_the_projects_manifest_template_needs_an_app_id() -> None:
    if not PROJECT_MANIFEST.exists():
        pytest.skip("connect-descriptor/forge/manifest.yml is not written yet")
    if "${" not in PROJECT_MANIFEST.read_text():
        pytest.skip("the manifest is not a template")
    with pytest.raises(ManifestError, match="placeholder"):
        load_manifest(PROJECT_MANIFEST)
