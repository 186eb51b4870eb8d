"""A Jira site's base URL, parsed once: the host the allow-list checks is the host requests go to.

Two URL parsers seldom agree on hostile input (`https://evil.example\\@acme.atlassian.net` is acme.atlassian.net
to Python's `urlsplit` and evil.example to a browser or another HTTP library), so a site URL is accepted only in a
form every parser reads alike, and then used in its normalised form (`JiraSite.base_url`) by whoever checks it
and whoever calls it:
- `http` or `https` (any case), then `://`, a host, an optional port, an optional context path (`/jira`);
- printable ASCII only: no whitespace, control characters or non-ASCII look-alikes (a Unicode host is written in
  its punycode form); no backslash, `@` (user info), `%`, query or fragment;
- the host is a DNS name (letters, digits and hyphens per label, no empty label, no trailing dot) or a dotted
  IPv4 address in its usual form (`127.0.0.1`, not `127.1`, `0x7f.0.0.1` or `2130706433`);
- the port is a number from 1 to 65535; the scheme's default port is dropped, as are a trailing `/`, case in the
  scheme and host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HOST_LENGTH = 253
MAX_URL_LENGTH = 2048
_SITE_URL = re.compile(r"^(?P<scheme>[A-Za-z]+)://(?P<host>[^/:]*)(?::(?P<port>[^/]*))?(?P<path>/.*)?$")
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]*$")
_FORBIDDEN = re.compile(r"[\\@%?#]")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_OCTET = re.compile(r"^(?:0|[1-9][0-9]{0,2})$")
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_LOOPBACK_HOSTS = frozenset({"localhost"})


class InvalidJiraSite(ValueError):
    """The text is not a Jira site URL hubsync accepts; the message says why."""


@dataclass(frozen=True)
class JiraSite:
    """A Jira site as requests reach it: `path` is its context path ("" or e.g. "/jira")."""

    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def netloc(self) -> str:
        """`host`, with `:port` when the port is not the scheme's default."""
        return self.host if self.port == DEFAULT_PORTS[self.scheme] else f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def base_url(self) -> str:
        """The normalised URL hubsync stores and sends requests under (no trailing slash)."""
        return self.origin + self.path

    @property
    def is_loopback(self) -> bool:
        """This machine: `localhost` or 127.0.0.0/8 (where the sandbox's sites run, over http)."""
        return self.host in _LOOPBACK_HOSTS or (_is_ipv4(self.host) and self.host.startswith("127."))


def parse_jira_site(url: str) -> JiraSite:
    """The site `url` names, normalised; `InvalidJiraSite` when it is not in the one form accepted (see above)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidJiraSite("a Jira site URL is a non-empty text of at most 2048 characters")
    if not _PRINTABLE_ASCII.match(url):
        raise InvalidJiraSite("a Jira site URL has no spaces, control characters or non-ASCII characters")
    if _FORBIDDEN.search(url):
        raise InvalidJiraSite("a Jira site URL has no backslash, user info (@), percent-encoding, query or fragment")
    match = _SITE_URL.match(url)
    if match is None:
        raise InvalidJiraSite("a Jira site URL is scheme://host[:port][/context-path]")
    scheme = match["scheme"].lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidJiraSite("a Jira site URL is http or https")
    host = _host(match["host"].lower())
    port = _port(match["port"], scheme)
    return JiraSite(scheme, host, port, _context_path(match["path"] or ""))


def _host(host: str) -> str:
    if not host or len(host) > MAX_HOST_LENGTH:
        raise InvalidJiraSite("a Jira site URL names a host")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidJiraSite(f"{host!r} is not a host name (letters, digits, hyphens; no empty label)")
    if (labels[-1].isdigit() or labels[-1].startswith("0x")) and not _is_ipv4(host):
        # A name whose last label is a number is read as an IPv4 address, in forms resolvers disagree on.
        raise InvalidJiraSite(f"{host!r} is not an IPv4 address in dotted decimal form")
    return host


def _is_ipv4(host: str) -> bool:
    labels = host.split(".")
    return len(labels) == 4 and all(_OCTET.match(label) and int(label) <= 255 for label in labels)


def _port(port: str | None, scheme: str) -> int:
    if port is None:
        return DEFAULT_PORTS[scheme]
    if not _PORT.match(port) or int(port) > 65535:
        raise InvalidJiraSite(f"{port!r} is not a port number")
    return int(port)


def _context_path(path: str) -> str:
    segments = path.rstrip("/").split("/")[1:] if path.rstrip("/") else []
    if not all(_PATH_SEGMENT.match(segment) and segment not in (".", "..") for segment in segments):
        raise InvalidJiraSite(f"{path!r} is not a context path such as /jira")
    return "".join(f"/{segment}" for segment in segments)
