"""The abbreviated numbers table: one row per code, in the namespace of a group or of a line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id


class AbbreviatedNumber(Base):
    __tablename__ = "abbreviated_number"
    __table_args__ = (
        # One code per namespace (rules.scope_key): also what two racing requests meet.
        UniqueConstraint("scope_key", "code"),
        Index("ix_abbreviated_number_group_line", "billing_group_id", "line_number"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"))
    scope: Mapped[str] = mapped_column(String(10))  # rules.GROUP | rules.LINE
    scope_key: Mapped[str] = mapped_column(String(50))
    line_number: Mapped[str | None] = mapped_column(String(20))  # a line's own ones
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(60))
    destination_e164: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
