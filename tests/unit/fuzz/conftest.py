"""The fuzz tests run against the web tests' app: a fresh SQLite store, a recording queue, a sandbox install-key
server and one installed Connect tenant (tests/unit/web/conftest.py)."""

from tests.unit.web.conftest import (  # noqa: F401 - fixtures, found by pytest through their names
    app,
    app_accounts,
    client,
    environ,
    install_keys,
    key_server,
    queue,
    store,
    tenant,
)
