"""The Forge side's knobs: how long tokens live, how deliveries are timed and retried, what the FIT says.

Forge's own values are the defaults except where noted: the pause between delivery attempts is 60 s on Forge,
half a second here so that tests and the demo do not wait minutes (set `retry_interval_s=60` for realism).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from hubsync_sandbox.forge.tokens import MAX_LIFETIME_S

ENVIRONMENT_TYPES = ("DEVELOPMENT", "STAGING", "PRODUCTION")


@dataclass
class ForgeSettings:
    fit_lifetime_s: int = 25  # a FIT's exp - iat (Forge's documented example: 25 s)
    app_token_lifetime_s: int = MAX_LIFETIME_S  # system and user tokens (Forge: at most 4 h)
    app_token_min_remaining_s: int = 2 * 3600  # a delivery carries a system token with at least this much left
    # (or half its lifetime, if shorter): Forge promises >= 2 h on endpoint and trigger calls
    delivery_timeout_s: float = 5.0  # events, lifecycle, post function, scheduled, pre-uninstall
    delivery_delay_s: float = 0.0  # before a first attempt (Forge: up to ~3 min late)
    retry_interval_s: float = 0.5  # between attempts (Forge: 60 s)
    max_attempts: int = 4  # first attempt included
    invoke_timeout_s: float = 25.0  # invokeRemote from a Custom UI
    environment_type: str = "DEVELOPMENT"  # app.environment.type in FITs of new installations
    # Merged into every FIT's claims (None values delete a claim): e.g. {"aud": "ari:...other"} or {"exp": 0} to
    # see a remote refuse a token.
    fit_claims_override: dict[str, Any] = field(default_factory=dict)
    sign_with_unpublished_key: bool = False  # FITs signed under a kid the JWKS does not list

    def check(self) -> None:
        if not 1 <= self.fit_lifetime_s <= 3600:
            raise ValueError("fit_lifetime_s must be 1 to 3600 seconds")
        if not 0 <= self.app_token_lifetime_s <= MAX_LIFETIME_S:
            raise ValueError(f"app_token_lifetime_s must be 0 to {MAX_LIFETIME_S} seconds (Forge's maximum: 4 h)")
        if self.app_token_min_remaining_s < 0:
            raise ValueError("app_token_min_remaining_s must not be negative")
        if not 0 < self.delivery_timeout_s <= 120 or not 0 < self.invoke_timeout_s <= 120:
            raise ValueError("timeouts must be above 0 and at most 120 seconds")
        if not 0 <= self.delivery_delay_s <= 600 or not 0 <= self.retry_interval_s <= 600:
            raise ValueError("delivery_delay_s and retry_interval_s must be 0 to 600 seconds")
        if not 1 <= self.max_attempts <= 20:
            raise ValueError("max_attempts must be 1 to 20")
        if self.environment_type not in ENVIRONMENT_TYPES:
            raise ValueError(f"environment_type must be one of {', '.join(ENVIRONMENT_TYPES)}")
        if not isinstance(self.fit_claims_override, dict):
            raise ValueError("fit_claims_override must be an object")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> ForgeSettings:
        """A copy with `changes` applied and checked; unknown names are a ValueError."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
        candidate = ForgeSettings(**{**self.to_json(), **changes})
        candidate.check()
        return candidate
