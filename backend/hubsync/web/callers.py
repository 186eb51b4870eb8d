"""Who is calling the front end's API (`/api/v1`): one decorator for both platforms, whose token decides.

- Connect: the page's context JWT (`AP.context.getToken()`, HS256 with the tenant's shared secret, `qsh` =
  "context-qsh"), checked by `jira_auth`; the user is its `sub`, the issue its `context.jira.issue`.
- Forge: the Forge invocation token `invokeRemote` sends (`Authorization: Bearer`), checked by `forge_auth`; the
  tenant is the token's installation, the user its `principal`, the issue its `context.extension.issue`.
The view finds the tenant in `g.tenant` and the caller in `g.caller`; nothing of either is ever read from the body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request

from hubsync.service import installation
from hubsync.web.forge_auth import ForgeAuthError, verify_forge_call
from hubsync.web.jira_auth import verify_jira_request
from hubsync.web.services import services

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    account_id: str | None  # the Jira user the page is shown to (Atlassian accountId)
    issue_key: str | None  # the issue whose page the token was issued on, when Jira says
    issue_id: str | None


def verified_caller() -> Callable[[View], View]:
    """Decorate a view of the front end's API so it runs only for a verified caller (see the module docstring)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def verified_view(*args: Any, **kwargs: Any) -> Any:
            if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
                _forge_caller()
            else:
                _connect_caller()
            return view(*args, **kwargs)

        return verified_view  # type: ignore[return-value]

    return decorate


def _forge_caller() -> None:
    call = verify_forge_call()
    tenant = installation.forge_tenant(services().store, call.installation, known_only=True)
    if tenant is None:
        raise ForgeAuthError("hubsync is not installed on this Jira site (or was uninstalled): install it again")
    if not tenant.enabled:
        raise ForgeAuthError("hubsync is disabled on this Jira site", status=403)
    extension = call.context.get("extension")
    issue = extension.get("issue") if isinstance(extension, dict) else None
    g.tenant = tenant
    g.caller = Caller(call.account_id, *_issue(issue))


def _connect_caller() -> None:
    verified = verify_jira_request(context_token=True)
    context = verified.claims.get("context")
    jira = context.get("jira") if isinstance(context, dict) else None
    issue = jira.get("issue") if isinstance(jira, dict) else None
    subject = verified.claims.get("sub")
    g.tenant = verified.tenant
    g.caller = Caller(subject if isinstance(subject, str) and subject.strip() else None, *_issue(issue))


def _issue(issue: Any) -> tuple[str | None, str | None]:
    if not isinstance(issue, dict):
        return None, None
    key, issue_id = issue.get("key"), issue.get("id")
    key_text = key.strip().upper() if isinstance(key, str) and key.strip() else None
    id_ok = isinstance(issue_id, str | int) and not isinstance(issue_id, bool) and str(issue_id).strip()
    return key_text, str(issue_id).strip() if id_ok else None
