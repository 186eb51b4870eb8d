"""The front end makes a link of exactly the URLs the service would (`domain.urls.safe_link`): a second check where
the link is made, with the same answer."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.domain.urls import safe_link
from tests.e2e.conftest import Hubsync
from tests.unit.adapters.jira.test_jira_documents_hostile_links import HOSTILE_URLS
from tests.unit.domain.test_urls import LINKS, NO_LINKS

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect



def test_the_front_end_links_what_the_service_links(hubsync: Hubsync, page: Any) -> None:
    world = hubsync.sandbox.jira_cloud
    plain = world.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Plain work"},
                               world.projects["OPS"].lead)
    page.goto(hubsync.issue_page(plain.key))
    frame_locator = page.frame_locator('section.panel iframe[data-app-key="io.hubsync.security-hub"]')
    expect(frame_locator.get_by_text("No Security Hub finding is linked to this issue.")).to_be_visible()
    frame = page.locator("section.panel iframe").element_handle().content_frame()
    urls = [url for url in LINKS + HOSTILE_URLS + NO_LINKS if isinstance(url, str)]

    linked = frame.evaluate(
        """async ([domUrl, urls]) => {
            const { webUrl } = await import(domUrl);
            return urls.map((url) => webUrl(url) !== null);
        }""",
        [f"{hubsync.app_url}/static/ui/dom.js", urls],
    )

    assert dict(zip(urls, linked, strict=True)) == {url: safe_link(url) is not None for url in urls}
