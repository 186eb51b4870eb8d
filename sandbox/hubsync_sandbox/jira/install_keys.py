"""Stand-in for connect-install-keys.atlassian.com: the key server behind Connect's signed install.

Jira signs the `installed` and `uninstalled` callbacks with RS256 and names the key in the token's `kid`
header; the app fetches the PEM public key from `<key server>/<kid>`. Serve `wsgi_app` and point the app's
install-keys URL (`HUBSYNC_INSTALL_KEYS_URL`) at it to let the app verify the sandbox's installs.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, abort

from hubsync_sandbox.jira.connect_jwt import sign_rs256


class InstallKeyServer:
    """One RSA key pair under a random `kid`: signs install tokens, and `wsgi_app` serves the public key."""

    def __init__(self) -> None:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = str(uuid.uuid4())
        self._private_pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.public_pem: str = (
            private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )
        self.wsgi_app = self._create_app()

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 token with this server's `kid` in its header, as Jira sends on install and uninstall."""
        return sign_rs256(claims, self._private_pem, self.kid)

    def _create_app(self) -> Flask:
        """`GET /<kid>` answers the PEM public key as text; any other key is a 404."""
        app = Flask(__name__)

        @app.get("/<kid>")
        def public_key(kid: str) -> Response:
            if kid != self.kid:
                abort(404)
            return Response(self.public_pem, mimetype="text/plain")

        return app
