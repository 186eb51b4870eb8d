"""The embedded world hubsync runs and is tested on: a Jira simulator, a Security Hub simulator and moto.

Production code never imports this package; tests, `hubsync sandbox` and `hubsync demo` do.
"""
