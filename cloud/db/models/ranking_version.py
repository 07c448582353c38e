"""One counter per organisation that every change to what its rankings show moves (see ranking_version)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base


class RankingVersion(Base):
    """Moved in the same transaction as every balance change: a cached ranking is valid while it stands."""

    __tablename__ = "ranking_version"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # 64 bits: never wraps
