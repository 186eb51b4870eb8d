"""Forge's side of the Jira Cloud simulator: an app installed from its `manifest.yml` whose backend is a Forge Remote.

    platform.py   ForgePlatform: install / upgrade / uninstall, FITs and app tokens, product events, lifecycle,
                  the post function, scheduled triggers, pre-uninstall, and `invoke` (invokeRemote)
    manifest.py   reading and checking manifest.yml (modules, endpoints, remotes, scopes)
    keys.py       RS256 signing keys with kids, the JWKS, rotation
    tokens.py     app system and user tokens, and the API gateway's check of them
    delivery.py   the background delivery worker: 5 s timeout, up to 4 attempts with retryContext, records
    events.py     the bodies Forge sends, built from the Jira world's issue events
    settings.py   the knobs (ForgeSettings)
    blueprint.py  forge_blueprint(platform): the JWKS and the sandbox control API under /_sandbox/forge

The Jira simulator takes the platform's tokens at `/ex/jira/<cloudId>/rest/api/3/...` (jira/app.py, jira/auth.py).
"""

from hubsync_sandbox.forge.blueprint import forge_blueprint
from hubsync_sandbox.forge.delivery import Delivery
from hubsync_sandbox.forge.keys import SigningKeys
from hubsync_sandbox.forge.manifest import Manifest, ManifestError, load_manifest
from hubsync_sandbox.forge.platform import (
    SANDBOX_APP_ID,
    ForgeError,
    ForgePlatform,
    Installation,
    PlacedPostFunction,
)
from hubsync_sandbox.forge.settings import ForgeSettings

__all__ = [
    "SANDBOX_APP_ID",
    "Delivery",
    "ForgeError",
    "ForgePlatform",
    "ForgeSettings",
    "Installation",
    "Manifest",
    "ManifestError",
    "PlacedPostFunction",
    "SigningKeys",
    "forge_blueprint",
    "load_manifest",
]
