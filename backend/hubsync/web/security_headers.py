"""The Content-Security-Policy of every answer, set in one place (`add_content_security_policy`, run after every
request of the app).

An HTML page for a verified tenant (the iframes Jira loads: panel, glance, configure page, post-function pages)
may run scripts only from files, hubsync's own and the tenant's Jira site's (AP.js), never inline ones; it loads
everything else from hubsync, takes no plugins and no `<base>`, and may be framed only by the tenant's Jira site.
Any other answer (JSON, files, an error before the tenant is proven) gets a policy that allows nothing, so it
cannot be framed or run anything should a browser ever show it as a page. Finding data is rendered as text; the
policy is the second line should any of it ever reach a page as markup.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, g

from hubsync.domain.jira_site import InvalidJiraSite, JiraSite, parse_jira_site

LOCKED_POLICY = "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def page_policy(base_url: str, jira_site: JiraSite) -> str:
    """The policy of a page Jira frames: `jira_site` is the tenant's Jira site (its origin frames the page and
    serves AP.js). Styles may be inline: AP.js styles the page it runs in."""
    own = _sources("'self'", _origin(base_url))
    jira = jira_site.origin
    return "; ".join([
        f"default-src {own}",
        f"script-src {_sources(own, jira)}",
        f"style-src {own} 'unsafe-inline'",
        f"connect-src {own}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {jira}",
    ])


def add_content_security_policy(base_url: str, response: Response) -> Response:
    """Set the answer's policy: a page's when it is HTML for a verified tenant (`g.tenant`), else the locked one."""
    tenant = g.get("tenant")
    site = _site(tenant.jira_base_url) if tenant is not None and response.mimetype == "text/html" else None
    response.headers["Content-Security-Policy"] = LOCKED_POLICY if site is None else page_policy(base_url, site)
    return response


def _site(jira_base_url: str) -> JiraSite | None:
    try:
        return parse_jira_site(jira_base_url)
    except InvalidJiraSite:
        return None


def _sources(*sources: str) -> str:
    return " ".join(dict.fromkeys(" ".join(sources).split()))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
