"""Per-organisation field ciphers (PRIVACY.md ENC-1/2): the data key is made on first use, stored
wrapped by the master key, and unwrapped per request; deleting it shreds the organisation's fields."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import OrgDataKey
from cloud.privacy import FieldCipher, MasterKey, OrgKey, hmac_lookup, unwrap_org_key, wrap_org_key


async def org_key(session: AsyncSession, master: MasterKey, org_id: int) -> OrgKey:
    """The organisation's data key, created (and stored wrapped) if it has none yet."""
    stored = await session.get(OrgDataKey, org_id)
    if stored is not None:
        return unwrap_org_key(master, str(org_id), stored.wrapped)
    key = OrgKey.generate(str(org_id))
    session.add(OrgDataKey(org_id=org_id, wrapped=wrap_org_key(master, key)))
    await session.flush()
    return key


async def field_cipher(session: AsyncSession, master: MasterKey, org_id: int) -> FieldCipher:
    """A cipher for the organisation's sensitive fields."""
    return FieldCipher(await org_key(session, master, org_id))


async def phone_lookup(session: AsyncSession, master: MasterKey, org_id: int, phone: str) -> str:
    """The hex keyed hash stored in ``member.phone_hmac`` for a normalised phone number."""
    return hmac_lookup(await org_key(session, master, org_id), phone).hex()


async def shred(session: AsyncSession, org_id: int) -> None:
    """Destroy the organisation's data key: its encrypted fields become unreadable (ENC-2)."""
    await session.execute(delete(OrgDataKey).where(OrgDataKey.org_id == org_id))
