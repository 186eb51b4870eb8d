"""Who gets a finding's ticket: the AWS account's owner (its owner tag in Organizations), else the default.

The tag may hold an email, a Jira account id or a user name; it is resolved to an assignable Jira user. Any
failure on the way (no tag, Organizations unreachable, nobody in Jira by that name) falls back to the policy's
default assignee, labels the ticket `hubsync-unassigned` and says why in its description — never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubsync.domain.ports import JiraPort, OwnerDirectoryPort

UNASSIGNED_LABEL = "hubsync-unassigned"


@dataclass(frozen=True)
class Assignment:
    assignee: str | None
    extra_labels: tuple[str, ...] = ()
    reason: str | None = None  # why the default assignee was used, for the ticket description


class AssigneeRouter:
    """Resolves owners per account, remembering answers for the router's lifetime (one sync batch)."""

    def __init__(self, owners: OwnerDirectoryPort, jira: JiraPort, default_assignee: str | None, tag_key: str):
        self._owners = owners
        self._jira = jira
        self._default = default_assignee
        self._tag_key = tag_key
        self._by_account: dict[str, Assignment] = {}

    def assignment_for(self, account_id: str) -> Assignment:
        if account_id not in self._by_account:
            self._by_account[account_id] = self._resolve(account_id)
        return self._by_account[account_id]

    def _resolve(self, account_id: str) -> Assignment:
        owner = self._owners.owner_of(account_id)
        if not owner:
            reason = f"AWS account {account_id} has no {self._tag_key} tag naming its owner"
            return self._fallback(reason)
        user = self._jira.find_user(owner)
        if user is None:
            reason = f"the owner of AWS account {account_id} ({self._tag_key} = {owner}) is not an assignable Jira user"
            return self._fallback(reason)
        return Assignment(assignee=user)

    def _fallback(self, reason: str) -> Assignment:
        who = "the default assignee" if self._default else "nobody"
        return Assignment(
            assignee=self._default,
            extra_labels=(UNASSIGNED_LABEL,),
            reason=f"Assigned to {who}: {reason}.",
        )
