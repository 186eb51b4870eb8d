"""What the blueprints share, kept in `app.extensions["hubsync"]`: the config, the store, the hint queue and the
Connect install keys. Blueprints reach it with `services()` (inside a request) or `app.extensions["hubsync"]`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from hubsync.adapters.connect_keys import InstallKeys
from hubsync.adapters.store import Store
from hubsync.domain.ports import HintQueue
from hubsync.web.app_accounts import AppAccounts
from hubsync.web.config import WebConfig

EXTENSION = "hubsync"


@dataclass(frozen=True)
class Services:
    config: WebConfig
    store: Store
    queue: HintQueue
    install_keys: InstallKeys
    app_accounts: AppAccounts  # the app's own Jira user per tenant: events it caused are not hints


def services() -> Services:
    registered: Services = current_app.extensions[EXTENSION]  # put there by `create_app`
    return registered
