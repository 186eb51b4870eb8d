"""Tenant secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from `HUBSYNC_SECRET_KEY`.

`HUBSYNC_SECRET_KEY` holds one secret of at least 32 characters (for example the output of
`python -c "import secrets; print(secrets.token_urlsafe(32))"`), or several separated by commas, newest first:
the first encrypts, all decrypt, so a key can be rotated by prepending a new one, running
`TenantStore.reencrypt_all()`, and later dropping the old one. Each secret is stretched into a Fernet key with
HKDF-SHA256, so any long random string works and operators do not have to produce Fernet's key format.

Every ciphertext is bound to where it is stored (tenant and field): a token copied into another tenant's row does
not decrypt there. Without `HUBSYNC_SECRET_KEY` hubsync refuses to start; only the sandbox and the demo may ask,
explicitly, for a well-known key, and a warning says so.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hubsync.domain.tenant import SecretsUnreadable

SECRET_KEY_VARIABLE = "HUBSYNC_SECRET_KEY"
MIN_SECRET_LENGTH = 32
# Public on purpose: it protects nothing but the sandbox's own well-known credentials.
SANDBOX_SECRET_KEY = "hubsync-sandbox-only-key: never use this key outside the sandbox"

_HKDF_SALT = b"hubsync secret box"
_HKDF_INFO = b"hubsync tenant secrets v1"
_CONTEXT_SEPARATOR = "\x00"

log = logging.getLogger(__name__)


class MissingSecretKey(RuntimeError):
    """HUBSYNC_SECRET_KEY is unset or too weak to protect tenant secrets."""


class SecretDecryptionError(SecretsUnreadable):
    """A stored secret could not be decrypted: wrong key, tampered value, or a value moved from another row."""


class SecretBox:
    """Encrypts and decrypts short secrets (API tokens, PATs, Connect shared secrets) for the tenants table."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise MissingSecretKey(f"{SECRET_KEY_VARIABLE} names no key")
        for secret in secret_keys:
            if len(secret) < MIN_SECRET_LENGTH:
                raise MissingSecretKey(
                    f"every key in {SECRET_KEY_VARIABLE} must be at least {MIN_SECRET_LENGTH} characters; generate "
                    'one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
                )
        self._fernet = MultiFernet([Fernet(_derive_fernet_key(secret)) for secret in secret_keys])

    @classmethod
    def for_sandbox(cls) -> SecretBox:
        """The well-known sandbox key. Anyone can decrypt what it protects: sandbox and demo only."""
        log.warning("using the public sandbox key for tenant secrets: set %s outside the sandbox", SECRET_KEY_VARIABLE)
        return cls([SANDBOX_SECRET_KEY])

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """A Fernet token for `plaintext`, bound to `context` (where it is stored, e.g. `tenant/<id>/jira_secret`)."""
        return self._fernet.encrypt(f"{context}{_CONTEXT_SEPARATOR}{plaintext}".encode()).decode("ascii")

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            data = self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as error:
            raise SecretDecryptionError(
                f"cannot decrypt the secret stored for {context}: was {SECRET_KEY_VARIABLE} changed without keeping "
                "the old key after a comma?"
            ) from error
        stored_context, separator, plaintext = data.partition(_CONTEXT_SEPARATOR)
        if not separator or stored_context != context:
            raise SecretDecryptionError(f"the secret stored for {context} belongs somewhere else")
        return plaintext

    def rotate(self, token: str) -> str:
        """The same secret encrypted with the newest key (the context travels inside the token)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as error:
            raise SecretDecryptionError("cannot decrypt a stored secret with any configured key") from error


def _derive_fernet_key(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(key)
