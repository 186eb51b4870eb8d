"""A Jira simulator: Cloud (REST v3, ADF, accountId) and Data Center (REST v2, wiki text, user names)."""
