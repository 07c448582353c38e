"""Agent enrolment tokens (PRIVACY.md ACC-3): single-use, expiring, bound to one organisation and site.

Only hashes of the token and of its short code are stored. ``token_sealed`` keeps the token encrypted
(``cloud.enrolment.sealing``, with a key that is not in the database) so the admin can fetch its QR code
again until the token is used or expires; it is wiped on use.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class EnrolmentToken(Base):
    """One enrolment credential; ``used_at`` is set exactly once, in the transaction that enrols."""

    __tablename__ = "enrolment_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    short_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_by_agent: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
