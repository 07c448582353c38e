"""Privacy building blocks: per-organisation field encryption, keyed lookups, phone normalisation."""

from cloud.privacy.crypto import (
    FieldCipher,
    FieldCryptoError,
    MasterKey,
    OrgKey,
    hmac_lookup,
    rewrap_org_key,
    unwrap_org_key,
    wrap_org_key,
    wrapped_by,
)
from cloud.privacy.phone import normalise_phone

__all__ = [
    "FieldCipher",
    "FieldCryptoError",
    "MasterKey",
    "OrgKey",
    "hmac_lookup",
    "normalise_phone",
    "rewrap_org_key",
    "unwrap_org_key",
    "wrap_org_key",
    "wrapped_by",
]
