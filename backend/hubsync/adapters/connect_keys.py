"""Connect's signed-install keys: the PEM public key behind an install token's `kid`, fetched from the key server
(`<HUBSYNC_INSTALL_KEYS_URL>/<kid>`) once and cached, since a rotated key always gets a new `kid`."""

from __future__ import annotations

import re
import threading

import requests

from hubsync.domain.ports import InstallKeyUnavailable

FETCH_TIMEOUT_S = 5.0
# Atlassian's kids are UUIDs; anything outside this set could steer the key URL (path injection).
KID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_PEM_BYTES = 16_384


class HttpInstallKeys:
    """Keys from Connect's key server over HTTPS, cached per kid for the life of the process (thread-safe)."""

    def __init__(self, base_url: str, *, timeout_s: float = FETCH_TIMEOUT_S, session: requests.Session | None = None):
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._session = session or requests.Session()
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def public_key(self, kid: str) -> str:
        if not KID.fullmatch(kid):
            raise InstallKeyUnavailable("the install token's kid is not a key id")
        with self._lock:
            cached = self._cache.get(kid)
        if cached is not None:
            return cached
        pem = self._fetch(kid)
        with self._lock:
            self._cache[kid] = pem
        return pem

    def _fetch(self, kid: str) -> str:
        try:
            response = self._session.get(f"{self._base_url}/{kid}", timeout=self._timeout_s, allow_redirects=False)
        except requests.RequestException as exc:
            raise InstallKeyUnavailable(f"the install key server could not be reached ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise InstallKeyUnavailable(f"the install key server has no key {kid} (HTTP {response.status_code})")
        pem = response.text
        if len(pem) > MAX_PEM_BYTES or "-----BEGIN PUBLIC KEY-----" not in pem:
            raise InstallKeyUnavailable(f"the install key server's answer for {kid} is not a PEM public key")
        return pem
