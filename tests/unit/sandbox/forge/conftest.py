"""Fixtures for the Forge side: a fresh contract-checked Jira Cloud site with Forge, and a stand-in remote."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from hubsync_sandbox.forge import ForgePlatform, ForgeSettings, Installation, forge_blueprint
from hubsync_sandbox.jira.model import Issue, User
from hubsync_sandbox.jira.world import JiraWorld
from tests.fixtures.jira import JiraSandbox
from tests.unit.sandbox.forge.forge_remote import StandInRemote, manifest


@dataclass
class ForgeSite:
    """A Jira Cloud simulator with its Forge side; every exchange under /rest (gateway included) is checked
    against Atlassian's OpenAPI document when HUBSYNC_SPECS_DIR is set."""

    jira: JiraSandbox
    forge: ForgePlatform
    remote: StandInRemote

    @property
    def world(self) -> JiraWorld:
        return self.jira.world

    @property
    def url(self) -> str:
        return self.jira.url

    def install(self, ignore_self: bool = True, **kwargs: Any) -> Installation:
        return self.forge.install(manifest(ignore_self), remote_base_url=self.remote.url, **kwargs)

    def settle(self) -> list[dict[str, Any]]:
        """Every delivery so far, once none is pending."""
        assert self.forge.wait_idle(10), "Forge deliveries still pending after 10 s"
        return [delivery.to_json() for delivery in self.forge.deliveries()]

    def user(self, name: str) -> User:
        user = self.world.user_by_name(name)
        assert user is not None
        return user

    def create(self, actor: User, project: str = "SEC", summary: str = "A finding") -> Issue:
        fields = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": summary}
        return self.world.create_issue(fields, actor)

    def gateway(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        """A call to the site's REST API through the API gateway, as the remote makes it with an app token."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.forge.api_base_url}{path}", headers=headers, timeout=10, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/_sandbox/forge/{path}", timeout=15, **kwargs)


@pytest.fixture
def remote() -> Iterator[StandInRemote]:
    running = StandInRemote().start()
    yield running
    running.stop()


@pytest.fixture
def forge_site(jira_sandbox: Callable[..., JiraSandbox], remote: StandInRemote) -> Iterator[ForgeSite]:
    platforms: list[ForgePlatform] = []

    def blueprints(world: JiraWorld) -> list[Any]:
        platforms.append(ForgePlatform(world, ForgeSettings(retry_interval_s=0.1)))
        return [forge_blueprint(platforms[0])]

    jira = jira_sandbox("cloud", extra_blueprints=blueprints)
    site = ForgeSite(jira, platforms[0], remote)
    remote.jwks_url = site.forge.jwks_url
    yield site
    site.forge.wait_idle(10)
    site.forge.stop()


@pytest.fixture
def installed(forge_site: ForgeSite) -> Installation:
    """The test app installed, its installed:app delivered; deliveries forgotten so tests see only their own."""
    installation = forge_site.install()
    forge_site.settle()
    forge_site.forge.forget_deliveries()
    forge_site.remote.received.clear()
    return installation


@pytest.fixture
def alice(forge_site: ForgeSite) -> User:
    return forge_site.user("alice")
