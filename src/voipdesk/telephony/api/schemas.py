"""Bodies of the telephony API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from voipdesk.core.money import Money
from voipdesk.core.pagination import Page

Condition = Literal["unconditional", "busy", "no_answer", "unreachable"]
Target = Literal["external", "line", "voicemail"]


def path_number(value: str) -> str:
    """A line's number as written in a path: E.164, "+" optional (URL-encoded or not)."""
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SipAccountOut(BaseModel):
    username: str = Field(description="The SIP user (and authentication user) of the line")
    domain: str = Field(description="SIP server (registrar and proxy) and digest realm")
    port: int
    transport: Literal["udp", "tcp", "tls"] | str
    password_set: bool = Field(description="False until a password is made for the line")


class SipPasswordOut(SipAccountOut):
    password: str = Field(description="Shown only in this answer: only its digest HA1 is kept")


class ForwardIn(Strict):
    target: Target = Field(description="external number, another line of the group, voicemail")
    number: str | None = Field(
        None, max_length=30, description="E.164 or national; for external and line targets"
    )
    delay: int | None = Field(
        None, description="Seconds before forwarding, 5-60 (no_answer only; default 20)"
    )


class ForwardOut(BaseModel):
    target: Target
    number: str | None
    delay: int | None


class ForwardingOut(BaseModel):
    unconditional: ForwardOut | None = None
    busy: ForwardOut | None = None
    no_answer: ForwardOut | None = None
    unreachable: ForwardOut | None = None


class CallSettingsIn(Strict):
    do_not_disturb: bool | None = None
    reject_anonymous: bool | None = Field(None, description="Refuse calls with a hidden number")
    caller_id: Literal["line", "alias", "hidden"] | None = Field(
        None, description="What callees see: the line's number, an alias of the group, nothing"
    )
    caller_id_number: str | None = Field(
        None, max_length=30, description="The alias number presented (caller_id = alias)"
    )
    blocked_callers: list[str] | None = Field(
        None, max_length=100, description="Numbers or prefixes that may not call this line"
    )


class CallSettingsOut(BaseModel):
    do_not_disturb: bool
    reject_anonymous: bool
    caller_id: Literal["line", "alias", "hidden"]
    caller_id_number: str | None
    blocked_callers: list[str]


class RestrictionsIn(Strict):
    block_outgoing: bool | None = Field(None, description="No outgoing call at all")
    block_international: bool | None = None
    block_premium: bool | None = Field(None, description="No premium-rate numbers")
    number_list_mode: Literal["none", "allow", "block"] | None = Field(
        None, description="allow: only the listed numbers/prefixes; block: all but them"
    )
    number_list: list[str] | None = Field(None, max_length=100)
    allowed_ips: list[str] | None = Field(
        None, max_length=20, description="Addresses or CIDR networks the phone may register from"
    )


class RestrictionsOut(BaseModel):
    block_outgoing: bool
    block_international: bool
    block_premium: bool
    number_list_mode: Literal["none", "allow", "block"]
    number_list: list[str]
    allowed_ips: list[str]


class OptionOut(BaseModel):
    code: str
    label: str
    monthly_excl_tax: dict[str, str]
    on_line: bool
    ends_at_renewal: bool = Field(description="Removal asked: the option ends at the next renewal")


class OptionsOut(BaseModel):
    items: list[OptionOut]


class OptionOrderIn(Strict):
    option: str = Field(max_length=60)


class OptionOrderOut(BaseModel):
    order_id: str
    order_number: str
    option: str
    prorated_excl_tax: dict[str, str]
    monthly_excl_tax: dict[str, str]
    total_incl_tax: dict[str, str]
    message: str


class OptionRemovalOut(BaseModel):
    pending_change_id: str
    effective_on: str


class HistoryEntryOut(BaseModel):
    at: datetime
    actor: str
    what: str


class HistoryPage(Page[HistoryEntryOut]):
    pass


class VoicemailIn(Strict):
    enabled: bool | None = None
    greeting: Literal["standard", "name", "recording"] | None = None
    greeting_name: str | None = Field(None, max_length=80)
    pin: str | None = Field(None, max_length=8, description="4-8 digits, not trivial")
    email_notification: Literal["off", "without_audio", "with_audio"] | None = None
    delete_after_email: bool | None = None


class VoicemailOut(BaseModel):
    enabled: bool
    greeting: Literal["standard", "name", "recording"]
    greeting_name: str | None
    has_recording: bool
    pin_set: bool
    email_notification: Literal["off", "without_audio", "with_audio"]
    delete_after_email: bool
    unread: int
    total: int


class MessageOut(BaseModel):
    id: str
    caller: str | None
    received_at: datetime
    duration_seconds: int
    read: bool
    audio_url: str


class MessagePage(Page[MessageOut]):
    pass


class MessageIn(Strict):
    read: bool


def money(amount: Decimal) -> dict[str, str]:
    return Money(amount).as_json()
