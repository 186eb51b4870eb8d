"""The one shape of a Jira issue key the web app accepts from a request (query, webhook body, page URL)."""

from __future__ import annotations

import re

# A project key (a letter, then letters, digits or `_`), a dash, an issue number from 1 on: "SEC-7".
ISSUE_KEY_PATTERN = r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*\Z"  # \Z: no trailing newline either
ISSUE_KEY = re.compile(ISSUE_KEY_PATTERN)
