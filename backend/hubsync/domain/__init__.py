"""The pure core: findings, tickets, links, policy, and `decide()`, which holds every sync rule.

Nothing here does I/O, reads the clock or imports from adapters, service, web or Flask.
"""
