"""Display links: signed, expiring, read-only passes to an organisation's dashboard for wall screens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class DisplayLink(Base):
    """One issued link; the URL carries a signed pass naming this row, so revoking the row ends it.

    ``audience`` is what the dashboard shows through the link: ``public`` (the default for wall
    screens: only members with public-display consent, as on a public sign) or ``internal``.
    """

    __tablename__ = "display_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(16), default="public")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
