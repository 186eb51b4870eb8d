"""Which URLs from a finding may become links: one rule for the Jira ticket (ADF and wiki markup) and the panel.

Anyone who can import a finding writes its URLs (the remediation URL, `ProductFields.RecommendationUrl`), so a
link is made only of an absolute http(s) URL with a host, and of nothing a browser or Jira would read differently
from what was checked here: no control, format or space characters (a browser drops tabs and newlines, so
`java\\tscript:` would run), no backslash (a browser reads it as `/`, Python's parser does not) and no user info
(`https://docs.aws.amazon.com@evil.example` goes to evil.example).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
MAX_LINK_LENGTH = 2048
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def safe_link(url: str | None) -> str | None:
    """`url` unchanged when it may be the target of a link, else None (the caller shows it as text, or not at all)."""
    if not url or len(url) > MAX_LINK_LENGTH or "\\" in url:
        return None
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is no number
    except ValueError:
        return None
    if parts.scheme not in WEB_SCHEMES or not parts.hostname or "@" in parts.netloc:
        return None
    return url
