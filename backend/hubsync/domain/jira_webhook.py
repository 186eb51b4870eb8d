"""hubsync's admin webhook on a Data Center or API-token Cloud site: one per tenant, for issue updates and deletions,
filtered by JQL to hubsync's tickets, and how its deliveries prove they come from that site.

Jira admin webhooks come in three REST dialects (`WebhookDialect`, read from the site's serverInfo). Cloud and Data
Center 10+ sign each delivery with a secret hubsync chose (`X-Hub-Signature: sha256=<hex HMAC of the raw body>`);
Data Center 9 cannot, so its webhook URL carries an unguessable token instead, which hubsync keeps only as a hash
and rotates like the events key: the previous token stays valid for a grace period.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

WEBHOOK_EVENTS = ("jira:issue_updated", "jira:issue_deleted")
DELIVERY_PATH = "/webhooks/jira/{tenant_id}"  # under HUBSYNC_BASE_URL; a URL token is one more segment
SIGNATURE_HEADER = "X-Hub-Signature"
SIGNATURE_PREFIX = "sha256="
# How long a rotated-out URL token keeps working: as long as the events key's (time for a redelivery to land).
WEBHOOK_TOKEN_GRACE = timedelta(hours=24)

_HASH_PREFIX = "sha256$"
_NO_HASH = _HASH_PREFIX + "0" * 64  # compared against when there is none, so every check costs the same


class WebhookDialect(StrEnum):
    """Which admin-webhook REST API a site speaks (see the README's "Data Center webhooks")."""

    CLOUD = "CLOUD"  # /rest/webhooks/1.0/webhook, top-level `secret`: signed
    DATA_CENTER_9 = "DATA_CENTER_9"  # /rest/webhooks/1.0/webhook, no secret: a URL token
    DATA_CENTER_10 = "DATA_CENTER_10"  # /rest/jira-webhook/1.0/webhooks, configuration.SECRET: signed

    @property
    def signs(self) -> bool:
        return self is not WebhookDialect.DATA_CENTER_9


def dialect_of(deployment_type: str | None, version_numbers: object) -> WebhookDialect:
    """The dialect from serverInfo's `deploymentType` and `versionNumbers`: Cloud is the only type compared
    (Data Center says "Server"); without a readable major version, the older API (which every 9.x has)."""
    if deployment_type == "Cloud":
        return WebhookDialect.CLOUD
    major = version_numbers[0] if isinstance(version_numbers, list | tuple) and version_numbers else None
    if isinstance(major, int) and not isinstance(major, bool) and major >= 10:
        return WebhookDialect.DATA_CENTER_10
    return WebhookDialect.DATA_CENTER_9


@dataclass(frozen=True)
class WebhookSpec:
    """The webhook as hubsync wants it on the site. `secret` is set on signing dialects only."""

    name: str
    url: str
    jql: str
    events: tuple[str, ...] = WEBHOOK_EVENTS
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RegisteredWebhook:
    """A webhook as the site reports it. `secret` only where the site shows it back (Cloud never does)."""

    id: str
    name: str
    url: str
    jql: str | None
    events: tuple[str, ...]
    enabled: bool
    secret: str | None = field(default=None, repr=False)


def differences(wanted: WebhookSpec, found: RegisteredWebhook, *, url_matches: bool | None = None) -> list[str]:
    """What differs between the wanted webhook and the site's, one phrase each (empty: the same). `url_matches`
    overrides the URL comparison where hubsync cannot know the whole wanted URL (a URL token kept only hashed)."""
    found_differences = []
    if not (url_matches if url_matches is not None else found.url == wanted.url):
        found_differences.append("its URL is not hubsync's current delivery URL")
    if (found.jql or "").strip() != wanted.jql.strip():
        found_differences.append(f"its JQL filter is {found.jql!r}, not {wanted.jql!r}")
    if sorted(found.events) != sorted(wanted.events):
        found_differences.append(f"its events are {', '.join(sorted(found.events)) or 'none'}, "
                                 f"not {', '.join(sorted(wanted.events))}")
    if not found.enabled:
        found_differences.append("it is disabled")
    if wanted.name != found.name:
        found_differences.append(f"it is named {found.name!r}, not {wanted.name!r}")
    if found.secret is not None and wanted.secret is not None and not hmac.compare_digest(found.secret, wanted.secret):
        found_differences.append("its secret is not the one hubsync verifies deliveries with")
    return found_differences


@dataclass(frozen=True)
class WebhookRegistration:
    """What hubsync keeps of its webhook on the tenant's site: the site's id for it, whether deliveries are signed
    (and the HMAC secret, encrypted at rest), else the URL token's hash, and the previous token's hash until its
    grace period ends. The plaintext token is never kept."""

    webhook_id: str | None = None  # None: not (or no longer) registered
    signed: bool = False
    secret: str | None = field(default=None, repr=False)
    token_hash: str | None = None
    previous_token_hash: str | None = None
    previous_token_until: datetime | None = None

    def with_new_token(self, now: datetime, grace: timedelta = WEBHOOK_TOKEN_GRACE) -> tuple[WebhookRegistration, str]:
        """A new URL token (returned in the clear this once); the current one stays valid for `grace`, and one
        rotated out earlier stops now: at most two tokens are valid at a time."""
        token = new_token()
        keep = grace > timedelta(0) and self.token_hash is not None
        return replace(
            self, token_hash=hash_token(token), previous_token_hash=self.token_hash if keep else None,
            previous_token_until=now + grace if keep else None,
        ), token

    def accepts_token(self, presented: str, now: datetime) -> bool:
        """Whether `presented` is the current URL token, or the previous one within its grace period; compares
        hashes in constant time, both of them whatever the first says."""
        digest = hash_token(presented)
        previous_valid = self.previous_token_until is not None and now < self.previous_token_until
        current = hmac.compare_digest(digest, self.token_hash or _NO_HASH)
        previous = hmac.compare_digest(digest, (self.previous_token_hash if previous_valid else None) or _NO_HASH)
        return bool(presented) and not self.signed and (current or previous)

    def is_current_token(self, token: str) -> bool:
        return self.token_hash is not None and hmac.compare_digest(hash_token(token), self.token_hash)


def new_token() -> str:
    """256 random bits, URL-safe: a URL token or an HMAC secret."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """How a URL token is stored: `sha256$<hex>` (a 256-bit random token needs no salt nor slow hash)."""
    return _HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def signature_valid(secret: str | None, body: bytes, header: str | None) -> bool:
    """Whether `header` (X-Hub-Signature) is `sha256=` and the hex HMAC-SHA256 of the raw `body` under `secret`;
    compared in constant time. No secret, no header, another algorithm: False."""
    expected = hmac.new((secret or "").encode(), body, hashlib.sha256).hexdigest()
    presented = (header or "").strip()
    algorithm_ok = presented[: len(SIGNATURE_PREFIX)].lower() == SIGNATURE_PREFIX
    digest_ok = hmac.compare_digest(presented[len(SIGNATURE_PREFIX):].lower().encode(), expected.encode())
    return bool(secret) and algorithm_ok and digest_ok


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends for `body` (what the simulator and the tests send)."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookAdminRefused(Exception):
    """The site refused to show or change its admin webhooks to these credentials (401/403)."""


class WebhookNotApplied(Exception):
    """The site took the webhook but, read back, it is not what was sent (a filter silently ignored)."""


class WebhookNotRegistrable(Exception):
    """hubsync cannot register the webhook for this tenant as it is (an app tenant, no base URL)."""
