"""`safe_link`: which URLs from a finding may be link targets, in a ticket and in the panel."""

from __future__ import annotations

import pytest

from hubsync.domain.urls import safe_link

LINKS = [
    "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8",
    "http://docs.example/fix?step=2",
    "HTTPS://Docs.AWS.amazon.com/x",
    "https://docs.example:8443/caf%C3%A9",
    "https://docs.example/caf\u00e9",
]
NO_LINKS = [
    None, "", "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:x", "mailto:a@b.example", "ftp://docs.example/x", "file:///etc/passwd",
    "/relative/path", "//docs.example/x", "https:docs.example", "https:///docs.example", "https://",
    " https://docs.example", "https://docs.example/\t", "java\nscript:alert(1)", "https://docs.example/\x7f",
    "https://docs.example/a b", "https://docs.example/\u00a0", "https://docs.example/\u2028",
    "https://docs.example/\u200b", "https://docs.example/\u202e", "https://docs.example\\@evil.example",
    "https://evil.example\\docs.example", "https://user@docs.example", "https://docs.example:pw@evil.example",
    "https://@docs.example", "https://docs.example:99999/", "https://docs.example:port/",
    "https://[::1/", "https://docs.example/" + "a" * 2048,
]


@pytest.mark.parametrize("url", LINKS)
def test_a_web_url_with_a_host_is_a_link_as_it_is(url: str) -> None:
    assert safe_link(url) == url


@pytest.mark.parametrize("url", NO_LINKS)
def test_anything_else_is_no_link(url: str | None) -> None:
    assert safe_link(url) is None
