"""One parser (`domain.jira_site`) decides whether a Jira site may install hubsync and where hubsync's requests to
it go: no backslash, user info, percent-encoding or look-alike trick reads one way for the check and another way
for the HTTP client."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from requests.auth import HTTPBasicAuth
from urllib3.util import parse_url

from hubsync.adapters.jira.transport import JiraTransport
from hubsync.adapters.store import Store
from hubsync.config import Settings
from hubsync.domain.jira_site import InvalidJiraSite
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from tests.unit.domain.test_jira_site import REFUSED
from tests.unit.web.conftest import tenants
from tests.unit.web.jira_requests import install_token, jwt_header, lifecycle_body

DIFFERENTIAL = [
    "https://evil.example\\@acme.atlassian.net",  # urlsplit: acme.atlassian.net; requests: evil.example
    "https://evil.example%2f.atlassian.net",
    "https://evil.example%2F@acme.atlassian.net",
    "https://evil.example\uff0f.atlassian.net",  # a full-width solidus, `/` once normalised
    "https://acme.atlassian.net@evil.example",
    "https://user@acme.atlassian.net",
    "https://evil.example#.atlassian.net",
    "https://acme.atlassian.net/#x",
    "https://acme.atlassian.net/?x",
    "https://acme.atlassian.net.evil.example",
    "https://acme.atlassian.net.",
    "https://acme.atlassian.net\t",
    "https://acme.atlassian.net/jira/../x",
    "https://acme.atlassian.net:0443",
    "http://acme.atlassian.net",  # a Cloud site is https; plain http only on this machine (the sandbox)
]


def _config(allowed: str = "") -> Settings:
    return Settings.from_environment(
        {"HUBSYNC_BASE_URL": "https://hubsync.example.com", "HUBSYNC_ALLOWED_JIRA_HOSTS": allowed}
    )


@pytest.mark.parametrize("url", DIFFERENTIAL + REFUSED)
def test_a_url_parsers_may_read_differently_may_not_install(url: str) -> None:
    assert _config("*.atlassian.net, 127.0.0.1").jira_host_allowed(url) is False


@pytest.mark.parametrize(
    ("allowed", "url", "base_url"),
    [
        ("", "https://ACME.Atlassian.net:443/", "https://acme.atlassian.net"),
        ("", "https://acme.atlassian.net", "https://acme.atlassian.net"),
        ("127.0.0.1:8123", "http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("jira.example.com:8443", "https://jira.example.com:8443/jira", "https://jira.example.com:8443/jira"),
        ("jira.example.com:443", "https://jira.example.com", "https://jira.example.com"),
    ],
)
def test_requests_go_to_the_site_the_allow_list_checked(allowed: str, url: str, base_url: str) -> None:
    site = _config(allowed).allowed_jira_site(url)
    assert site is not None and site.base_url == base_url
    session = _RecordingSession()

    JiraTransport(url, "3", HTTPBasicAuth("bot", "token"), session=session).call("myself", "GET", "/myself")

    [sent] = session.urls
    seen = parse_url(sent)
    assert (seen.scheme, seen.host, seen.port or site.port) == (site.scheme, site.host, site.port)
    assert sent == f"{base_url}/rest/api/3/myself"


@pytest.mark.parametrize("url", DIFFERENTIAL[:9])
def test_the_jira_client_sends_nothing_to_a_site_url_it_cannot_read_as_the_check_does(url: str) -> None:
    session = _RecordingSession()

    with pytest.raises(InvalidJiraSite):
        JiraTransport(url, "3", HTTPBasicAuth("bot", "token"), session=session).call("myself", "GET", "/myself")

    assert session.urls == []


@pytest.mark.parametrize("url", ["https://acme.atlassian.net/?x", "https://acme.atlassian.net/#x",
                                 "https://user@acme.atlassian.net", "http://acme.atlassian.net"])
def test_a_connect_install_from_such_a_url_is_refused(
    client: FlaskClient, key_server: InstallKeyServer, store: Store, url: str
) -> None:
    token = install_token(key_server, "/connect/installed")
    body = lifecycle_body("installed", base_url=url)

    response = client.post("/connect/installed", json=body, headers=jwt_header(token))

    assert response.status_code in (400, 403), response.json
    assert tenants(store) == []


class _RecordingSession(requests.Session):
    """Answers every request with `{}` and keeps the URLs it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method: str | bytes, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.urls.append(requests.Request(str(method), url, params=kwargs.get("params")).prepare().url or "")
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        return response
