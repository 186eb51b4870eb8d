"""The web app's environment: defaults, and which Jira sites may install hubsync."""

from __future__ import annotations

import pytest

from hubsync.web.config import ConfigError, WebConfig


def test_defaults_point_at_atlassian() -> None:
    config = WebConfig.from_environment({"HUBSYNC_BASE_URL": "https://hubsync.example.com/"})
    assert config.base_url == "https://hubsync.example.com"
    assert config.base_path == ""
    assert config.install_keys_url == "https://connect-install-keys.atlassian.com"
    assert config.allowed_jira_hosts == ("*.atlassian.net",)
    assert config.metrics_token is None  # /metrics is open unless a token is set


def test_the_metrics_token_is_read_once_and_never_shown() -> None:
    config = WebConfig.from_environment({"HUBSYNC_BASE_URL": "https://h.example.com", "HUBSYNC_METRICS_TOKEN": " s3 "})
    assert config.metrics_token == "s3"
    assert "s3" not in repr(config)


@pytest.mark.parametrize(
    ("allowed", "site", "ok"),
    [
        ("", "https://acme.atlassian.net", True),
        ("", "https://ACME.atlassian.net/", True),
        ("", "https://atlassian.net.evil.example", False),
        ("", "https://evil.example/acme.atlassian.net", False),
        ("", "ftp://acme.atlassian.net", False),
        ("", "https://user@acme.atlassian.net.evil.example", False),
        ("*.atlassian.net, jira.example.com", "https://jira.example.com", True),
        ("127.0.0.1", "http://127.0.0.1:8123", True),
        ("127.0.0.1:8123", "http://127.0.0.1:8124", False),
        ("127.0.0.1:8123", "http://127.0.0.1:8123", True),
    ],
)
def test_allowed_jira_hosts_are_globs_on_the_host(allowed: str, site: str, ok: bool) -> None:
    environ = {"HUBSYNC_BASE_URL": "https://hubsync.example.com", "HUBSYNC_ALLOWED_JIRA_HOSTS": allowed}
    assert WebConfig.from_environment(environ).jira_host_allowed(site) is ok


def test_a_base_url_with_a_path_keeps_it_for_the_qsh() -> None:
    config = WebConfig.from_environment({"HUBSYNC_BASE_URL": "https://example.com/tools/hubsync/"})
    assert config.base_path == "/tools/hubsync"


def test_an_install_keys_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_INSTALL_KEYS_URL"):
        WebConfig.from_environment({"HUBSYNC_BASE_URL": "https://h.example.com", "HUBSYNC_INSTALL_KEYS_URL": "keys"})
