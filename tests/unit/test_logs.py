"""Structured logs: one JSON object per line with the context a call gives, plain text on request, and no secret
coming out whatever shape it was logged in (arguments, dicts, JSON bodies, URLs, tracebacks, `extra` fields)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hubsync.config import ConfigError, Settings
from hubsync.logs import (
    QUIET_LIBRARIES,
    LogSettings,
    configure_logging,
    logging_settings,
    redact,
)
from hubsync_sandbox.jira.connect_jwt import sign_hs256

SHARED_SECRET = "shared-secret-of-acme-" + "z" * 30
EVENTS_KEY = "Qm9vbV9ldmVudHNfa2V5X3ZhbHVlXzAxMjM0NTY3"
JWT = sign_hs256("GET", "/connect/panel", "client-key", SHARED_SECRET, 180)
ACCESS_KEY_ID = "ASIAQWERTYUIOPASDFGH"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PAT = "NjQ5MzY3OTI4NTU3OnR1PZWvdd1fuM3hN5ZqIEkblEcL"
SECRETS = (SHARED_SECRET, EVENTS_KEY, JWT, ACCESS_KEY_ID, SECRET_ACCESS_KEY, PAT, "dXNlcjpwYXNzd29yZA==")


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """The root logger and the quietened libraries as they were afterwards (pytest's own handlers included)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)


@pytest.fixture
def output() -> io.StringIO:
    """JSON logging into a buffer."""
    buffer = io.StringIO()
    configure_logging(LogSettings("json", logging.DEBUG), buffer)
    return buffer


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_one_json_object_per_line_with_tenant_and_finding_key(output: io.StringIO) -> None:
    log = logging.getLogger("hubsync.service.worker")
    log.info("synced %d hints", 3, extra={"tenant": "t-1", "finding_key": "ab" * 32})
    log.warning("no context")

    first, second = lines(output)

    assert first["level"] == "INFO" and first["logger"] == "hubsync.service.worker"
    assert first["message"] == "synced 3 hints"
    assert (first["tenant"], first["finding_key"]) == ("t-1", "ab" * 32)
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "tenant" not in second and second["level"] == "WARNING"


def test_secrets_passed_into_log_calls_do_not_come_out(output: io.StringIO) -> None:
    log = logging.getLogger("hubsync.web")
    log.info("request headers %s", {"Authorization": f"JWT {JWT}", "X-Hubsync-Api-Key": EVENTS_KEY})
    log.info("lifecycle body: %s", json.dumps({"clientKey": "ck-1", "sharedSecret": SHARED_SECRET}))
    log.info("iframe GET /connect/panel?issueKey=SEC-1&jwt=%s", JWT)
    log.info("aws credentials aws_access_key_id=%s aws_secret_access_key=%s", ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    log.info("Jira answered 401 to Authorization: Bearer %s", PAT)
    log.info("tenant saved: %r", {"jira_secret": PAT, "events_api_key": EVENTS_KEY, "name": "acme"})
    log.info("a bare token %s in the message", JWT, extra={"tenant": "Authorization: Basic dXNlcjpwYXNzd29yZA=="})
    try:
        raise RuntimeError(f"Jira refused sharedSecret={SHARED_SECRET}")
    except RuntimeError:
        log.exception("install failed")

    text = output.getvalue()

    for secret in SECRETS:
        assert secret not in text, f"{secret[:12]}… leaked"
    records = lines(output)
    assert len(records) == 8
    assert "[redacted]" in records[0]["message"] and "X-Hubsync-Api-Key" in records[0]["message"]
    assert "clientKey" in records[1]["message"] and "ck-1" in records[1]["message"]  # only the secret goes
    assert "issueKey=SEC-1" in records[2]["message"]
    assert "acme" in records[5]["message"]
    assert records[7]["exception"].startswith("Traceback") and "RuntimeError" in records[7]["exception"]


def test_text_format_for_a_terminal_redacts_too() -> None:
    buffer = io.StringIO()
    configure_logging(logging_settings(Settings.from_environment({"HUBSYNC_LOG_FORMAT": "text"})), buffer)
    logging.getLogger("hubsync.cli").info("key %s", f"X-Hubsync-Api-Key: {EVENTS_KEY}", extra={"tenant": "t-9"})
    logging.getLogger("alembic.runtime.plugins").info("setup plugin")  # library chatter stays out at INFO

    line = buffer.getvalue().strip()

    assert EVENTS_KEY not in line and "\n" not in line
    assert line.endswith("[tenant=t-9]") and " INFO hubsync.cli: key X-Hubsync-Api-Key: [redacted]" in line


def test_redaction_leaves_ordinary_text_alone() -> None:
    ordinary = ("tenant acme: queued 3 hints from events ['e-1'] for finding_key=ab12 ticket SEC-7; "
                "the security token included in the request is invalid (ExpiredToken)")
    assert redact(ordinary) == ordinary


def test_log_settings_from_the_environment() -> None:
    def chosen(environ: dict[str, str], default_format: str = "json") -> LogSettings:
        return logging_settings(Settings.from_environment(environ), default_format)

    assert chosen({}) == LogSettings("json", logging.INFO)
    assert chosen({}, default_format="text").format == "text"
    assert chosen({"HUBSYNC_LOG_FORMAT": " TEXT ", "HUBSYNC_LOG_LEVEL": "debug"}) == LogSettings("text", logging.DEBUG)
    with pytest.raises(ConfigError, match="json or text"):
        chosen({"HUBSYNC_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="HUBSYNC_LOG_LEVEL"):
        chosen({"HUBSYNC_LOG_LEVEL": "loud"})
