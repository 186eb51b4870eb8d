"""The pages Jira loads in iframes: the issue panel (and glance), the configure page, the post function's
configuration pages, and the front end's static files.

The panel and configure pages render the page shell `ui-templates/shell.html` (owned by the front end), a Jinja
template that loads AP.js from the Jira host and the front end from `static_url`; the front end then renders
the `/api/v1` JSON with a context token. The shell receives:

    page         "panel" or "configure"
    surface      "panel", "glance" (the panel opened from the issue glance) or "configure"
    issue_key    e.g. "SEC-7" (panel only, else None)
    project_key  e.g. "SEC" (panel only, else None)
    ap_js_url    the Jira host's `/atlassian-connect/all.js` (from `xdm_e` + `cp`, checked against the tenant)
    static_url   where `ui-templates/static/` is served, absolute, no trailing slash (…/static/ui)
    api_url      the iframe API's root, absolute, no trailing slash (…/api/v1)
    base_url     hubsync's base URL (HUBSYNC_BASE_URL)

Each page load is a Jira request with a real qsh (`verified_jira()`); the JWT in its URL is not for the front
end to keep (it asks AP.context.getToken() for context tokens), and `Referrer-Policy: no-referrer` keeps the URL
from leaking to the assets the page loads. Every page's `Content-Security-Policy` comes from `security_headers`,
which this blueprint runs after every request of the app: scripts only from hubsync's files and the Jira site's
AP.js, none inline, and framed only by the tenant's Jira site.
"""

from __future__ import annotations

import functools
import re

from flask import Blueprint, Response, g, make_response, render_template, request, send_from_directory

from hubsync.config import Settings
from hubsync.domain.jira_site import InvalidJiraSite, parse_jira_site
from hubsync.web.errors import ApiError
from hubsync.web.jira_auth import verified_jira
from hubsync.web.jira_keys import ISSUE_KEY
from hubsync.web.security_headers import add_content_security_policy

UI_DIR = "ui-templates"
SHELL = "shell.html"
STATIC_URL_PATH = "/static/ui"
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
CONTEXT_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
AP_JS_PATH = "/atlassian-connect/all.js"
POST_FUNCTION_PAGES = ("create", "edit", "view")


def pages_blueprint(config: Settings) -> Blueprint:
    ui_dir = config.resources_dir / UI_DIR
    bp = Blueprint("pages", __name__, template_folder=str(ui_dir))
    bp.after_app_request(functools.partial(add_content_security_policy, config.base_url))

    @bp.get("/connect/panel")
    @verified_jira()
    def panel() -> Response:
        issue_key = _query_key("issueKey", ISSUE_KEY, "a Jira issue key such as SEC-7")
        project_key = _query_key("projectKey", PROJECT_KEY, "a Jira project key such as SEC")
        surface = "glance" if request.args.get("surface") == "glance" else "panel"
        return _shell(config, "panel", surface, issue_key, project_key)

    @bp.get("/connect/configure")
    @verified_jira()
    def configure() -> Response:
        return _shell(config, "configure", "configure", None, None)

    @bp.get("/connect/post-function/<any(create, edit, view):mode>")
    @verified_jira()
    def post_function_page(mode: str) -> Response:
        """The post function has nothing to configure: the pages say what it does, and create/edit save "{}"."""
        html = render_template(
            "post_function.html", mode=mode, ap_js_url=_ap_js_url(), static_url=config.base_url + STATIC_URL_PATH
        )
        return _page(html)

    @bp.get(f"{STATIC_URL_PATH}/<path:filename>")
    def static(filename: str) -> Response:
        return send_from_directory(ui_dir / "static", filename, max_age=300)

    def _shell(config: Settings, page: str, surface: str, issue_key: str | None, project_key: str | None) -> Response:
        if not (ui_dir / SHELL).is_file():
            raise ApiError(503, f"the page shell {UI_DIR}/{SHELL} is not installed in {config.resources_dir}")
        ap_js_url = _ap_js_url()
        html = render_template(
            SHELL,
            page=page,
            surface=surface,
            issue_key=issue_key,
            project_key=project_key,
            ap_js_url=ap_js_url,
            static_url=config.base_url + STATIC_URL_PATH,
            api_url=config.base_url + "/api/v1",
            base_url=config.base_url,
        )
        return _page(html)

    return bp


def _page(html: str) -> Response:
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _query_key(name: str, pattern: re.Pattern[str], what: str) -> str:
    value = request.args.get(name, "").strip().upper()
    if not pattern.match(value):
        raise ApiError(400, f"{name} must be {what}")
    return value


def _ap_js_url() -> str:
    """AP.js from the Jira host that framed us: `xdm_e` (its origin) and `cp` (its context path), which must be
    the verified tenant's site, so a crafted link cannot make the page load script from elsewhere. Both URLs are
    read by `parse_jira_site`, as the install's allow-list check read the tenant's."""
    try:
        site = parse_jira_site(g.tenant.jira_base_url)
    except InvalidJiraSite:
        raise ApiError(503, "this tenant's Jira site URL is not valid: install the app again from Jira") from None
    try:
        framed_by = parse_jira_site(request.args.get("xdm_e", site.origin))
    except InvalidJiraSite:
        framed_by = None
    if framed_by is None or framed_by.origin != site.origin or framed_by.path:
        raise ApiError(400, "xdm_e is not this tenant's Jira site")
    context_path = request.args.get("cp", site.path)
    if not CONTEXT_PATH.match(context_path):
        raise ApiError(400, "cp is not a context path")
    return f"{site.origin}{context_path}{AP_JS_PATH}"
