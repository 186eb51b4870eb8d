"""The Connect descriptor: valid against Atlassian's schema, hubsync's key and base URL, least scopes, and every
URL it names answered by a route of the app with the method Jira uses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from flask import Flask

from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap
from hubsync.config import ConfigError, Settings
from hubsync.domain.tenant import APP_KEY
from hubsync.web import create_app
from hubsync.web.descriptor import render_descriptor
from tests.unit.web.jira_requests import BASE_URL, SECRET_KEY, RecordingQueue


@pytest.fixture
def descriptor(client) -> dict:
    response = client.get("/atlassian-connect.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def test_the_descriptor_validates_against_atlassians_schema(descriptor: dict, specs_dir: Path) -> None:
    schema = json.loads((specs_dir / "jira-connect-descriptor.schema.json").read_text())
    # The 2021 schema predates two apiMigrations every app now declares.
    schema = copy.deepcopy(schema)
    migrations = schema["properties"]["apiMigrations"]["properties"]
    migrations["signed-install"] = {"type": "boolean"}
    migrations["context-qsh"] = {"type": "boolean"}
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    validator(schema).validate(descriptor)


def test_the_descriptor_names_hubsync_at_its_base_url(descriptor: dict) -> None:
    assert descriptor["key"] == APP_KEY
    assert descriptor["baseUrl"] == BASE_URL
    assert descriptor["name"] == "hubsync — Security Hub for Jira"
    assert descriptor["authentication"] == {"type": "jwt"}
    assert descriptor["apiMigrations"] == {"signed-install": True, "context-qsh": True, "gdpr": True}
    assert sorted(descriptor["scopes"]) == ["READ", "WRITE"]  # transitions, properties, comments: no ADMIN


def test_webhooks_are_filtered_to_linked_issues_and_carry_the_marker(descriptor: dict) -> None:
    hooks = {hook["event"]: hook for hook in descriptor["modules"]["webhooks"]}
    assert set(hooks) == {"jira:issue_updated", "jira:issue_deleted"}
    for hook in hooks.values():
        assert hook["filter"] == "issue.property[hubsync.finding].key IS NOT EMPTY"
        assert hook["propertyKeys"] == ["hubsync.finding"]
        assert hook["excludeBody"] is False


def test_the_marker_property_is_indexed_for_jql(descriptor: dict) -> None:
    (index,) = descriptor["modules"]["jiraEntityProperties"]
    (configuration,) = index["keyConfigurations"]
    assert index["entityType"] == "issue"
    assert configuration["propertyKey"] == "hubsync.finding"
    assert {e["objectName"]: e["type"] for e in configuration["extractions"]} == {
        "key": "string",
        "id": "string",
        "productArn": "string",
    }


def _urls(descriptor: dict) -> list[tuple[str, str]]:
    """(method, url) of everything Jira calls or loads from the descriptor."""
    modules = descriptor["modules"]
    urls = [("POST", url) for url in descriptor["lifecycle"].values()]
    urls += [("POST", hook["url"]) for hook in modules["webhooks"]]
    urls += [("GET", panel["url"]) for panel in modules["webPanels"]]
    urls += [("GET", glance["target"]["url"]) for glance in modules["jiraIssueGlances"]]
    urls += [("GET", glance["icon"]["url"]) for glance in modules["jiraIssueGlances"]]
    urls += [("GET", modules["configurePage"]["url"])]
    urls += [("GET", page["url"]) for page in modules["adminPages"]]
    for function in modules["jiraWorkflowPostFunctions"]:
        urls.append(("POST", function["triggered"]["url"]))
        urls += [("GET", function[page]["url"]) for page in ("create", "edit", "view")]
    return urls


def test_every_url_in_the_descriptor_is_a_route_of_the_app(descriptor: dict, app: Flask) -> None:
    adapter = app.url_map.bind("hubsync.example.com")
    for method, url in _urls(descriptor):
        path = urlsplit(url.replace("{", "").replace("}", "")).path
        endpoint, _ = adapter.match(path, method=method)  # raises NotFound / MethodNotAllowed
        assert endpoint


def test_the_issue_view_modules_are_where_jira_shows_them(descriptor: dict) -> None:
    (panel,) = descriptor["modules"]["webPanels"]
    assert panel["location"] == "atl.jira.view.issue.right.context"
    assert panel["url"] == "/connect/panel?issueKey={issue.key}&projectKey={project.key}"
    (glance,) = descriptor["modules"]["jiraIssueGlances"]
    assert glance["key"] == "hubsync-glance"  # its status: property com.atlassian.jira.issue:<app>:<this>:status
    assert glance["target"]["type"] == "web_panel"
    (post_function,) = descriptor["modules"]["jiraWorkflowPostFunctions"]
    assert post_function["name"]["value"] == "Sync with Security Hub"


def test_the_icon_is_served(client) -> None:
    response = client.get("/connect/icon.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"


def test_without_a_base_url_the_app_does_not_start(store: Store, queue: RecordingQueue) -> None:
    unset = Settings.from_environment({"HUBSYNC_SECRET_KEY": SECRET_KEY})  # other commands run without it
    with pytest.raises(ConfigError, match="HUBSYNC_BASE_URL"):
        render_descriptor(unset)
    with pytest.raises(ConfigError, match="HUBSYNC_BASE_URL"):
        create_app(bootstrap(unset, store=store, queue=queue))
    with pytest.raises(ConfigError, match="HUBSYNC_BASE_URL"):
        Settings.from_environment({"HUBSYNC_BASE_URL": "hubsync.example.com"})


def test_a_missing_template_names_the_variable_to_set(tmp_path: Path) -> None:
    config = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_RESOURCES_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="HUBSYNC_RESOURCES_DIR"):
        render_descriptor(config)


def test_rendering_fills_only_the_base_url() -> None:
    config = Settings.from_environment({"HUBSYNC_BASE_URL": "https://other.example.org/"})
    rendered = render_descriptor(config)
    assert rendered["baseUrl"] == "https://other.example.org"
    assert "${" not in json.dumps(rendered)
