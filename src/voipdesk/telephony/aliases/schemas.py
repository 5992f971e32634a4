"""The shapes of an alias number configuration (API bodies, and what pages build): pydantic.

Numbers may be given in E.164 or in national format (the account's country); the actions turn
them into E.164 before the rules run. `model_dump()` of these is what is stored and checked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"]
Action = Literal["line", "queue", "submenu", "voicemail", "number", "message"]
Fallback = Literal["voicemail", "message", "number"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,20}$", examples=["main"])]
HourMinute = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prompt(_Strict):
    """A recording (`audio_id` from `POST .../audio`) or a text spoken by text-to-speech."""

    text: str | None = Field(None, min_length=1, max_length=600)
    language: Literal["fr", "en"] | None = None
    audio_id: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _one_source(self) -> Prompt:
        if not self.text and not self.audio_id:
            raise ValueError("give a text or an audio_id")
        return self


class Destination(_Strict):
    """Where a call goes: a line, a queue (its id), a submenu (its id), the voicemail of a line,
    another number, or a message played before hanging up."""

    action: Action
    target: str | None = Field(None, max_length=40)
    message: Prompt | None = None


class FallbackDestination(Destination):
    action: Fallback  # type: ignore[assignment]


class MenuKey(Destination):
    key: Key


class Menu(_Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=60)
    prompt: Prompt | None = None
    keys: list[MenuKey] = Field(default_factory=list, max_length=24)


class Member(_Strict):
    kind: Literal["line", "number"]
    number: str = Field(max_length=40)


class Period(_Strict):
    days: list[Day] = Field(min_length=1, max_length=7)
    start: HourMinute
    end: HourMinute


class OpeningHours(_Strict):
    timezone: str = Field("Europe/Paris", max_length=60)
    periods: list[Period] = Field(default_factory=list, max_length=21)
    holidays_country: Literal["FR", "BE", "CH", "CA"] | None = Field(
        None, description="closed on this country's public holidays (holidays library)"
    )
    holidays_subdivision: str | None = Field(None, max_length=10, examples=["QC"])


class Queue(_Strict):
    id: Identifier = "queue"
    name: str = Field("", max_length=60)
    members: list[Member] = Field(default_factory=list, max_length=60)
    strategy: Literal["ring_all", "sequential", "round_robin", "longest_idle"] = "ring_all"
    ring_timeout: int = Field(20, ge=5, le=120, description="seconds each member rings")
    max_wait: int = Field(300, ge=10, le=3600, description="seconds before the overflow")
    music_on_hold: Literal["default", "none", "audio"] = "default"
    music_audio_id: str | None = Field(None, max_length=32)
    overflow: FallbackDestination | None = None
    opening_hours: OpeningHours | None = None
    closed: FallbackDestination | None = None


class NoConfiguration(_Strict):
    type: Literal["none"] = "none"


class RedirectConfiguration(_Strict):
    type: Literal["redirect"] = "redirect"
    destination: str = Field(max_length=40, description="a line of the group or another number")
    present_alias: bool = Field(False, description="callers' calls show the alias as caller ID")


class QueueConfiguration(_Strict):
    type: Literal["queue"] = "queue"
    queue: Queue


class IvrConfiguration(_Strict):
    type: Literal["ivr"] = "ivr"
    greeting: Prompt | None = None
    root: Identifier = "main"
    menus: list[Menu] = Field(min_length=1, max_length=40)
    queues: list[Queue] = Field(default_factory=list, max_length=20)
    opening_hours: OpeningHours | None = None
    closed: FallbackDestination | None = None
    no_input: Destination | None = None


class ContactCenterConfiguration(IvrConfiguration):
    type: Literal["contact_center"] = "contact_center"  # type: ignore[assignment]
    recording: bool = Field(False, description='"Enregistrement des appels": record the calls')


class ConferenceConfiguration(_Strict):
    type: Literal["conference"] = "conference"
    pin: str | None = Field(None, pattern=r"^[0-9]{4,8}$")
    muted_on_entry: bool = False
    recording: bool = False


Configuration = Annotated[
    NoConfiguration
    | RedirectConfiguration
    | QueueConfiguration
    | IvrConfiguration
    | ContactCenterConfiguration
    | ConferenceConfiguration,
    Field(discriminator="type"),
]


class ConfigurationIn(_Strict):
    configuration: Configuration
    confirm_delete: bool = Field(
        False,
        description="required to change the type: the current configuration is deleted",
    )
