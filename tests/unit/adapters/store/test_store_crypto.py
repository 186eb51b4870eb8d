"""Secrets at rest: a missing or weak key stops hubsync with a message that says what to do; only the sandbox may
ask for the public key; keys rotate without losing a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hubsync.adapters.store import MissingSecretKey, SecretBox, SecretDecryptionError, Store
from hubsync.adapters.store.crypto import SANDBOX_SECRET_KEY

KEY = "k" * 16 + "a-long-enough-random-secret-key"
OLD_KEY = "o" * 16 + "the-previous-secret-key-in-use"


def test_without_a_key_hubsync_refuses_and_says_how_to_make_one() -> None:
    with pytest.raises(MissingSecretKey, match="HUBSYNC_SECRET_KEY is not set") as error:
        SecretBox.from_environment({})
    assert "secrets.token_urlsafe" in str(error.value)


def test_a_store_from_the_environment_needs_the_key(tmp_path: Path) -> None:
    environ = {"HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    with pytest.raises(MissingSecretKey):
        Store.from_environment(environ)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(MissingSecretKey, match="at least 32 characters") as error:
        SecretBox.from_environment({"HUBSYNC_SECRET_KEY": "hunter2"})
    assert "hunter2" not in str(error.value)


def test_only_the_sandbox_falls_back_to_the_public_key_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        box = SecretBox.from_environment({}, sandbox=True)
    assert "public sandbox key" in caplog.text
    token = box.encrypt("sandbox-api-token", context="tenant/demo/jira_secret")
    assert SecretBox([SANDBOX_SECRET_KEY]).decrypt(token, context="tenant/demo/jira_secret") == "sandbox-api-token"


def test_the_sandbox_uses_a_configured_key_when_there_is_one() -> None:
    box = SecretBox.from_environment({"HUBSYNC_SECRET_KEY": KEY}, sandbox=True)
    token = box.encrypt("secret", context="c")
    assert SecretBox([KEY]).decrypt(token, context="c") == "secret"
    with pytest.raises(SecretDecryptionError):
        SecretBox([SANDBOX_SECRET_KEY]).decrypt(token, context="c")


def test_the_first_of_several_keys_encrypts_and_all_decrypt() -> None:
    old_token = SecretBox([OLD_KEY]).encrypt("stored last year", context="c")
    box = SecretBox.from_environment({"HUBSYNC_SECRET_KEY": f"{KEY}, {OLD_KEY}"})

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
