"""Server side of HTTP Digest authentication (RFC 7616, MD5, qop=auth), as ISAPI devices do it.

Rule: a request without credentials, or with wrong ones, gets ``401`` and a fresh challenge; only
nonces this server issued are accepted (a bounded set; the oldest are forgotten).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from typing import Final

_PARAM: Final = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
MAX_NONCES: Final = 1024


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_authorization(header: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` Authorization header; None for any other scheme."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }


class DigestAuthority:
    """Issues challenges and checks answers for one username/password pair."""

    def __init__(self, username: str, password: str, realm: str) -> None:
        self.username = username
        self._password = password
        self.realm = realm
        self._nonces: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def challenge(self) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = None
            while len(self._nonces) > MAX_NONCES:
                self._nonces.popitem(last=False)
        return (
            f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", opaque="{secrets.token_hex(8)}", '
            'algorithm="MD5", stale="FALSE"'
        )

    def verify(self, method: str, header: str) -> bool:
        """True when ``header`` answers one of our challenges with the right password."""
        params = parse_authorization(header)
        if params is None or params.get("username") != self.username:
            return False
        with self._lock:
            if params.get("nonce") not in self._nonces:
                return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self._password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        if params.get("qop") == "auth":
            parts = [
                ha1,
                params.get("nonce", ""),
                params.get("nc", ""),
                params.get("cnonce", ""),
                "auth",
                ha2,
            ]
        else:
            parts = [ha1, params.get("nonce", ""), ha2]
        return secrets.compare_digest(_md5(":".join(parts)), params.get("response", ""))
