"""User management on a ZK 4370 terminal; every change is verified by reading the users back.

The terminal addresses a user by ``uid`` (its internal slot); people and the cloud know the PIN
(``user_id``). An upsert keeps the slot (and password, group) of an existing PIN or takes the next
free slot; a delete removes every slot holding the PIN (a terminal may hold duplicates).
Names are encoded with the terminal's configured encoding (GBK on Chinese firmware): a name that
does not fit the 24-byte field is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from typing import Final

from edge_agent.drivers.zkteco.client import ZkClient
from edge_agent.drivers.zkteco.errors import DeviceError
from firmware_protocols.zkteco import UserRecord, ZkProtocolError, encode_user72

MAX_UID: Final = 0xFFFF


async def upsert_user(
    client: ZkClient, *, pin: str, name: str, card: int, privilege: int, encoding: str
) -> bool:
    """Create or update the user with ``pin``; True when the read-back matches."""
    users = await client.users()
    existing = next((u for u in users if u.user_id == pin), None)
    record = UserRecord(
        uid=existing.uid if existing else free_uid(users),
        user_id=pin,
        name=name,
        privilege=privilege,
        password=existing.password if existing else "",
        card=card,
        group_id=existing.group_id if existing else "",
    )
    try:
        encode_user72(record, encoding)
    except ZkProtocolError as exc:
        raise DeviceError(f"user {pin!r} does not fit the terminal's record: {exc}") from exc
    await client.set_user(record)
    return record in await client.users()


async def delete_user(client: ZkClient, pin: str) -> bool:
    """Delete every slot holding ``pin``; True when the read-back no longer has it."""
    for user in await client.users():
        if user.user_id == pin:
            await client.delete_user(user.uid)
    return all(u.user_id != pin for u in await client.users())


async def delete_tombstoned(client: ZkClient, tombstones: Container[str]) -> list[str]:
    """Delete every user whose PIN is tombstoned (DEL-2); return the PINs deleted."""
    erased = [u for u in await client.users() if u.user_id in tombstones]
    for user in erased:
        await client.delete_user(user.uid)
    return [u.user_id for u in erased]


def free_uid(users: Sequence[UserRecord]) -> int:
    """The slot after the highest one in use, or the lowest gap once the slots run out."""
    used = {u.uid for u in users}
    highest = max(used, default=0)
    if highest < MAX_UID:
        return highest + 1
    gap = next((uid for uid in range(1, MAX_UID + 1) if uid not in used), None)
    if gap is None:
        raise DeviceError("the terminal has no free user slot")
    return gap
