"""Secrets at rest: a missing or weak key stops hubsync with a message that says what to do; only the sandbox may
ask for the public key; keys rotate without losing a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hubsync.adapters.store import SecretBox, SecretDecryptionError, Store, create_engine, upgrade
from hubsync.adapters.store.crypto import SANDBOX_SECRET_KEY
from hubsync.bootstrap import bootstrap, open_store
from hubsync.config import ConfigError, Settings
from hubsync.domain.tenant import AuthMode, JiraFlavour

KEY = "k" * 16 + "a-long-enough-random-secret-key"
OLD_KEY = "o" * 16 + "the-previous-secret-key-in-use"


def settings(tmp_path: Path, **variables: str) -> Settings:
    """The settings of an environment with a database in `tmp_path` and `variables`."""
    return Settings.from_environment({"HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **variables})


def stored_secret(store: Store, secret: str) -> str:
    """The id of a tenant whose Jira secret `store` encrypted (the schema made first)."""
    upgrade(store.engine)
    with store.transaction() as uow:
        return uow.tenants.create(name="t", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                                  auth_mode=AuthMode.PAT, jira_secret=secret).id


def secret_under(tmp_path: Path, key: str, tenant_id: str) -> str | None:
    """The tenant's Jira secret, decrypted with `key` alone."""
    store = Store(create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"), SecretBox([key]))
    try:
        with store.read() as uow:
            return uow.tenants.get(tenant_id).jira_secret
    finally:
        store.dispose()


def test_without_a_key_hubsync_refuses_and_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_SECRET_KEY is not set") as error:
        open_store(settings(tmp_path))
    assert "secrets.token_urlsafe" in str(error.value)


def test_a_store_from_the_environment_needs_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_SECRET_KEY"):
        bootstrap(settings(tmp_path))  # the runtime every command builds
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was made


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters") as error:
        Settings.from_environment({"HUBSYNC_SECRET_KEY": "hunter2"})
    assert "hunter2" not in str(error.value)
    assert "HUBSYNC_SECRET_KEY" in str(error.value) and "secrets.token_urlsafe" in str(error.value)


def test_only_the_sandbox_falls_back_to_the_public_key_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        store = open_store(settings(tmp_path), sandbox=True)
    assert "public sandbox key" in caplog.text
    try:
        tenant_id = stored_secret(store, "sandbox-api-token")
    finally:
        store.dispose()
    assert secret_under(tmp_path, SANDBOX_SECRET_KEY, tenant_id) == "sandbox-api-token"


def test_the_sandbox_uses_a_configured_key_when_there_is_one(tmp_path: Path) -> None:
    store = open_store(settings(tmp_path, HUBSYNC_SECRET_KEY=KEY), sandbox=True)
    try:
        tenant_id = stored_secret(store, "secret")
    finally:
        store.dispose()
    assert secret_under(tmp_path, KEY, tenant_id) == "secret"
    with pytest.raises(SecretDecryptionError):
        secret_under(tmp_path, SANDBOX_SECRET_KEY, tenant_id)


def test_the_first_of_several_keys_encrypts_and_all_decrypt() -> None:
    old_token = SecretBox([OLD_KEY]).encrypt("stored last year", context="c")
    box = SecretBox(list(Settings.from_environment({"HUBSYNC_SECRET_KEY": f"{KEY}, {OLD_KEY}"}).secret_keys))

    assert box.decrypt(old_token, context="c") == "stored last year"
    new_token = box.encrypt("stored today", context="c")
    assert SecretBox([KEY]).decrypt(new_token, context="c") == "stored today"
    assert SecretBox([KEY]).decrypt(box.rotate(old_token), context="c") == "stored last year"


def test_a_token_only_decrypts_where_it_was_stored() -> None:
    box = SecretBox([KEY])
    token = box.encrypt("shared secret", context="tenant/a/jira_secret")
    with pytest.raises(SecretDecryptionError):
        box.decrypt(token, context="tenant/b/jira_secret")
    with pytest.raises(SecretDecryptionError):
        box.decrypt(token, context="tenant/a/events_api_key")


def test_a_tampered_token_does_not_decrypt() -> None:
    box = SecretBox([KEY])
    token = box.encrypt("value", context="c")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretDecryptionError):
        box.decrypt(tampered, context="c")


def test_the_same_secret_encrypts_differently_each_time() -> None:
    box = SecretBox([KEY])
    assert box.encrypt("value", context="c") != box.encrypt("value", context="c")
