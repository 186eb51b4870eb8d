"""`parse_jira_site`: one reading of a Jira site URL, for the allow-list and for the HTTP client alike."""

from __future__ import annotations

import pytest
from urllib3.util import parse_url

from hubsync.domain.jira_site import InvalidJiraSite, JiraSite, parse_jira_site

ACCEPTED = [
    ("https://acme.atlassian.net", JiraSite("https", "acme.atlassian.net", 443), "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/", JiraSite("https", "acme.atlassian.net", 443), "https://acme.atlassian.net"),
    ("HTTPS://ACME.Atlassian.NET", JiraSite("https", "acme.atlassian.net", 443), "https://acme.atlassian.net"),
    ("https://acme.atlassian.net:443", JiraSite("https", "acme.atlassian.net", 443), "https://acme.atlassian.net"),
    ("https://jira.example.com:8443/jira/", JiraSite("https", "jira.example.com", 8443, "/jira"),
     "https://jira.example.com:8443/jira"),
    ("http://127.0.0.1:8123", JiraSite("http", "127.0.0.1", 8123), "http://127.0.0.1:8123"),
    ("http://jira:8080/tools/jira", JiraSite("http", "jira", 8080, "/tools/jira"), "http://jira:8080/tools/jira"),
    ("https://xn--bcher-kva.example", JiraSite("https", "xn--bcher-kva.example", 443), "https://xn--bcher-kva.example"),
]

REFUSED = [
    "https://evil.example\\@acme.atlassian.net",
    "https://acme.atlassian.net\\@evil.example",
    "https://acme.atlassian.net\\.evil.example",
    "https://acme.atlassian.net@evil.example",
    "https://user:password@acme.atlassian.net",
    "https://@acme.atlassian.net",
    "https://evil.example#.atlassian.net",
    "https://evil.example?.atlassian.net",
    "https://evil.example%2f.atlassian.net",
    "https://evil.example%2F@acme.atlassian.net",
    "https://acme.atlassian.net/%2e%2e/",
    "https://acme.atlassian.net/?x=1",
    "https://acme.atlassian.net/#x",
    "https://acme.atlassian.net.",
    "https://acme..atlassian.net",
    "https://-acme.atlassian.net",
    "https://acme.atlassian.net:0",
    "https://acme.atlassian.net:65536",
    "https://acme.atlassian.net:+443",
    "https://acme.atlassian.net:0443",
    "https://acme.atlassian.net:443:80",
    "https://acme.atlassian.net//evil.example",
    "https://acme.atlassian.net/jira/../admin",
    "https://acme.atlassian.net/./jira",
    " https://acme.atlassian.net",
    "https://acme.atlassian.net ",
    "https://acme.atlassian.net\t",
    "https://acme.atlas\nsian.net",
    "https://acme.atlassian.net\x00.evil.example",
    "https://evil.example\uff0f.atlassian.net",
    "https://acme.atlassian\u3002net",
    "https://\u0430cme.atlassian.net",
    "https://b\u00fccher.example",
    "https://[::1]:8080",
    "http://2130706433",
    "http://127.1",
    "http://0x7f.0.0.1",
    "http://0177.0.0.1",
    "http://256.0.0.1",
    "https://1.2.3",
    "ftp://acme.atlassian.net",
    "javascript://acme.atlassian.net",
    "https:acme.atlassian.net",
    "https:///acme.atlassian.net",
    "//acme.atlassian.net",
    "acme.atlassian.net",
    "https://",
    "",
]


@pytest.mark.parametrize(("url", "site", "base_url"), ACCEPTED)
def test_a_site_url_is_read_in_its_one_normal_form(url: str, site: JiraSite, base_url: str) -> None:
    assert parse_jira_site(url) == site
    assert parse_jira_site(url).base_url == base_url
    assert parse_jira_site(base_url) == site  # the normal form reads back the same


@pytest.mark.parametrize(("url", "site", "base_url"), ACCEPTED)
def test_the_http_client_reads_an_accepted_site_as_the_parser_does(url: str, site: JiraSite, base_url: str) -> None:
    """urllib3 (under requests) parses the URL requests are sent to: the same host, port and path."""
    seen = parse_url(f"{base_url}/rest/api/3/myself")
    assert (seen.scheme, seen.host, seen.port or site.port) == (site.scheme, site.host, site.port)
    assert seen.path == f"{site.path}/rest/api/3/myself"


@pytest.mark.parametrize("url", REFUSED)
def test_a_url_parsers_may_read_differently_is_refused(url: str) -> None:
    with pytest.raises(InvalidJiraSite):
        parse_jira_site(url)


def test_loopback_is_localhost_or_127_only() -> None:
    assert parse_jira_site("http://127.0.0.1:8123").is_loopback
    assert parse_jira_site("http://localhost:8123").is_loopback
    assert not parse_jira_site("http://127.evil.example").is_loopback
    assert not parse_jira_site("https://acme.atlassian.net").is_loopback
