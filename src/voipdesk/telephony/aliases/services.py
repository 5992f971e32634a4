"""What other areas (the switch, the media service, star codes) ask of alias configurations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.telephony.aliases import audio
from voipdesk.telephony.aliases.agents import agent_star_code, store_call_recording
from voipdesk.telephony.aliases.queries import CompiledConfiguration, compiled_configuration
from voipdesk.telephony.aliases.rules import AGENT_STAR_CODES, is_open

__all__ = [
    "AGENT_STAR_CODES",
    "CompiledConfiguration",
    "ConferenceRoom",
    "MenuConfiguration",
    "agent_star_code",
    "compiled_configuration",
    "conference_room",
    "is_open",
    "menu_configuration",
    "spoken",
    "store_call_recording",
]


@dataclass(frozen=True)
class ConferenceRoom:
    number: str
    pin: str | None
    muted_on_entry: bool
    recording: bool
    language: str  # the owner's


def conference_room(session: Session, number: str) -> ConferenceRoom | None:
    """The conference settings of an alias number configured as a conference room (else None)."""
    from voipdesk.accounts.models import Account
    from voipdesk.subscriptions import queries as subscriptions
    from voipdesk.telephony.aliases.models import AliasConfiguration

    found = compiled_configuration(session, number)
    if found is None or not isinstance(found.compiled.get("conference"), dict):
        return None
    settings = found.compiled["conference"]
    group_id = session.scalar(
        select(AliasConfiguration.billing_group_id).where(AliasConfiguration.number_e164 == number)
    )
    group = subscriptions.group_by_id(session, group_id) if group_id else None
    account = session.get(Account, group.account_id) if group is not None else None
    return ConferenceRoom(
        number=number,
        pin=settings.get("pin") or None,
        muted_on_entry=bool(settings.get("muted_on_entry")),
        recording=bool(settings.get("recording")),
        language=account.language if account is not None else "fr",
    )


def spoken(text: str, language: str) -> bytes:
    """The text spoken by text-to-speech in that language, as telephony WAV (8 kHz mono 16-bit);
    errors.SpeechUnavailable when espeak-ng or sox is missing."""
    return audio.speak(text, language).content


@dataclass(frozen=True)
class MenuConfiguration:
    """An alias configured as an IVR, as the media service plays it: the compiled menus, the
    owner's language and the recordings its prompts name (telephony WAV by audio id)."""

    number: str
    compiled: dict
    language: str
    recordings: dict[str, bytes]


def menu_configuration(session: Session, number: str) -> MenuConfiguration | None:
    from voipdesk.accounts.models import Account
    from voipdesk.subscriptions import queries as subscriptions
    from voipdesk.telephony.aliases.models import AliasAudio, AliasConfiguration

    found = compiled_configuration(session, number)
    if found is None or found.compiled.get("type") != "ivr":
        return None
    group_id = session.scalar(
        select(AliasConfiguration.billing_group_id).where(AliasConfiguration.number_e164 == number)
    )
    group = subscriptions.group_by_id(session, group_id) if group_id else None
    account = session.get(Account, group.account_id) if group is not None else None
    recordings = dict(
        session.execute(
            select(AliasAudio.id, AliasAudio.content).where(AliasAudio.number_e164 == number)
        ).all()
    )
    return MenuConfiguration(
        number=number,
        compiled=found.compiled,
        language=account.language if account is not None else "fr",
        recordings=recordings,
    )
