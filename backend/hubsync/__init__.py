"""hubsync: AWS Security Hub findings and Jira issues, kept in step both ways."""

__version__ = "0.1.0"
