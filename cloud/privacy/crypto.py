"""Field encryption with per-organisation keys, and crypto-shredding (PRIVACY.md ENC-1, ENC-2).

Theory of operation
- The master key (32 bytes, from configuration, never in the database) wraps each organisation's
  data key with AES-256-GCM. The wrap binds the org id as associated data, so a wrapped key copied to
  another organisation's row does not unwrap.
- From the data key, HKDF-SHA256 derives two independent keys: one for AES-256-GCM field encryption
  and one for the HMAC-SHA256 lookup column (one key, one algorithm).
- A field ciphertext is ``version (1) | nonce (12) | ciphertext + tag (16)``. Its associated data is
  the version, the org id and the field name (length-prefixed), so a ciphertext moved to another
  column or another organisation fails authentication instead of decrypting there.
- Nonces are random (96 bits). At ≈2^32 encryptions per key the collision risk reaches NIST's limit;
  an organisation writing that many sensitive fields must rotate its data key long before.
- Crypto-shredding: delete the organisation's wrapped key and every ciphertext of it is noise. Old
  backups still hold the wrapped key, so ENC-2's "including in old backups" needs one more step:
  rotate the master key (``rewrap_org_key`` for the surviving organisations) and destroy the old one.
- Rotation without downtime: a ``MasterKey`` may carry ``previous`` keys. Wrapping always uses the
  key itself; unwrapping picks the key whose id is in the wrapped key's header, so data keys wrapped
  by the old and by the new master key are both readable while ``mpm-cloud keys rotate`` runs.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
from typing import Final, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION: Final = 1
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
KEY_ID_BYTES: Final = 8
_WRAP_CONTEXT: Final = b"mpm-edge org data key v1"
_FIELD_KEY_INFO: Final = b"mpm-edge field encryption v1"
_LOOKUP_KEY_INFO: Final = b"mpm-edge lookup hmac v1"


class FieldCryptoError(Exception):
    """A wrapped key or a field ciphertext does not decrypt: wrong key, org, field, or tampered bytes."""


@dataclasses.dataclass(frozen=True, slots=True)
class MasterKey:
    """The configuration secret that wraps every organisation's data key."""

    secret: bytes = dataclasses.field(repr=False)
    # Retired master keys still accepted for unwrapping, during a rotation (never for wrapping).
    previous: tuple[MasterKey, ...] = dataclasses.field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes")
        if len(set(self.secret)) == 1:
            raise ValueError("the master key is a placeholder (one repeated byte); generate a real one")

    @classmethod
    def generate(cls) -> Self:
        """A new random master key."""
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_base64(cls, text: str) -> Self:
        """Parse the configured form (standard or URL-safe base64 of 32 bytes)."""
        try:
            secret = base64.b64decode(text.strip().replace("-", "+").replace("_", "/"), validate=True)
        except ValueError as error:
            raise ValueError("the master key is not base64") from error
        return cls(secret)

    def to_base64(self) -> str:
        """The configured form of this key."""
        return base64.b64encode(self.secret).decode()

    @property
    def key_id(self) -> bytes:
        """A public fingerprint that tells which master key wrapped a data key."""
        return hmac.digest(self.secret, b"mpm-edge master key id", "sha256")[:KEY_ID_BYTES]

    def with_previous(self, *keys: MasterKey) -> MasterKey:
        """This key, also accepting data keys wrapped by ``keys`` (a rotation in progress)."""
        return dataclasses.replace(self, previous=tuple(k for k in keys if k.key_id != self.key_id))

    def unwrapping_key(self, key_id: bytes) -> MasterKey | None:
        """The key (this one or a previous one) whose id is ``key_id``, if any."""
        return next((k for k in (self, *self.previous) if k.key_id == key_id), None)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OrgKey:
    """One organisation's data key, unwrapped (lives in memory only)."""

    org_id: str
    data_key: bytes = dataclasses.field(repr=False)

    @classmethod
    def generate(cls, org_id: str) -> Self:
        """A new random data key for ``org_id``."""
        return cls(org_id=org_id, data_key=os.urandom(KEY_BYTES))


def wrap_org_key(master: MasterKey, org_key: OrgKey) -> bytes:
    """``version | master key id | nonce | AES-GCM(data key)``, bound to the org id."""
    header = bytes([VERSION]) + master.key_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(master.secret).encrypt(nonce, org_key.data_key, _wrap_ad(header, org_key.org_id))
    return header + nonce + sealed


def unwrap_org_key(master: MasterKey, org_id: str, wrapped: bytes) -> OrgKey:
    """The data key of ``org_id`` from its wrapped form; FieldCryptoError if it is not that org's key."""
    header, nonce, sealed = _split(wrapped, 1 + KEY_ID_BYTES)
    if header[0] != VERSION:
        raise FieldCryptoError(f"unknown wrapped-key version {header[0]}")
    unwrapping = master.unwrapping_key(header[1:])
    if unwrapping is None:
        raise FieldCryptoError("the data key was wrapped by another master key")
    try:
        data_key = AESGCM(unwrapping.secret).decrypt(nonce, sealed, _wrap_ad(header, org_id))
    except InvalidTag as error:
        raise FieldCryptoError(f"the wrapped key does not belong to organisation {org_id}") from error
    return OrgKey(org_id=org_id, data_key=data_key)


def wrapped_by(wrapped: bytes) -> bytes:
    """The id of the master key that wrapped ``wrapped`` (from its header; no key needed)."""
    if len(wrapped) < 1 + KEY_ID_BYTES:
        raise FieldCryptoError(f"a wrapped key of {len(wrapped)} bytes has no header")
    return wrapped[1 : 1 + KEY_ID_BYTES]


def rewrap_org_key(old: MasterKey, new: MasterKey, org_id: str, wrapped: bytes) -> bytes:
    """Move a wrapped data key from ``old`` to ``new`` master key (master key rotation)."""
    return wrap_org_key(new, unwrap_org_key(old, org_id, wrapped))


class FieldCipher:
    """Encrypts one organisation's sensitive fields; the field name and org id are bound in."""

    def __init__(self, org_key: OrgKey) -> None:
        self.org_id = org_key.org_id
        self._aead = AESGCM(_derive(org_key, _FIELD_KEY_INFO))

    def encrypt(self, field_name: str, plaintext: str) -> bytes:
        """``version | nonce | ciphertext + tag`` of ``plaintext`` (UTF-8) for column ``field_name``."""
        nonce = os.urandom(NONCE_BYTES)
        return bytes([VERSION]) + nonce + self._aead.encrypt(nonce, plaintext.encode(), self._ad(field_name))

    def decrypt(self, field_name: str, blob: bytes) -> str:
        """The plaintext of ``blob``; FieldCryptoError if it is not this org's ``field_name`` value."""
        header, nonce, sealed = _split(blob, 1)
        if header[0] != VERSION:
            raise FieldCryptoError(f"unknown field ciphertext version {header[0]}")
        try:
            return self._aead.decrypt(nonce, sealed, self._ad(field_name)).decode()
        except InvalidTag as error:
            raise FieldCryptoError(f"{field_name} does not decrypt for organisation {self.org_id}") from error

    def _ad(self, field_name: str) -> bytes:
        return bytes([VERSION]) + _length_prefixed(self.org_id) + _length_prefixed(field_name)


def hmac_lookup(org_key: OrgKey, normalised_phone: str) -> bytes:
    """The keyed hash stored in the phone lookup column (32 bytes); equal phones give equal hashes."""
    return hmac.digest(_derive(org_key, _LOOKUP_KEY_INFO), normalised_phone.encode(), hashlib.sha256)


def _derive(org_key: OrgKey, purpose: bytes) -> bytes:
    info = purpose + b"\x00" + org_key.org_id.encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(org_key.data_key)


def _wrap_ad(header: bytes, org_id: str) -> bytes:
    return _WRAP_CONTEXT + header + _length_prefixed(org_id)


def _length_prefixed(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(4, "big") + data


def _split(blob: bytes, header_bytes: int) -> tuple[bytes, bytes, bytes]:
    minimum = header_bytes + NONCE_BYTES + 16  # 16: the GCM tag
    if len(blob) < minimum:
        raise FieldCryptoError(f"ciphertext of {len(blob)} bytes is shorter than the minimum {minimum}")
    return (
        blob[:header_bytes],
        blob[header_bytes : header_bytes + NONCE_BYTES],
        blob[header_bytes + NONCE_BYTES :],
    )
