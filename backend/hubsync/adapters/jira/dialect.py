"""What differs between Jira Cloud (REST v3) and Jira Data Center (REST v2) for the calls hubsync makes.

Cloud takes rich text as Atlassian Document Format and knows people only by `accountId` (GDPR strict mode);
Data Center takes wiki markup and knows people by user `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hubsync.adapters.jira.documents import to_adf, to_wiki
from hubsync.domain.document import Document

Flavour = Literal["cloud", "datacenter"]


@dataclass(frozen=True)
class Dialect:
    flavour: Flavour

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    @property
    def api_version(self) -> str:
        return "3" if self.cloud else "2"

    def rich_text(self, document: Document | str) -> dict[str, Any] | str:
        """A description or comment body: ADF on Cloud, wiki markup on Data Center."""
        if isinstance(document, str):
            document = Document.paragraph(document)
        return to_adf(document) if self.cloud else to_wiki(document)

    def user_ref(self, user_id: str) -> dict[str, str]:
        """How a request names a user (`assignee`, say)."""
        return {"accountId": user_id} if self.cloud else {"name": user_id}

    def user_id(self, user: Mapping[str, Any] | None) -> str | None:
        """The id hubsync keeps for a user Jira shows: accountId on Cloud, name on Data Center."""
        if not isinstance(user, Mapping):
            return None
        value = user.get("accountId") if self.cloud else user.get("name")
        return value if isinstance(value, str) else None

    def user_ids(self, user: Mapping[str, Any]) -> set[str]:
        """Every exact, case-insensitive identifier a person may be named by: email, accountId or name and key."""
        names = ("emailAddress", "accountId") if self.cloud else ("emailAddress", "name", "key")
        return {str(user[name]).casefold() for name in names if user.get(name)}
