"""hubsync wired to the sandbox the way it runs in production: its web app on a loopback port, installed into the
simulated Jira Cloud site, configured as an admin does on the configure page, Security Hub's events delivered to its
EventBridge endpoint with the tenant's API key, and a worker taking the hints that Jira's and Security Hub's events
put on the queue.

Two ways into Jira Cloud (`platform`):
- "connect": a Connect app installed from its descriptor URL (signed install, verified against the sandbox's
  install-key server); Jira tells hubsync of issue changes by Connect webhooks.
- "forge": a Forge app whose backend is hubsync (Forge Remote), installed from the project's manifest
  (connect-descriptor/forge/manifest.yml) with the sandbox's app id and hubsync's loopback URL as the remote;
  hubsync verifies Forge's invocation tokens against the sandbox's JWKS, the installed event creates the tenant
  (keyed by its installation), Jira's issue changes arrive as Forge product events, and the app system token each
  call hands over is what hubsync calls Jira with, at the site's API gateway. No Connect install, no webhooks.

    with installed_hubsync(sandbox, store, policy, platform="forge") as hubsync:
        hubsync.tenant            # the tenant the install created (Forge: auth mode FORGE, its installation id)
        hubsync.settle()          # every event delivered and every hint synced
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import requests

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap, build_worker
from hubsync.config import ConfigError
from hubsync.config import Settings as HubsyncSettings
from hubsync.domain.policy_schema import load_policy
from hubsync.domain.tenant import SecurityHubGeneration, Tenant
from hubsync.service.intake import API_KEY_HEADER
from hubsync.service.settings import AwsSettings, Settings, events_url, rotate_events_api_key, save_settings
from hubsync.service.worker import WorkerSettings
from hubsync.web import create_app
from hubsync.web.forge_manifest import built_resources, load_template
from hubsync_sandbox.forge import SANDBOX_APP_ID, Installation
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.runner import AGGREGATION_REGION, Sandbox
from hubsync_sandbox.securityhub.delivery import CSPM_DETAIL_TYPES
from hubsync_sandbox.securityhub.events import IMPORTED_V2

INSTALL_TIMEOUT_S = 30
Platform = Literal["forge", "connect"]
PLATFORMS: tuple[Platform, ...] = ("forge", "connect")
# The events the tenant's EventBridge rule sends hubsync, by the Security Hub it syncs with: CSPM's Imported and
# Custom Action, or the new Security Hub's Findings Imported V2 (it has no custom actions).
DETAIL_TYPES = {SecurityHubGeneration.CSPM: CSPM_DETAIL_TYPES, SecurityHubGeneration.V2: (IMPORTED_V2,)}


@dataclass
class InstalledHubsync:
    sandbox: Sandbox
    server: BackgroundServer
    store: Store
    queue: LocalQueue
    tenant: Tenant
    platform: Platform = "connect"
    forge_installation: Installation | None = None  # the Forge app's installation on the site (platform "forge")

    @property
    def app_url(self) -> str:
        return self.server.url

    def settle(self, timeout: float = 30.0) -> None:
        """Until Jira's webhooks (Connect) or Forge's deliveries (Forge) and Security Hub's events are delivered and
        the worker has synced every hint (hubsync's own writes come back as events too, and settle with them)."""
        deadline = time.monotonic() + timeout
        jira = self.sandbox.jira_cloud_server.url
        while time.monotonic() < deadline:
            self.sandbox.securityhub.events.flush(timeout=max(deadline - time.monotonic(), 0.1))
            if self.platform == "forge":
                self.sandbox.forge.wait_idle(min(2.0, max(deadline - time.monotonic(), 0.1)))
            else:
                requests.get(f"{jira}/_sandbox/connect/deliveries", params={"wait_ms": 2000}, timeout=10)
            if self.queue.depth() == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.queue.depth()} hints still queued after {timeout:g} s")


def sandbox_settings(sandbox: Sandbox, policy: dict,
                     generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Settings:
    """What an admin enters on the configure page for the sandbox's organization."""
    environment = sandbox.environment()
    return Settings(
        AwsSettings(
            role_arn=environment["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
            organizations_role_arn=environment["HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"],
            aggregation_region=AGGREGATION_REGION,
            securityhub_generation=generation,
        ),
        load_policy(policy),
    )


@contextmanager
def installed_hubsync(
    sandbox: Sandbox,
    store: Store,
    policy: dict,
    *,
    reconcile_interval: timedelta | None = None,
    platform: Platform = "connect",
    generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
) -> Iterator[InstalledHubsync]:
    """Serve, install, configure and run hubsync against `sandbox` (Jira Cloud), on `store`; stop it afterwards.
    `reconcile_interval`: the worker's periodic reconcile (None: only events and webhooks drive it). `platform`:
    installed as a Connect app, or as a Forge app (see the module's docstring); the Forge app's hourly trigger
    runs on its real interval while it is installed. `generation`: the Security Hub the admin chooses on the
    configure page, whose events the EventBridge rule sends hubsync."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    environment = sandbox.environment()
    queue = LocalQueue(store.engine)
    server = BackgroundServer(name="hubsync").start()
    stop = threading.Event()
    worker_thread: threading.Thread | None = None
    forge_installation: Installation | None = None
    try:
        variables = {
            "HUBSYNC_BASE_URL": server.url,
            "HUBSYNC_INSTALL_KEYS_URL": environment["HUBSYNC_INSTALL_KEYS_URL"],
            "HUBSYNC_ALLOWED_JIRA_HOSTS": urlsplit(sandbox.jira_cloud_server.url).netloc,
        }
        if platform == "forge":
            variables.update(HUBSYNC_FORGE_APP_ID=SANDBOX_APP_ID, HUBSYNC_FORGE_JWKS_URL=sandbox.forge.jwks_url)
        settings = HubsyncSettings.from_environment(variables)
        runtime = bootstrap(settings, store=store, queue=queue)
        server.mount(create_app(runtime))
        if platform == "forge":
            forge_installation = _install_forge(sandbox, settings, server.url)
            tenant = configure_forge_installed(store, sandbox, forge_installation.installation_id, policy, generation)
            sandbox.forge.start_schedules()  # the hourly trigger, every hour: a fresh app token for a long run
        else:
            tenant = configure_installed(store, sandbox, _install(sandbox, server.url), policy, generation)
        key = rotate_events_api_key(store, tenant.id, server.url)["apiKey"]
        sandbox.securityhub.events.add_http_target(
            events_url(server.url, tenant.id), header_name=API_KEY_HEADER, header_value=key,
            detail_types=DETAIL_TYPES[generation],
        )
        worker = build_worker(runtime, WorkerSettings(wait_seconds=0.2, reconcile_interval=reconcile_interval))
        worker_thread = threading.Thread(target=worker.run, args=(stop,), name="hubsync-worker", daemon=True)
        worker_thread.start()
        yield InstalledHubsync(sandbox, server, store, queue, tenant, platform, forge_installation)
    finally:
        if forge_installation is not None:
            sandbox.forge.stop_schedules()
        stop.set()
        queue.close()
        if worker_thread is not None:
            worker_thread.join(timeout=15)
        server.stop()


def configure_installed(store: Store, sandbox: Sandbox, client_key: str, policy: dict,
                        generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    """The tenant the install of `client_key` created, saved with the settings an admin enters on the configure
    page for the sandbox's organization."""
    with store.read() as uow:
        tenant = uow.tenants.get_by_client_key(client_key)
    if tenant is None:
        raise RuntimeError("Jira installed hubsync but the installed callback created no tenant")
    return save_settings(store, tenant.id, sandbox_settings(sandbox, policy, generation))


def configure_forge_installed(store: Store, sandbox: Sandbox, installation_id: str, policy: dict,
                              generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    """The tenant Forge's installed event created for the installation `installation_id`, saved with the settings
    an admin enters on the configure page for the sandbox's organization."""
    with store.read() as uow:
        tenant = uow.tenants.get_by_forge_installation(installation_id)
    if tenant is None:
        raise RuntimeError(f"Forge installed hubsync ({installation_id}) but its installed event created no tenant")
    return save_settings(store, tenant.id, sandbox_settings(sandbox, policy, generation))


def _install(sandbox: Sandbox, app_url: str) -> str:
    """What a Jira admin does in "Manage apps → Upload app": Jira fetches the descriptor and calls `installed`.
    Returns the site's clientKey."""
    jira = sandbox.jira_cloud_server.url
    descriptor = f"{app_url}/atlassian-connect.json"
    answer = requests.post(f"{jira}/_sandbox/connect/install", json={"descriptorUrl": descriptor},
                           timeout=INSTALL_TIMEOUT_S)
    if answer.status_code != 200:
        raise RuntimeError(f"installing hubsync into the sandbox's Jira failed: {answer.status_code} {answer.text}")
    return answer.json()["clientKey"]



def _built_resources(settings: HubsyncSettings) -> dict[str, Path] | None:
    """The Custom UI resources `make forge-ui` built (the simulated site's pages embed them), None when they are
    not built: the pages then say so."""
    try:
        return built_resources(settings)
    except ConfigError:
        return None


def _install_forge(sandbox: Sandbox, settings: HubsyncSettings, app_url: str) -> Installation:
    """What `forge deploy` and `forge install` do: the project's manifest (its template, with the sandbox's app id
    and hubsync's URL as the remote's base URL) installed on the site; returns once Forge's
    avi:forge:installed:app has reached hubsync (2xx)."""
    forge = sandbox.forge
    installation = forge.install(load_template(settings), remote_base_url=app_url, app_id=SANDBOX_APP_ID,
                                 resources=_built_resources(settings))
    if not forge.wait_idle(INSTALL_TIMEOUT_S):
        raise RuntimeError(f"Forge's installed event did not reach hubsync within {INSTALL_TIMEOUT_S} s")
    lifecycle = [d for d in forge.deliveries()
                 if d.installation_id == installation.installation_id and d.kind == "lifecycle"]
    failed = [d for d in lifecycle if d.outcome != "delivered"]
    if not lifecycle or failed:
        answers = ", ".join(f"{d.url}: {d.status}" for d in failed) or "no lifecycle trigger was called"
        raise RuntimeError(f"installing hubsync as a Forge app failed: {answers}")
    return installation
