"""Dashboard passes: what a browser holds to see one organisation's dashboard, signed and expiring.

A pass is ``<payload>.<signature>``, both base64url: the payload is ``v1:<org>:<subject>:<expires>``
(unix seconds), the signature an HMAC-SHA256 over it with a key derived from the master key, so any
API replica checks a pass without state and nobody can forge or stretch one. ``subject`` says where
the pass came from: ``link:<id>`` (a display link; revoking the row ends it) or ``token:<id>`` (a
login with an API token; revoking or expiring the token ends it). Both are read-only: a pass opens
the dashboard's pages and nothing of the admin API.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import re
from typing import Final, Literal

from cloud.privacy import MasterKey

PURPOSE: Final = b"mpm-edge dashboard pass v1"
MAX_PASS_CHARS: Final = 200
_PAYLOAD = re.compile(r"v1:(\d{1,10}):(link|token):(\d{1,10}):(\d{1,11})")  # expiry: before year 5000

SubjectKind = Literal["link", "token"]


class BadPass(ValueError):
    """The pass is malformed, forged or expired (the message says which, never the key)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Pass:
    org_id: int
    kind: SubjectKind
    subject_id: int
    expires_at: dt.datetime


def _key(master: MasterKey) -> bytes:
    return hmac.digest(master.secret, PURPOSE, "sha256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(master: MasterKey, dashboard_pass: Pass) -> str:
    """The signed text of ``dashboard_pass``."""
    expires = int(dashboard_pass.expires_at.timestamp())
    payload = f"v1:{dashboard_pass.org_id}:{dashboard_pass.kind}:{dashboard_pass.subject_id}:{expires}"
    signature = hmac.new(_key(master), payload.encode(), hashlib.sha256).digest()
    return f"{_b64(payload.encode())}.{_b64(signature)}"


def verify(master: MasterKey, text: str, now: dt.datetime) -> Pass:
    """The pass that ``text`` carries; BadPass unless it is well formed, signed by us and unexpired."""
    if len(text) > MAX_PASS_CHARS or text.count(".") != 1:
        raise BadPass("the dashboard pass is malformed")
    payload_b64, signature_b64 = text.split(".")
    try:
        payload, signature = _unb64(payload_b64), _unb64(signature_b64)
    except (binascii.Error, ValueError):
        raise BadPass("the dashboard pass is malformed") from None
    expected = hmac.new(_key(master), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise BadPass("the dashboard pass is not signed by this service")
    match = _PAYLOAD.fullmatch(payload.decode("ascii", errors="replace"))
    if match is None:
        raise BadPass("the dashboard pass is malformed")
    org, kind, subject, expires = match.groups()
    expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    if expires_at <= now:
        raise BadPass("the dashboard pass has expired")
    subject_kind: SubjectKind = "link" if kind == "link" else "token"
    return Pass(org_id=int(org), kind=subject_kind, subject_id=int(subject), expires_at=expires_at)
