"""JQL search, page by page, in either flavour: Cloud's `/search/jql` (token paging, no total — the old `/search`
answers 410 there) and Data Center's `/search` (`startAt` and `total`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from hubsync.adapters.jira.dialect import Dialect
from hubsync.adapters.jira.transport import JiraTransport

PAGE_SIZE = 100  # Cloud returns at most 100 issues a page when fields are asked for


def search_issues(
    transport: JiraTransport,
    dialect: Dialect,
    operation: str,
    jql: str,
    *,
    fields: Sequence[str],
    properties: Sequence[str] = (),
    changelog: bool = False,
    page_size: int = PAGE_SIZE,
    pages: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every issue matching `jql` (or those of the first `pages` pages), one page in memory at a time.

    Data Center's search has no `properties` parameter: its issues come without them."""
    body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
    if dialect.cloud:
        if properties:
            body["properties"] = list(properties)
        if changelog:
            body["expand"] = "changelog"
    elif changelog:
        body["expand"] = ["changelog"]
    fetched = 0
    while pages is None or fetched < pages:
        if dialect.cloud:
            page = transport.call(operation, "POST", "/search/jql", json=body) or {}
        else:
            page = transport.call(operation, "POST", "/search", json=body) or {}
        fetched += 1
        issues = page.get("issues") or []
        yield from issues
        if dialect.cloud:
            token = page.get("nextPageToken")
            if not token or page.get("isLast", False):
                return
            body["nextPageToken"] = token
        else:
            start_at = int(page.get("startAt", body.get("startAt", 0))) + len(issues)
            if not issues or start_at >= int(page.get("total", 0)):
                return
            body["startAt"] = start_at


def jql_string(value: str) -> str:
    """A JQL string literal, quoted and escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def jql_list(values: Iterable[str]) -> str:
    return ", ".join(jql_string(value) for value in values)


def jql_id(value: str) -> str:
    """A status or issue type id: bare when numeric, so Jira takes it as an id and not as a name."""
    return value if value.isdigit() else jql_string(value)
