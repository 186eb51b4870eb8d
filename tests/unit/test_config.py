"""hubsync's settings (`hubsync.config.Settings`): the defaults a fresh clone runs with, an error for each wrong
value that names the variable and says what to set, the base URL required only where Jira must reach hubsync,
secrets never shown, and which Jira sites may install hubsync."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from hubsync.adapters.store import database_url
from hubsync.config import (
    CHECKOUT_ROOT,
    DEFAULT_ALLOWED_JIRA_HOSTS,
    DEFAULT_INSTALL_KEYS_URL,
    ConfigError,
    Settings,
)

BASE_URL = "https://hubsync.example.com"
KEY = "k" * 16 + "a-long-enough-random-secret-key"
OLD_KEY = "o" * 16 + "the-previous-secret-key-in-use"


# -- defaults ---------------------------------------------------------------------------------------------------------
def test_an_empty_environment_is_a_fresh_clones_defaults() -> None:
    settings = Settings.from_environment({})

    assert settings == Settings()
    assert database_url(settings.database_url).get_backend_name() == "sqlite"  # ./var/hubsync.sqlite3, no server
    assert settings.secret_keys == ()  # `open_store` refuses to start without one, except in the sandbox
    assert settings.base_url == "" and settings.base_path == ""  # only `serve` and `descriptor` need it
    assert settings.install_keys_url == DEFAULT_INSTALL_KEYS_URL == "https://connect-install-keys.atlassian.com"
    assert settings.allowed_jira_hosts == DEFAULT_ALLOWED_JIRA_HOSTS == ("*.atlassian.net",)
    assert settings.resources_dir == CHECKOUT_ROOT
    assert (settings.resources_dir / "connect-descriptor" / "atlassian-connect.json").is_file()
    assert (settings.resources_dir / "ui-templates").is_dir()
    assert settings.metrics_token is None  # /metrics is open unless a token is set
    assert (settings.queue_url, settings.events_queue_url) == ("", "")  # the local queue, no events queue
    assert settings.aws_region is None
    assert (settings.jira_rate, settings.jira_burst, settings.aws_rate_share) == (None, None, None)
    assert settings.log_format is None  # each command's own default
    assert (settings.log_level, settings.log_level_number) == ("INFO", logging.INFO)
    assert settings.jira_secret is None
    assert settings.forwarded_allow_ips == "127.0.0.1"
    assert settings.metrics_multiprocess_dir is None
    assert settings.onboarding_confirm_above == 200  # a save that would create more tickets asks first


def test_defaults_point_at_atlassian() -> None:
    config = Settings.from_environment({"HUBSYNC_BASE_URL": "https://hubsync.example.com/"})
    assert config.base_url == "https://hubsync.example.com"
    assert config.base_path == ""
    assert config.install_keys_url == "https://connect-install-keys.atlassian.com"
    assert config.allowed_jira_hosts == ("*.atlassian.net",)
    assert config.metrics_token is None  # /metrics is open unless a token is set


def test_without_an_argument_the_processs_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_BASE_URL", "https://from-the-process.example.com")
    monkeypatch.setenv("HUBSYNC_LOG_LEVEL", "warning")
    settings = Settings.from_environment()
    assert settings.base_url == "https://from-the-process.example.com"
    assert settings.log_level == "WARNING"


def test_values_are_read_as_operators_write_them() -> None:
    settings = Settings.from_environment({
        "HUBSYNC_DATABASE_URL": " postgresql://hubsync@db.internal/hubsync ",
        "HUBSYNC_SECRET_KEY": f" {KEY} , {OLD_KEY} ",
        "HUBSYNC_ALLOWED_JIRA_HOSTS": "*.Atlassian.net, jira.example.com:8443 ,",
        "HUBSYNC_RESOURCES_DIR": "/app",
        "HUBSYNC_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/111122223333/hints.fifo",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "HUBSYNC_JIRA_RATE": "2.5",
        "HUBSYNC_JIRA_BURST": "4.2",
        "HUBSYNC_AWS_RATE_SHARE": "0.5",
        "HUBSYNC_LOG_FORMAT": " TEXT ",
        "HUBSYNC_LOG_LEVEL": "debug",
        "HUBSYNC_ONBOARDING_CONFIRM_ABOVE": " 50 ",
    })
    assert settings.database_url == "postgresql://hubsync@db.internal/hubsync"
    assert settings.secret_keys == (KEY, OLD_KEY)  # the first encrypts, all decrypt
    assert settings.allowed_jira_hosts == ("*.atlassian.net", "jira.example.com:8443")
    assert str(settings.resources_dir) == "/app"
    assert settings.queue_url.endswith("hints.fifo")
    assert settings.aws_region == "eu-west-1"
    assert (settings.jira_rate, settings.jira_burst, settings.aws_rate_share) == (2.5, 5, 0.5)  # a whole burst
    assert (settings.log_format, settings.log_level_number) == ("text", logging.DEBUG)
    assert settings.onboarding_confirm_above == 50
    assert Settings.from_environment({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == (
        "us-east-1"
    )


# -- errors -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "value", "what_to_set"),
    [
        ("HUBSYNC_BASE_URL", "hubsync.example.com", "http(s) URL"),
        ("HUBSYNC_BASE_URL", "ftp://hubsync.example.com", "http(s) URL"),
        ("HUBSYNC_BASE_URL", "https://hubsync.example.com/?tenant=1", "without query or fragment"),
        ("HUBSYNC_INSTALL_KEYS_URL", "keys", "http(s) URL"),
        ("HUBSYNC_ALLOWED_JIRA_HOSTS", " , ", "e.g. *.atlassian.net"),
        ("HUBSYNC_SECRET_KEY", "hunter2", "at least 32 characters"),
        ("HUBSYNC_JIRA_RATE", "fast", "must be a number"),
        ("HUBSYNC_JIRA_RATE", "0", "must be above 0"),
        ("HUBSYNC_JIRA_RATE", "-1", "must be above 0"),
        ("HUBSYNC_JIRA_RATE", "inf", "must be above 0"),
        ("HUBSYNC_JIRA_RATE", "nan", "must be above 0"),
        ("HUBSYNC_JIRA_BURST", "-2", "must be above 0"),
        ("HUBSYNC_AWS_RATE_SHARE", "half", "must be a number"),
        ("HUBSYNC_AWS_RATE_SHARE", "0", "must be above 0"),
        ("HUBSYNC_LOG_FORMAT", "xml", "use json or text"),
        ("HUBSYNC_LOG_LEVEL", "loud", "use DEBUG, INFO, WARNING or ERROR"),
        ("HUBSYNC_SECRET_KEY", ",", "at least 32 characters"),
        ("HUBSYNC_ONBOARDING_CONFIRM_ABOVE", "many", "a whole number of 0 or more"),
        ("HUBSYNC_ONBOARDING_CONFIRM_ABOVE", "-1", "a whole number of 0 or more"),
        ("HUBSYNC_ONBOARDING_CONFIRM_ABOVE", "2.5", "a whole number of 0 or more"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_variable_and_what_to_set(variable: str, value: str,
                                                                      what_to_set: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environment({variable: value})
    message = str(error.value)
    assert variable in message
    assert what_to_set in message


def test_a_refused_secret_key_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_SECRET_KEY") as error:
        Settings.from_environment({"HUBSYNC_SECRET_KEY": f"{KEY},hunter2"})
    assert "hunter2" not in str(error.value) and KEY not in str(error.value)
    assert "secrets.token_urlsafe" in str(error.value)  # how to make one


def test_a_missing_secret_key_is_an_error_only_when_one_is_needed() -> None:
    settings = Settings.from_environment({})
    with pytest.raises(ConfigError, match="HUBSYNC_SECRET_KEY is not set") as error:
        settings.require_secret_keys()
    assert "secrets.token_urlsafe" in str(error.value)
    assert Settings.from_environment({"HUBSYNC_SECRET_KEY": KEY}).require_secret_keys() == (KEY,)


# -- the base URL -----------------------------------------------------------------------------------------------------
def test_the_base_url_is_required_only_where_jira_must_reach_hubsync() -> None:
    unset = Settings.from_environment({})  # every other command starts without it
    with pytest.raises(ConfigError, match="HUBSYNC_BASE_URL is not set") as error:
        unset.require_base_url()
    assert "https://" in str(error.value)  # an example of what to set
    assert Settings.from_environment({"HUBSYNC_BASE_URL": f"{BASE_URL}/"}).require_base_url() == BASE_URL


def test_a_base_url_with_a_path_keeps_it_for_the_qsh() -> None:
    config = Settings.from_environment({"HUBSYNC_BASE_URL": "https://example.com/tools/hubsync/"})
    assert config.base_path == "/tools/hubsync"
    assert config.require_base_url() == "https://example.com/tools/hubsync"


def test_an_install_keys_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_INSTALL_KEYS_URL"):
        Settings.from_environment({"HUBSYNC_BASE_URL": "https://h.example.com", "HUBSYNC_INSTALL_KEYS_URL": "keys"})


# -- secrets ----------------------------------------------------------------------------------------------------------
def test_the_metrics_token_is_read_once_and_never_shown() -> None:
    config = Settings.from_environment({"HUBSYNC_BASE_URL": "https://h.example.com", "HUBSYNC_METRICS_TOKEN": " s3 "})
    assert config.metrics_token == "s3"
    assert "s3" not in repr(config)


def test_no_secret_is_in_the_settings_repr() -> None:
    metrics_token = "the-scrapers-token-" + "m" * 20
    jira_secret = "the-jira-api-token-" + "j" * 20
    settings = Settings.from_environment({
        "HUBSYNC_SECRET_KEY": f"{KEY},{OLD_KEY}",
        "HUBSYNC_METRICS_TOKEN": metrics_token,
        "HUBSYNC_JIRA_SECRET": jira_secret,
    })
    assert (settings.secret_keys, settings.metrics_token, settings.jira_secret) == (
        (KEY, OLD_KEY), metrics_token, jira_secret
    )
    for shown in (repr(settings), str(settings), f"{settings}"):
        for secret in (KEY, OLD_KEY, metrics_token, jira_secret):
            assert secret not in shown


# -- which Jira sites may install hubsync ------------------------------------------------------------------------
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
    assert Settings.from_environment(environ).jira_host_allowed(site) is ok


@pytest.mark.parametrize(
    ("allowed", "site", "base_url"),
    [
        ("", "https://ACME.Atlassian.net:443/", "https://acme.atlassian.net"),
        ("jira.example.com:8443", "https://jira.example.com:8443/jira", "https://jira.example.com:8443/jira"),
        ("127.0.0.1", "http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_an_allowed_site_is_returned_as_requests_will_reach_it(allowed: str, site: str, base_url: str) -> None:
    found = Settings.from_environment({"HUBSYNC_ALLOWED_JIRA_HOSTS": allowed}).allowed_jira_site(site)
    assert found is not None and found.base_url == base_url


@pytest.mark.parametrize(
    "site",
    ["http://acme.atlassian.net", "https://acme.atlassian.net.evil.example", "not a url", "https://evil.example"],
)
def test_a_site_that_may_not_install_has_no_allowed_site(site: str) -> None:
    assert Settings.from_environment({}).allowed_jira_site(site) is None


def test_only_config_reads_the_environment() -> None:
    """One place reads the environment: a setting read anywhere else would escape the checks (and the errors that
    say how to fix it). The command line only hands prometheus_client's directory to the web server's workers."""
    package = Path(__file__).resolve().parents[2] / "backend" / "hubsync"
    readers = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "config.py" and path.parent == package:
            continue
        tree = ast.parse(path.read_text(), str(path))
        writes = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)}
        for node in ast.walk(tree):
            named = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
                     and isinstance(node.value, ast.Name) and node.value.id == "os")
            if named and id(node) not in writes and not _is_pop(tree, node):
                readers.append(f"{path.relative_to(package)}:{node.lineno}")
    assert readers == []


def _is_pop(tree: ast.AST, environ: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.value is environ and node.attr == "pop"
               for node in ast.walk(tree))
