"""Logs: one JSON object per line (or plain text), with the tenant and finding key a log call names, and never a
secret.

    configure_logging(logging_settings(settings, default_format="json"))   # `hubsync serve` and `hubsync worker`
    log.info("synced %s", key, extra={"tenant": tenant.id, "finding_key": key})

    {"time": "2026-11-27T21:40:00.123Z", "level": "INFO", "logger": "hubsync.service.worker",
     "message": "synced …", "tenant": "…", "finding_key": "…"}

HUBSYNC_LOG_FORMAT is `json` (the default of `serve` and `worker`: what log pipelines parse) or `text` (a person at
a terminal); HUBSYNC_LOG_LEVEL is a level name (default INFO).

Secrets: `RedactingFilter`, on the handler, rewrites every record before any formatter sees it: the message with
its arguments, the `extra` fields, the traceback. It removes what looks like a secret wherever it appears — JWTs
(Connect's tokens travel in query strings and headers), the value after `Authorization`, values named like a key,
token, password or secret (`sharedSecret`, `X-Hubsync-Api-Key`, `aws_secret_access_key`, `jira_secret`, …), AWS
access key ids and PEM private keys. It is a net under the rule "never log a secret", not a licence to try.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from hubsync.config import Settings

REDACTED = "[redacted]"
# Libraries whose INFO lines say nothing an operator acts on (alembic's plugin set-up at every start, botocore's
# credential lookups): WARNING and up only, unless HUBSYNC_LOG_LEVEL=DEBUG.
QUIET_LIBRARIES = ("alembic", "botocore", "boto3", "urllib3")
# What a log call may name through `extra=`, in this order in the output.
CONTEXT_FIELDS = ("tenant", "finding_key", "ticket_key", "event_id")

_SECRET_NAME = (
    r"(?:x-hubsync-api-key|[a-z_-]*api[_-]?key|apikey|[a-z_-]*secret(?:[_-]?(?:access[_-]?)?key)?|"
    r"[a-z_-]*token|password|passwd|private[_-]?key|jwt|signature|credentials?)"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, whole.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S), REDACTED),
    # Authorization values to the end of their quotes or line ("JWT …", "Basic …", AWS's SigV4 with its commas).
    (re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*)([\"']?)[^\"'\n]*"), rf"\1\2{REDACTED}"),
    # name=value / "name": "value" / 'name': 'value' / name: value, for names that say secret.
    (re.compile(rf"(?i)(\b{_SECRET_NAME}[\"']?\s*[:=]\s*)([\"']?)[^\s\"',;&}}\]]+"), rf"\1\2{REDACTED}"),
    # JWTs anywhere (three base64url parts, the first a JSON object: "eyJ").
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), REDACTED),
    # AWS access key ids (the secret key has no shape of its own: caught by its name above).
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
)


def redact(text: str) -> str:
    """`text` with everything that looks like a secret replaced by `[redacted]`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(value if isinstance(value, str) else str(value))


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no handler after it sees a secret: the formatted message (arguments merged
    in), the context fields, the traceback and stack. Never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what was given, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                record.__dict__[name] = _redact_value(record.__dict__[name])
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context fields given, and the
    traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [tenant=… finding_key=…]` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{name}={record.__dict__[name]}" for name in CONTEXT_FIELDS
                           if record.__dict__.get(name) is not None)
        if not context:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{context}]{newline}{rest}"


@dataclass(frozen=True)
class LogSettings:
    format: str = "json"
    level: int = logging.INFO


def logging_settings(settings: Settings, default_format: str = "json") -> LogSettings:
    """What HUBSYNC_LOG_FORMAT and HUBSYNC_LOG_LEVEL chose (checked by `Settings`), the command's format if unset."""
    return LogSettings(settings.log_format or default_format, settings.log_level_number)


def log_handler(settings: LogSettings, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) with the redacting filter and the chosen formatter."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    return handler


def configure_logging(settings: LogSettings, stream: TextIO | None = None) -> logging.Handler:
    """Make the root logger write through `log_handler` only (called once, by an entry point)."""
    handler = log_handler(settings, stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    quiet = logging.DEBUG if settings.level <= logging.DEBUG else max(settings.level, logging.WARNING)
    for library in QUIET_LIBRARIES:
        logging.getLogger(library).setLevel(quiet)
    return handler


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
