"""The web app's settings, read once from the environment (DESIGN.md's contract), with a clear error when wrong."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from hubsync.domain.jira_site import InvalidJiraSite, JiraSite, parse_jira_site
from hubsync.metrics import METRICS_TOKEN_VARIABLE

BASE_URL_VARIABLE = "HUBSYNC_BASE_URL"
INSTALL_KEYS_URL_VARIABLE = "HUBSYNC_INSTALL_KEYS_URL"
ALLOWED_JIRA_HOSTS_VARIABLE = "HUBSYNC_ALLOWED_JIRA_HOSTS"
RESOURCES_DIR_VARIABLE = "HUBSYNC_RESOURCES_DIR"
DEFAULT_INSTALL_KEYS_URL = "https://connect-install-keys.atlassian.com"
DEFAULT_ALLOWED_JIRA_HOSTS = "*.atlassian.net"
# A source checkout (editable install): backend/hubsync/web/config.py → the repository root.
CHECKOUT_ROOT = Path(__file__).resolve().parents[3]


class ConfigError(RuntimeError):
    """The environment does not configure the web app; the message names the variable and what to set."""


@dataclass(frozen=True)
class WebConfig:
    base_url: str  # where Jira reaches hubsync: the descriptor's baseUrl and the install tokens' audience
    install_keys_url: str  # Connect's signed-install key server
    allowed_jira_hosts: tuple[str, ...]  # globs a Jira site's host (or host:port) must match to install
    resources_dir: Path  # holds connect-descriptor/ and ui-templates/
    metrics_token: str | None = field(default=None, repr=False)  # bearer token /metrics requires, if set

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        environ = os.environ if environ is None else environ
        base_url = environ.get(BASE_URL_VARIABLE, "").strip().rstrip("/")
        if not base_url:
            raise ConfigError(
                f"{BASE_URL_VARIABLE} is not set: it is the https URL where Jira reaches hubsync (the descriptor's "
                "baseUrl), e.g. https://hubsync.example.com"
            )
        _require_http_url(BASE_URL_VARIABLE, base_url)
        install_keys_url = environ.get(INSTALL_KEYS_URL_VARIABLE, "").strip().rstrip("/") or DEFAULT_INSTALL_KEYS_URL
        _require_http_url(INSTALL_KEYS_URL_VARIABLE, install_keys_url)
        hosts_value = environ.get(ALLOWED_JIRA_HOSTS_VARIABLE, "").strip() or DEFAULT_ALLOWED_JIRA_HOSTS
        hosts = tuple(glob.strip().lower() for glob in hosts_value.split(",") if glob.strip())
        if not hosts:
            raise ConfigError(f"{ALLOWED_JIRA_HOSTS_VARIABLE} names no host glob (e.g. *.atlassian.net)")
        resources = environ.get(RESOURCES_DIR_VARIABLE, "").strip()
        metrics_token = environ.get(METRICS_TOKEN_VARIABLE, "").strip() or None
        return cls(base_url, install_keys_url, hosts, Path(resources) if resources else CHECKOUT_ROOT, metrics_token)

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
