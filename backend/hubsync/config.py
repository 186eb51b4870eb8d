"""hubsync's settings: read from the environment once, here and nowhere else, and checked with an error that says
which variable is wrong and what to set.

    settings = Settings.from_environment()      # every entry point; tests pass a dict
    runtime = bootstrap(settings)               # builds what the settings name (see bootstrap.py)

Only `hubsync serve` and `hubsync descriptor` need HUBSYNC_BASE_URL (`require_base_url`); everything else has a
default a fresh clone can run with.

The periodic reconcile (`hubsync worker`): every tenant every `--reconcile-interval` seconds (default 900), the
safety net under Jira's and Security Hub's events. HUBSYNC_WEBHOOK_RECONCILE_INTERVAL (seconds, default 3600; 0:
none longer) is the wait of a tenant whose Jira admin webhook works: registered, and its last reconcile found
nothing the deliveries had missed (`service.periodic_reconcile.next_turn`); never shorter than the interval.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from hubsync.domain.jira_site import InvalidJiraSite, JiraSite, parse_jira_site

DATABASE_URL = "HUBSYNC_DATABASE_URL"
SECRET_KEY = "HUBSYNC_SECRET_KEY"
BASE_URL = "HUBSYNC_BASE_URL"
INSTALL_KEYS_URL = "HUBSYNC_INSTALL_KEYS_URL"
ALLOWED_JIRA_HOSTS = "HUBSYNC_ALLOWED_JIRA_HOSTS"
RESOURCES_DIR = "HUBSYNC_RESOURCES_DIR"
METRICS_TOKEN = "HUBSYNC_METRICS_TOKEN"
QUEUE_URL = "HUBSYNC_QUEUE_URL"
EVENTS_QUEUE_URL = "HUBSYNC_EVENTS_QUEUE_URL"
JIRA_RATE = "HUBSYNC_JIRA_RATE"
JIRA_BURST = "HUBSYNC_JIRA_BURST"
AWS_RATE_SHARE = "HUBSYNC_AWS_RATE_SHARE"
ONBOARDING_CONFIRM_ABOVE = "HUBSYNC_ONBOARDING_CONFIRM_ABOVE"
LOG_FORMAT = "HUBSYNC_LOG_FORMAT"
LOG_LEVEL = "HUBSYNC_LOG_LEVEL"
JIRA_SECRET = "HUBSYNC_JIRA_SECRET"
FORGE_APP_ID = "HUBSYNC_FORGE_APP_ID"
FORGE_JWKS_URL = "HUBSYNC_FORGE_JWKS_URL"
WEBHOOK_RECONCILE_INTERVAL = "HUBSYNC_WEBHOOK_RECONCILE_INTERVAL"
FORWARDED_ALLOW_IPS = "FORWARDED_ALLOW_IPS"  # gunicorn's: which proxies' X-Forwarded-* headers to trust
METRICS_MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's: several processes share one /metrics

DEFAULT_INSTALL_KEYS_URL = "https://connect-install-keys.atlassian.com"
# Where Forge publishes the keys its invocation tokens are signed with (production: every site and environment).
DEFAULT_FORGE_JWKS_URL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
FORGE_APP_ARI = re.compile(r"^ari:cloud:ecosystem::app/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEFAULT_ALLOWED_JIRA_HOSTS: tuple[str, ...] = ("*.atlassian.net",)
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_ONBOARDING_CONFIRM_ABOVE = 200
DEFAULT_WEBHOOK_RECONCILE_INTERVAL = 3600  # seconds; a tenant whose webhook works is reconciled hourly
MIN_SECRET_LENGTH = 32
# A source checkout (editable install): backend/hubsync/config.py → the repository root.
CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """The environment does not configure hubsync; the message names the variable and what to set."""


@dataclass(frozen=True)
class Settings:
    database_url: str = ""  # empty: the SQLite file ./var/hubsync.sqlite3
    secret_keys: tuple[str, ...] = field(default=(), repr=False)  # first encrypts, all decrypt (rotation)
    base_url: str = ""  # where Jira reaches hubsync: the descriptor's baseUrl and the install tokens' audience
    install_keys_url: str = DEFAULT_INSTALL_KEYS_URL  # Connect's signed-install key server
    allowed_jira_hosts: tuple[str, ...] = DEFAULT_ALLOWED_JIRA_HOSTS  # globs a Jira site must match to install
    resources_dir: Path = CHECKOUT_ROOT  # holds connect-descriptor/ and ui-templates/
    metrics_token: str | None = field(default=None, repr=False)  # bearer token /metrics requires, if set
    queue_url: str = ""  # empty: the local queue in the database; else an SQS FIFO queue URL
    events_queue_url: str = ""  # an EventBridge rule's SQS target, whose events the worker moves onto the queue
    aws_region: str | None = None  # AWS_REGION / AWS_DEFAULT_REGION: the SQS queues' Region when not in the URL
    jira_rate: float | None = None  # requests a second per Jira site; None: no fixed budget (429s still pause)
    jira_burst: int | None = None
    aws_rate_share: float | None = None  # this process's share of Security Hub's documented budgets
    # A settings save whose rules would create more tickets than this asks the admin to confirm first.
    onboarding_confirm_above: int = DEFAULT_ONBOARDING_CONFIRM_ABOVE
    log_format: str | None = None  # json or text; None: the command's default
    log_level: str = "INFO"
    jira_secret: str | None = field(default=None, repr=False)  # `hubsync tenant add`: the Jira token, never argv
    forwarded_allow_ips: str = "127.0.0.1"
    metrics_multiprocess_dir: str | None = None
    forge_app_id: str = ""  # the Forge app's ari:cloud:ecosystem::app/<uuid> (its tokens' audience); empty: no Forge
    forge_jwks_url: str = DEFAULT_FORGE_JWKS_URL
    # seconds between periodic reconciles of a tenant whose Jira webhook works; 0: no longer than the others
    webhook_reconcile_interval: int = DEFAULT_WEBHOOK_RECONCILE_INTERVAL

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment (default: this process's) names, checked; raises `ConfigError`."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        base_url = get(BASE_URL).rstrip("/")
        if base_url:
            _require_http_url(BASE_URL, base_url)
        install_keys_url = get(INSTALL_KEYS_URL).rstrip("/") or DEFAULT_INSTALL_KEYS_URL
        _require_http_url(INSTALL_KEYS_URL, install_keys_url)
        hosts = DEFAULT_ALLOWED_JIRA_HOSTS
        if get(ALLOWED_JIRA_HOSTS):
            hosts = tuple(glob.strip().lower() for glob in get(ALLOWED_JIRA_HOSTS).split(",") if glob.strip())
            if not hosts:
                raise ConfigError(f"{ALLOWED_JIRA_HOSTS} names no host glob (e.g. *.atlassian.net)")
        jira_rate = _positive(JIRA_RATE, get(JIRA_RATE))
        jira_burst = _positive(JIRA_BURST, get(JIRA_BURST))
        log_format = get(LOG_FORMAT).lower() or None
        if log_format is not None and log_format not in LOG_FORMATS:
            raise ConfigError(f"{LOG_FORMAT}={log_format!r}: use json or text")
        forge_app_id = get(FORGE_APP_ID).lower()
        if UUID.match(forge_app_id):  # the bare id `forge register` prints is accepted too
            forge_app_id = f"ari:cloud:ecosystem::app/{forge_app_id}"
        if forge_app_id and not FORGE_APP_ARI.match(forge_app_id):
            raise ConfigError(
                f"{FORGE_APP_ID}={get(FORGE_APP_ID)!r} is not a Forge app id: set it to the app's "
                "ari:cloud:ecosystem::app/<uuid> (the `app.id` of the manifest `forge register` wrote)"
            )
        forge_jwks_url = get(FORGE_JWKS_URL) or DEFAULT_FORGE_JWKS_URL
        _require_http_url(FORGE_JWKS_URL, forge_jwks_url)
        log_level = get(LOG_LEVEL).upper() or "INFO"
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"{LOG_LEVEL}={log_level!r}: use DEBUG, INFO, WARNING or ERROR")
        return cls(
            database_url=get(DATABASE_URL),
            secret_keys=_secret_keys(get(SECRET_KEY)),
            base_url=base_url,
            install_keys_url=install_keys_url,
            allowed_jira_hosts=hosts,
            resources_dir=Path(get(RESOURCES_DIR)) if get(RESOURCES_DIR) else CHECKOUT_ROOT,
            metrics_token=get(METRICS_TOKEN) or None,
            queue_url=get(QUEUE_URL),
            events_queue_url=get(EVENTS_QUEUE_URL),
            aws_region=get("AWS_REGION") or get("AWS_DEFAULT_REGION") or None,
            jira_rate=jira_rate,
            jira_burst=None if jira_burst is None else max(1, math.ceil(jira_burst)),
            aws_rate_share=_positive(AWS_RATE_SHARE, get(AWS_RATE_SHARE)),
            onboarding_confirm_above=_count(ONBOARDING_CONFIRM_ABOVE, get(ONBOARDING_CONFIRM_ABOVE),
                                            DEFAULT_ONBOARDING_CONFIRM_ABOVE),
            log_format=log_format,
            log_level=log_level,
            jira_secret=get(JIRA_SECRET) or None,
            forwarded_allow_ips=get(FORWARDED_ALLOW_IPS) or "127.0.0.1",
            metrics_multiprocess_dir=get(METRICS_MULTIPROCESS_DIR) or None,
            forge_app_id=forge_app_id,
            forge_jwks_url=forge_jwks_url,
            webhook_reconcile_interval=_count(WEBHOOK_RECONCILE_INTERVAL, get(WEBHOOK_RECONCILE_INTERVAL),
                                              DEFAULT_WEBHOOK_RECONCILE_INTERVAL),
        )

    def require_base_url(self) -> str:
        """The base URL, for what Jira must reach (the web app, the descriptor); unset is an error."""
        if not self.base_url:
            raise ConfigError(
                f"{BASE_URL} is not set: it is the https URL where Jira reaches hubsync (the descriptor's "
                "baseUrl), e.g. https://hubsync.example.com"
            )
        return self.base_url

    def require_secret_keys(self) -> tuple[str, ...]:
        """The keys that encrypt stored tenant secrets; unset is an error outside the sandbox."""
        if not self.secret_keys:
            raise ConfigError(
                f"{SECRET_KEY} is not set: hubsync encrypts tenant secrets (Jira tokens, Connect shared secrets) "
                f"with it. Set it to a random string of at least {MIN_SECRET_LENGTH} characters, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(32))", and keep it: without it the stored '
                "secrets cannot be read."
            )
        return self.secret_keys

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    @property
    def base_path(self) -> str:
        """The path part of the base URL ("" or e.g. "/hubsync"): Connect's qsh covers paths relative to it."""
        return urlsplit(self.base_url).path.rstrip("/")

    def jira_host_allowed(self, jira_base_url: str) -> bool:
        """Whether a Jira site may install hubsync (see `allowed_jira_site`)."""
        return self.allowed_jira_site(jira_base_url) is not None

    def allowed_jira_site(self, jira_base_url: str) -> JiraSite | None:
        """The site a Jira base URL names when it may install hubsync, else None: read by `parse_jira_site`, the
        parser the Jira client reads it with too, so the host checked here is the host requests go to. It must be
        https (plain http only on this machine, as the sandbox's sites are) and its host match a glob of
        HUBSYNC_ALLOWED_JIRA_HOSTS (a glob with a port compares host:port, the scheme's default port included)."""
        try:
            site = parse_jira_site(jira_base_url)
        except InvalidJiraSite:
            return None
        if site.scheme != "https" and not site.is_loopback:
            return None
        host_port = f"{site.host}:{site.port}"
        if any(fnmatchcase(host_port if ":" in glob else site.host, glob) for glob in self.allowed_jira_hosts):
            return site
        return None


def _require_http_url(variable: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{variable}={value!r} is not an http(s) URL without query or fragment")


def _secret_keys(value: str) -> tuple[str, ...]:
    if not value:
        return ()
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    if not keys or any(len(key) < MIN_SECRET_LENGTH for key in keys):
        raise ConfigError(
            f"every key in {SECRET_KEY} must be at least {MIN_SECRET_LENGTH} characters; generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return keys


def _count(variable: str, value: str, default: int) -> int:
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{variable} must be a whole number of 0 or more, not {value!r}")
    return int(value)


def _positive(variable: str, value: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{variable} must be a number, not {value!r}") from None
    if not number > 0 or math.isinf(number):
        raise ConfigError(f"{variable} must be above 0, not {value!r}")
    return number
