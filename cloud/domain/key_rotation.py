"""Master-key rotation (PRIVACY.md ENC-2): re-wrap every organisation's data key under the current
master key, while the cloud keeps serving.

Procedure (cloud/README.md): configure the new key as ``MPM_MASTER_KEY`` and the old one as
``MPM_MASTER_KEY_PREVIOUS`` and restart; the cloud now reads data keys wrapped by either. Then
``mpm-cloud keys rotate`` moves them all to the new key; then remove the previous key and destroy it.

Rules
- Only the wrapped data keys change; field ciphertexts do not (the data keys themselves stay).
- Batches of ``batch_size`` rows, each committed on its own: an interrupted run keeps what it did,
  and a rerun skips every row already under the current key (idempotent, resumable).
- A row is re-read under a row lock (PostgreSQL) before it is rewritten, so a concurrent run or a
  deregistration in between never resurrects or double-wraps it.
- A row that no configured key unwraps is reported (``failed``), never changed, never fatal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from sqlalchemy import ColumnElement, LargeBinary, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import OrgDataKey
from cloud.db.session import SessionFactory
from cloud.privacy import FieldCryptoError, MasterKey, rewrap_org_key, wrapped_by
from cloud.privacy.crypto import KEY_ID_BYTES

DEFAULT_BATCH: Final = 100


@dataclasses.dataclass(kw_only=True, slots=True)
class RotationProgress:
    """Counts so far; ``failed`` maps an org id to why its data key was left as it was."""

    total: int = 0
    rotated: int = 0
    already_current: int = 0
    failed: dict[int, str] = dataclasses.field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.rotated + self.already_current + len(self.failed)


async def rotate(
    sessions: SessionFactory,
    master: MasterKey,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[RotationProgress], None] = lambda progress: None,
) -> RotationProgress:
    """Re-wrap every data key not yet under ``master``; ``master.previous`` must unwrap the others."""
    progress = RotationProgress()
    stale = _wrapped_key_id() != master.key_id
    async with sessions() as session:
        progress.total = await _count(session, None)
        progress.already_current = progress.total - await _count(session, stale)
    after = 0
    while True:
        async with sessions() as session:
            query = select(OrgDataKey.org_id).where(stale, OrgDataKey.org_id > after)
            org_ids = list((await session.scalars(query.order_by(OrgDataKey.org_id).limit(batch_size))).all())
            if not org_ids:
                return progress
            for org_id in org_ids:
                await _rotate_one(session, master, org_id, progress)
            await session.commit()
        after = org_ids[-1]
        on_batch(progress)


def _wrapped_key_id() -> ColumnElement[bytes]:
    """The master key id in a wrapped key's header (bytes 2…9, after the version byte), in SQL."""
    return func.substr(OrgDataKey.wrapped, 2, KEY_ID_BYTES, type_=LargeBinary)


async def _count(session: AsyncSession, where: ColumnElement[bool] | None) -> int:
    query = select(func.count()).select_from(OrgDataKey)
    return int((await session.execute(query if where is None else query.where(where))).scalar_one())


async def _rotate_one(
    session: AsyncSession, master: MasterKey, org_id: int, progress: RotationProgress
) -> None:
    row = await session.get(OrgDataKey, org_id, with_for_update=True, populate_existing=True)
    if row is None:  # shredded meanwhile (the organisation left)
        progress.total -= 1
        return
    try:
        if wrapped_by(row.wrapped) == master.key_id:
            progress.already_current += 1
            return
        row.wrapped = rewrap_org_key(master, master, str(org_id), row.wrapped)
    except FieldCryptoError as error:
        progress.failed[org_id] = str(error)
        return
    progress.rotated += 1
