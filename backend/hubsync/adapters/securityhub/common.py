"""What both Security Hub clients (CSPM's `client`, the new Security Hub's `client_v2`) share: counting requests,
paging a read and parsing what it returns (a finding that does not parse is counted and skipped), a batch update
retried while Security Hub says "not now", batching, cutting a text to an API's limit, and turning a refused or
failed read into `SecurityHubUnavailable`. Each client says only what differs: its operations, its wire format."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from hubsync.adapters.aws_session import DEFAULT_MAX_ATTEMPTS, client_config, count_requests, observe_calls
from hubsync.domain.finding import Finding, FindingIdentifier, InvalidFinding
from hubsync.domain.ports import SecurityHubUnavailable, UpdateFailure

log = logging.getLogger(__name__)
PAGE_SIZE = 100  # GetFindings' and GetFindingsV2' MaxResults ceiling

NOTE_TEXT_LIMIT = 512  # BatchUpdateFindings' Note.Text and BatchUpdateFindingsV2' Comment
UNPARSABLE = "Security Hub returned this finding in a shape hubsync cannot read (see the log)"
IN_V2 = ("the finding is in the new Security Hub, and this tenant reads Security Hub CSPM: its ticket is left as "
         "it is")
NO_TWIN = ("the finding is in Security Hub CSPM, and the new Security Hub, which this tenant reads, has no twin of "
           "it: its ticket is left as it is")


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


class FindingsClient:
    """A `SecurityHubPort` over a boto3 `securityhub` client, less its wire format: a subclass names its read
    paginator and update operation, and says how a finding parses, is keyed, is sent for update and comes back
    unprocessed.

    `calls` counts the HTTP requests sent per operation (retries included), for benchmarks. `invalid_findings`
    counts findings skipped because they did not parse, and `unreadable` holds their keys (and those of findings of
    the other generation, which this client cannot read), so a caller can tell a finding Security Hub no longer has
    from one hubsync could not read.
    """

    read_operation: str  # the paginator of the read: get_findings, get_findings_v2
    update_operation: str  # as Security Hub names it, for log lines

    def __init__(
        self,
        client: Any,
        update_attempts: int = 3,
        retry_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._update_attempts = update_attempts
        self._retry_delay = retry_delay
        self._sleep = sleep
        self.calls: Counter[str] = count_requests(client, Counter())
        observe_calls(client.meta.events)  # a no-op when the client's session already reports its calls
        self.invalid_findings = 0
        self.unreadable: dict[str, str] = {}

    @classmethod
    def for_session(cls, session: boto3.Session, region: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                    **options: Any) -> Self:
        """A client in `region`, the tenant's aggregation (home) Region, or its only Region without aggregation."""
        return cls(session.client("securityhub", region_name=region, config=client_config(max_attempts)), **options)

    # -- what differs between the generations ------------------------------------------------------------------
    def _parse_finding(self, data: Any) -> Finding:
        raise NotImplementedError

    def _key_of(self, data: Any) -> str:
        """The finding key of raw finding data, however malformed."""
        raise NotImplementedError

    def _name_of(self, data: Any) -> str:
        """How a log line names raw finding data."""
        raise NotImplementedError

    def _send_update(self, pending: list[FindingIdentifier], request: dict[str, Any]) -> list[Mapping[str, Any]]:
        """One update call; its UnprocessedFindings."""
        raise NotImplementedError

    def _sort_unprocessed(self, unprocessed: Sequence[Mapping[str, Any]], pending: list[FindingIdentifier],
                          may_retry: bool) -> tuple[list[FindingIdentifier], list[UpdateFailure]]:
        """Those to send again, and final failures."""
        raise NotImplementedError

    def _transient(self, code: str) -> bool:
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------------------------
    def _pages(self, filters: Mapping[str, Any], sort: list[dict[str, str]] | None = None) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator(self.read_operation)
        order = {"SortCriteria": sort} if sort else {}
        with reading():
            for page in paginator.paginate(Filters=dict(filters), PaginationConfig={"PageSize": PAGE_SIZE}, **order):
                yield from page["Findings"]

    def _parse(self, data: Any) -> Finding | None:
        try:
            return self._parse_finding(data)
        except InvalidFinding as error:
            self.invalid_findings += 1
            self.unreadable[self._key_of(data)] = UNPARSABLE
            log.warning("skipping finding %s: %s", self._name_of(data), error)
            return None

    def _update_batch(self, identifiers: list[FindingIdentifier], request: dict[str, Any]) -> list[UpdateFailure]:
        """One batch, its findings that may pass on another try sent again a few times; a call Security Hub refused
        fails every finding still pending."""
        failures: list[UpdateFailure] = []
        pending = identifiers
        for attempt in range(1, self._update_attempts + 1):
            try:
                unprocessed = self._send_update(pending, request)
            except ClientError as error:
                code, message = error_of(error)
                log.warning("%s of %d findings refused: %s %s", self.update_operation, len(pending), code, message)
                return [*failures, *(UpdateFailure(item, code, message, self._transient(code)) for item in pending)]
            retry, final = self._sort_unprocessed(unprocessed, pending, attempt < self._update_attempts)
            for failure in final:
                log.warning("finding %s not updated: %s %s", failure.identifier.id, failure.error_code,
                            failure.message)
            failures.extend(final)
            if not retry:
                break
            pending = retry
            self._sleep(self._retry_delay * attempt)
        return failures
