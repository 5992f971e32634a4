"""The webhooks tables: endpoints staff registered, the events forwarded to them (one message
per domain event, its body stored so every attempt sends the same bytes), one delivery per
endpoint and message, and every attempt with the receiver's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voipdesk.core.db import Base, UTCDateTime, new_id


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoint"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))  # whsec_ + base64 (rules.format_secret)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))  # staff account id
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookMessage(Base):
    """One domain event as receivers get it; `id` is the `webhook-id` header."""

    __tablename__ = "webhook_message"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60), index=True)
    source_event_id: Mapped[str] = mapped_column(String(250), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "message_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_message.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # rules.PENDING ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failed_in_a_row: Mapped[int] = mapped_column(Integer, default=0)  # automatic ones, for backoff
    # Each scheduled attempt carries this number; an outbox message with an older one is stale
    # (a "send again" replaced it) and does nothing.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    message: Mapped[WebhookMessage] = relationship(lazy="joined", innerjoin=True)
    attempt_rows: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.number", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(20))  # automatic | manual (staff: send again)
    actor: Mapped[str] = mapped_column(String(60), default="system")
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)  # no answer: refused, timeout...
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
