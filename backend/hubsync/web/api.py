"""The iframe API `/api/v1`: JSON for the front end in `ui-templates/static/`, called with the context JWT that
`AP.context.getToken()` hands a Connect iframe, or through Forge's `invokeRemote` with its invocation token.

    GET  /api/v1/panel?issueKey=SEC-1              the issue's finding, live, and the pair's sync history
    GET  /api/v1/settings                          the configure page's data
    PUT  /api/v1/settings                          save; 400 {"error", "fields": {path: [messages]}} when invalid;
                                                   409 {"error", "onboarding": {"tickets", "threshold"}} when the
                                                   rules would create more tickets than the threshold, until
                                                   sent again with "confirmLargeOnboarding": true
    POST /api/v1/settings/rule-preview             {"policy": {"rules": [...]}} or {"rule": {...}}, unsaved: per
                                                   rule, how many live findings it matches now and the first few
    POST /api/v1/settings/test-connection          {"aws": {...}} optional: test unsaved values
    POST /api/v1/settings/events-api-key           {"revokePrevious": bool}: rotate the EventBridge API key; the
                                                   new key is shown once
    POST /api/v1/settings/custom-action            create (or find) the Security Hub "Send to Jira" action; its
                                                   ARN and the EventBridge pattern that routes it
    POST /api/v1/settings/check-project            {"policy": {...}} (the form's, unsaved) or none (the saved one):
                                                   the project check, item by item; 503 when Jira cannot be asked

A save that changes the project or issue type (or is the first) runs the project check first: a failed item
refuses it with 400 {"error", "check"}; Jira that cannot be asked refuses it with 503 (nothing is saved unchecked;
the admin tries again). Items Jira cannot tell (unknown) do not block.

Routes only parse, authenticate (`verified_caller`: Connect's context JWT or Forge's invocation token) and hand
over to `service.panel` / `service.settings`. `/panel` answers only for the issue its token was issued on (403 for
another issue, or a token of no issue). The `/settings` routes hold the AWS role, the policy and the EventBridge
key: any user of the site can get a token, so they also ask Jira whether the token's user is a Jira administrator
(`jira_admin`); 403 if not, 503 when Jira cannot be asked.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request

from hubsync.domain.policy import Policy
from hubsync.domain.ports import JiraUnavailable, SecurityHubUnavailable, StorePort
from hubsync.domain.project_check import ProjectCheck
from hubsync.domain.tenant import TenantNotFound, TenantNotReady, TenantWaiting
from hubsync.service.custom_action import CustomActionFailed, setup_custom_action
from hubsync.service.intake import API_KEY_HEADER
from hubsync.service.panel import panel_view
from hubsync.service.project_check import CannotCheckProject, policy_to_check, project_changes, run_project_check
from hubsync.service.rule_preview import (
    READ_CAP,
    Onboarding,
    confirmation_of,
    onboarding_of_save,
    parse_preview_request,
    preview_rules,
)
from hubsync.service.settings import (
    InvalidSettings,
    Settings,
    check_connection,
    parse_aws_settings,
    parse_settings,
    read_settings,
    rotate_events_api_key,
    save_settings,
)
from hubsync.web.callers import verified_caller
from hubsync.web.errors import ApiError
from hubsync.web.jira_keys import ISSUE_KEY
from hubsync.web.services import services

ADMINS_ONLY = "only Jira administrators can see or change hubsync's settings"
JIRA_UNREACHABLE = "Jira could not be asked whether you are a Jira administrator; try again in a minute"
NO_ISSUE_CONTEXT = "this token was not issued on an issue: the panel answers only for the issue it is shown on"

log = logging.getLogger(__name__)
View = TypeVar("View", bound=Callable[..., Any])

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def jira_admin(view: View) -> View:
    """Below `verified_caller`: the view runs only when Jira says the token's user is a Jira administrator.
    Jira shows the configure page only to admins, but anyone who opens an issue gets a context token."""

    @functools.wraps(view)
    def admin_view(*args: Any, **kwargs: Any) -> Any:
        account_id = g.caller.account_id
        if account_id is None:
            raise ApiError(403, ADMINS_ONLY)  # no user: never ask Jira about "nobody" (it answers for the app)
        try:
            admin = services().tenants.jira(g.tenant).is_site_admin(account_id)
        except (JiraUnavailable, TenantNotReady, TenantWaiting) as exc:
            log.warning("tenant %s: could not ask Jira for a user's admin permission: %s", g.tenant.id, exc)
            raise ApiError(503, JIRA_UNREACHABLE) from None
        if not admin:
            raise ApiError(403, ADMINS_ONLY)
        return view(*args, **kwargs)

    return admin_view  # type: ignore[return-value]


@bp.after_request
def _no_store(response: Response) -> Response:
    """Finding data and keys are per user and per moment: never cached by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/panel")
@verified_caller()
def panel() -> tuple[Response, int] | Response:
    issue_key = request.args.get("issueKey", "").strip().upper()
    if not ISSUE_KEY.match(issue_key):
        return _error(400, "issueKey must be a Jira issue key such as SEC-1")
    _token_is_for_issue(issue_key)
    return jsonify(panel_view(g.tenant, _store(), issue_key, services().tenants.sync_context))


@bp.get("/settings")
@verified_caller()
@jira_admin
def get_settings() -> Response:
    return jsonify(read_settings(g.tenant, _base_url(), API_KEY_HEADER))


@bp.put("/settings")
@verified_caller()
@jira_admin
def put_settings() -> tuple[Response, int] | Response:
    try:
        body, confirmed = confirmation_of(request.get_json(silent=True))
        settings = parse_settings(body)
    except InvalidSettings as invalid:
        return _invalid(invalid)
    if project_changes(g.tenant.policy, settings.policy):
        check = _project_check(settings.policy, "the settings are not saved")
        if not check.ok:
            failed = ", ".join(item.name.lower() for item in check.failed)
            return jsonify(error=f"the settings are not saved: the project check failed ({failed}); see each item",
                           check=check.to_json()), 400
    onboarding = None if confirmed else _onboarding(settings)
    if onboarding is not None and onboarding.needs_confirmation:
        return jsonify(error=onboarding.message, onboarding=onboarding.to_json()), 409
    try:
        tenant = save_settings(_store(), g.tenant.id, settings)
    except TenantNotFound:
        return _error(404, "this Jira site is no longer installed")
    saved = read_settings(tenant, _base_url(), API_KEY_HEADER)
    return jsonify(saved | {"onboarding": onboarding.to_json()} if onboarding is not None else saved)


@bp.post("/settings/rule-preview")
@verified_caller()
@jira_admin
def rule_preview() -> tuple[Response, int] | Response:
    try:
        rules = parse_preview_request(request.get_json(silent=True))
    except InvalidSettings as invalid:
        return _invalid(invalid)
    try:
        previews = preview_rules(services().tenants.securityhub(g.tenant), rules)
    except TenantNotReady as exc:
        return _error(409, f"save the AWS settings first, the preview reads Security Hub through them ({exc})")
    except SecurityHubUnavailable as exc:
        return _error(502, f"Security Hub could not be read: {exc}")
    return jsonify(rules=[preview.to_json() for preview in previews], readCap=READ_CAP)


@bp.post("/settings/test-connection")
@verified_caller()
@jira_admin
def test_connection() -> tuple[Response, int] | Response:
    body = _optional_json_body()
    aws = None
    if isinstance(body, dict) and body.get("aws") is not None:
        try:
            aws = parse_aws_settings(body["aws"])
        except InvalidSettings as invalid:
            return _invalid(invalid)
    return jsonify(check_connection(g.tenant, services().runtime.aws, aws).to_json())


@bp.post("/settings/events-api-key")
@verified_caller()
@jira_admin
def rotate_key() -> tuple[Response, int] | Response:
    body = _optional_json_body()
    revoke = isinstance(body, dict) and body.get("revokePrevious") is True
    try:
        return jsonify(rotate_events_api_key(_store(), g.tenant.id, _base_url(), revoke_previous=revoke))
    except TenantNotFound:
        return _error(404, "this Jira site is no longer installed")


@bp.post("/settings/custom-action")
@verified_caller()
@jira_admin
def custom_action() -> tuple[Response, int]:
    try:
        setup = setup_custom_action(g.tenant, _base_url(), services().runtime.aws)
    except TenantNotReady as exc:
        return _error(409, str(exc))
    except CustomActionFailed as exc:
        return _error(502, str(exc))
    return jsonify(setup.to_json()), 201 if setup.created else 200


@bp.post("/settings/check-project")
@verified_caller()
@jira_admin
def check_project() -> tuple[Response, int] | Response:
    try:
        policy = policy_to_check(_optional_json_body(), g.tenant.policy)
    except InvalidSettings as invalid:
        return _invalid(invalid)
    return jsonify(_project_check(policy, "the project is not checked").to_json())


def _project_check(policy: Policy, what_not: str) -> ProjectCheck:
    """The project check on the tenant's Jira; 503 (saying `what_not` happened) when Jira cannot be asked."""
    try:
        tenants = services().tenants
        return run_project_check(g.tenant, tenants.projects(g.tenant), tenants.jira(g.tenant), policy)
    except (CannotCheckProject, TenantNotReady, TenantWaiting) as exc:
        log.warning("tenant %s: could not check project %s: %s", g.tenant.id, policy.project_key, exc)
        raise ApiError(503, f"{what_not}: {exc}; try again in a minute") from None


def _onboarding(settings: Settings) -> Onboarding | None:
    """The tickets the save would create; None when its rules are those saved, or Security Hub cannot be read now
    (the save goes ahead: whatever the worker then creates, it creates at the rate budgets' pace)."""
    try:
        return onboarding_of_save(g.tenant, settings, services().tenants.securityhub, _store(),
                                  services().config.onboarding_confirm_above)
    except (TenantNotReady, SecurityHubUnavailable) as exc:
        log.warning("tenant %s: could not count the tickets a settings save would create: %s", g.tenant.id, exc)
        return None


def _token_is_for_issue(issue_key: str) -> None:
    """The panel's token must have been issued on `issue_key`'s own page: Jira puts the issue in its context
    (Connect's `context.jira.issue`, Forge's `context.extension.issue`). No issue there (a token of the configure
    page, say) → 403. The key is compared when the token carries one; a token with only the id costs one read of
    the issue from Jira (the link does not keep the issue's id), whose id must be the token's."""
    key, issue_id = g.caller.issue_key, g.caller.issue_id
    if key is not None:
        if key != issue_key:
            raise ApiError(403, f"this token was issued for {key}, not {issue_key}")
        return
    if issue_id is None:
        raise ApiError(403, NO_ISSUE_CONTEXT)
    try:
        ticket = services().tenants.jira(g.tenant).get_tickets([issue_key]).get(issue_key)
    except (JiraUnavailable, TenantNotReady, TenantWaiting) as exc:
        log.warning("tenant %s: could not read %s from Jira to check a token's issue: %s", g.tenant.id, issue_key, exc)
        raise ApiError(503, f"Jira could not be asked which issue {issue_key} is; try again in a minute") from None
    if ticket is None or ticket.id != issue_id:
        raise ApiError(403, f"this token was issued for issue id {issue_id}, not {issue_key}")


def _optional_json_body() -> Any:
    """The JSON body of a route whose body is optional: None without one; a body that is not JSON (malformed, or
    nested too deeply) is a 400 rather than taken for none."""
    body = request.get_json(silent=True)
    if body is None and request.get_data(cache=True):
        raise ApiError(400, "the body is not JSON", details=["(body): not JSON"])
    return body


def _store() -> StorePort:
    return services().store


def _base_url() -> str:
    return services().config.base_url


def _invalid(invalid: InvalidSettings) -> tuple[Response, int]:
    return jsonify(error="the settings are not valid; see the messages by field", fields=invalid.fields), 400


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status
