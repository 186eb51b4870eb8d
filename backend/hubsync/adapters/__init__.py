"""Adapters at the edges: Security Hub, Organizations, Jira, the store and the queue."""
