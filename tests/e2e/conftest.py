"""Browser tests: hubsync installed into the simulated Jira Cloud through the real Connect install flow, seen in
Debian's Chromium driven by Playwright (the system browser; Playwright's own browsers are never downloaded).

One hubsync for the module, as `hubsync demo` runs it (`hubsync_sandbox.connected`): the sandbox (Jira, Security
Hub, moto), the web app on a loopback port, installed from its descriptor URL, configured for the sandbox's AWS
organization, and the worker on a thread, taking the hints the webhooks put on the (local, database) queue.
Screenshots go to HUBSYNC_TEST_ARTIFACTS (default var/test-artifacts/).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubsync.adapters.store import Store, upgrade
from hubsync.bootstrap import build_sync_context, open_store
from hubsync.config import Settings
from hubsync.domain.finding import Finding
from hubsync.domain.tenant import APP_KEY, Tenant
from hubsync.service.sync import SyncContext, sync_findings
from hubsync_sandbox.connected import InstalledHubsync, installed_hubsync
from hubsync_sandbox.demo import demo_policy
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import Sandbox
from tests.fixtures.sandbox import SandboxContracts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECRET_KEY = "e2e-secret-key-for-the-browser-tests-0123456789"
SECURITY_ENGINEER = "sofia.security@example.com"
ACTION_TIMEOUT_MS = 20_000


def _playwright() -> Any:
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (`make install` installs it)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    # An assertion waits as long as an action does: a page reload with its iframe, token and live Security Hub read
    # can take well over Playwright's default 5 s (a first panel load once took more than 10 s) when the whole suite
    # shares two cores.
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return sync_playwright


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: HUBSYNC_TEST_ARTIFACTS, default var/test-artifacts/ (git-ignored)."""
    path = Path(os.environ.get("HUBSYNC_TEST_ARTIFACTS") or "var/test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@dataclass
class Hubsync:
    """hubsync installed in the simulated Jira Cloud site, with everything a browser test needs to look at."""

    installed: InstalledHubsync
    ctx: SyncContext

    @property
    def sandbox(self) -> Sandbox:
        return self.installed.sandbox

    @property
    def app_url(self) -> str:
        return self.installed.app_url

    @property
    def store(self) -> Store:
        return self.installed.store

    @property
    def tenant(self) -> Tenant:
        return self.installed.tenant

    @property
    def jira_url(self) -> str:
        return self.sandbox.jira_cloud_server.url

    def issue_page(self, key: str, viewer: str = SECURITY_ENGINEER) -> str:
        return f"{self.jira_url}/browse/{key}?as={viewer}"

    def configure_page(self, viewer: str = SECURITY_ENGINEER) -> str:
        return f"{self.jira_url}/plugins/servlet/ac/{APP_KEY}/hubsync-configure?as={viewer}"

    def current_tenant(self) -> Tenant:
        with self.store.read() as uow:
            tenant = uow.tenants.get(self.tenant.id)
        assert tenant is not None
        return tenant

    def finding(self, finding: Finding) -> Finding:
        return self.ctx.securityhub.get([finding.identifier])[finding.key]

    def ticket_for(self, count: int) -> list[tuple[Finding, str]]:
        """`count` live CRITICAL findings, each given its ticket by hubsync (a sync, as an import event makes)."""
        filters = {
            "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}],
            "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        }
        findings = [f for f in self.ctx.securityhub.findings(filters) if f.is_live][:count]
        outcomes = sync_findings(self.ctx, findings)
        assert all(o.ticket_key and not o.error for o in outcomes), outcomes
        return [(self.finding(f), o.ticket_key or "") for f, o in zip(findings, outcomes, strict=True)]


@pytest.fixture(scope="module")
def hubsync(sandbox_contracts: SandboxContracts, browser: Any) -> Iterator[Hubsync]:
    scratch = tempfile.mkdtemp(prefix="hubsync-e2e-")
    with Sandbox(wrap=sandbox_contracts.wrap) as sandbox, sandbox.exported():
        store = open_store(Settings.from_environment(
            {"HUBSYNC_DATABASE_URL": f"sqlite:///{Path(scratch) / 'hubsync.sqlite3'}",
             "HUBSYNC_SECRET_KEY": SECRET_KEY}
        ))
        try:
            upgrade(store.engine)
            default = sandbox.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
            assert default is not None
            with installed_hubsync(sandbox, store, demo_policy(default.account_id)) as installed:
                yield Hubsync(installed, build_sync_context(installed.tenant, store))
        finally:
            store.dispose()
            shutil.rmtree(scratch, ignore_errors=True)
