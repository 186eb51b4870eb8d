"""What both Security Hub clients (CSPM's `client`, the new Security Hub's `client_v2`) share: batching, cutting a
text to an API's limit, and turning a refused or failed read into `SecurityHubUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hubsync.domain.ports import SecurityHubUnavailable

NOTE_TEXT_LIMIT = 512  # BatchUpdateFindings' Note.Text and BatchUpdateFindingsV2' Comment


@contextmanager
def reading() -> Iterator[None]:
    """Raise what botocore raises on a read as `SecurityHubUnavailable`, the port's word for it."""
    try:
        yield
    except ClientError as error:
        code, message = error_of(error)
        raise SecurityHubUnavailable(f"{code}: {message}".rstrip(": ")) from error
    except BotoCoreError as error:
        raise SecurityHubUnavailable(str(error) or type(error).__name__) from error


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_of(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return details.get("Code", "Unknown"), details.get("Message", str(error))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
