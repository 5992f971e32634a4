"""Where a voicemail's audio lives: a file of the platform's file store (`core.files`), named by
the message or the settings row. Rows written before audio moved to files keep their audio in
the database until the `telephony.voicemail_audio_to_files` job moves it."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.files import forget
from voipdesk.core.platform import Platform
from voipdesk.telephony.models import VoicemailMessage, VoicemailSettings

AREA = "voicemail"
# A file no row names is removed once it is this old (a crash between writing it and the commit
# that would have named it; any transaction still in progress is long over by then).
ORPHAN_AGE = timedelta(hours=6)
MOVED_PER_TRANSACTION = 50


def store(platform: Platform, wav: bytes) -> str:
    """Writes the audio durably; the caller names the key in its row before committing."""
    return platform.files.put(AREA, wav, "wav", platform.now())


def message_audio(platform: Platform, message: VoicemailMessage) -> bytes:
    if message.audio_file is not None:
        return platform.files.read(message.audio_file)
    return message.audio or b""


def greeting_audio(platform: Platform, row: VoicemailSettings | None) -> bytes | None:
    if row is None:
        return None
    if row.greeting_file is not None:
        return platform.files.read(row.greeting_file)
    return row.greeting_audio


def has_greeting(row: VoicemailSettings | None) -> bool:
    return row is not None and (row.greeting_file is not None or bool(row.greeting_audio))


def replace_greeting(
    session: Session, platform: Platform, row: VoicemailSettings, wav: bytes
) -> None:
    forget(session, platform, row.greeting_file)
    row.greeting_file = store(platform, wav)
    row.greeting_audio = None


def delete_message(session: Session, platform: Platform, message: VoicemailMessage) -> None:
    """The message and, once this transaction commits, its audio file."""
    forget(session, platform, message.audio_file)
    session.delete(message)


def move_to_files(platform: Platform, limit: int = MOVED_PER_TRANSACTION) -> int:
    """Moves the audio of up to `limit` older rows out of the database; returns how many."""
    moved = 0
    with platform.transaction() as session:
        messages = session.scalars(
            select(VoicemailMessage)
            .where(VoicemailMessage.audio_file.is_(None), VoicemailMessage.audio.is_not(None))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for message in messages:
            message.audio_file = store(platform, message.audio or b"")
            message.audio = None
            moved += 1
        settings = session.scalars(
            select(VoicemailSettings)
            .where(
                VoicemailSettings.greeting_file.is_(None),
                VoicemailSettings.greeting_audio.is_not(None),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in settings:
            row.greeting_file = store(platform, row.greeting_audio or b"")
            row.greeting_audio = None
            moved += 1
    return moved


def remove_orphans(platform: Platform) -> int:
    """Removes the voicemail files that no row names and that are older than `ORPHAN_AGE`."""
    before = time.time() - ORPHAN_AGE.total_seconds()
    candidates = list(platform.files.keys(AREA, modified_before=before))
    if not candidates:
        return 0
    named: set[str] = set()
    with platform.session() as session:
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            named.update(
                session.scalars(
                    select(VoicemailMessage.audio_file).where(
                        VoicemailMessage.audio_file.in_(chunk)
                    )
                )
            )
            named.update(
                session.scalars(
                    select(VoicemailSettings.greeting_file).where(
                        VoicemailSettings.greeting_file.in_(chunk)
                    )
                )
            )
    orphans = [key for key in candidates if key not in named]
    for key in orphans:
        platform.files.delete(key)
    return len(orphans)
