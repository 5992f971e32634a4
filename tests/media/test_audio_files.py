"""Voicemail audio kept as files under the configured folder, the database holding their keys:
a deleted message's file goes once the deletion commits (not when it rolls back), audio stored in
the database before moves to files, a file left by a crash is removed, and keys never lead
outside the folder."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests.media.test_messages import WAV, line
from voipdesk.core.files import FileStore, UnknownFileKey
from voipdesk.core.jobs import registered_jobs
from voipdesk.core.outbox import drain
from voipdesk.telephony import services
from voipdesk.telephony.actions import voicemail, voicemail_audio
from voipdesk.telephony.models import VoicemailMessage, VoicemailSettings


def stored(platform, message_id: str) -> VoicemailMessage:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        message = session.get(VoicemailMessage, message_id)
        assert message is not None
        return message


def test_a_message_is_a_file_and_its_deletion_removes_it_after_the_commit(platform):  # type: ignore[no-untyped-def]
    account, group, number = line(platform)
    with platform.transaction() as session:
        message_id = services.leave_voicemail_message(session, platform, number, None, WAV)
    assert message_id is not None
    message = stored(platform, message_id)
    assert message.audio is None and message.audio_file is not None
    assert (platform.files.root / message.audio_file).read_bytes() == WAV
    with platform.session() as session:
        audio, content_type = voicemail.message_audio(
            session, platform, account.id, group, number, message_id
        )
    assert (audio, content_type) == (WAV, "audio/wav")

    # A deletion that rolls back keeps the message and its audio.
    with pytest.raises(RuntimeError), platform.transaction() as session:
        voicemail.delete_message(session, platform, account.id, group, number, message_id)
        raise RuntimeError("the transaction fails after the deletion")
    drain(platform)
    assert platform.files.read(message.audio_file) == WAV

    with platform.transaction() as session:
        voicemail.delete_message(session, platform, account.id, group, number, message_id)
    assert platform.files.exists(message.audio_file)  # still there until the outbox runs
    drain(platform)
    assert not platform.files.exists(message.audio_file)


def test_audio_kept_in_the_database_before_moves_to_files(platform):  # type: ignore[no-untyped-def]
    account, group, number = line(platform)
    with platform.transaction() as session:
        message_id = services.leave_voicemail_message(session, platform, number, None, WAV)
        session.add(
            VoicemailSettings(
                service_id=stored_service(session, number),
                greeting="recording",
                greeting_audio=WAV,
                email_notification="off",
            )
        )
    old_file = stored(platform, message_id).audio_file
    with platform.transaction() as session:  # as a row written before files were used
        session.execute(
            update(VoicemailMessage)
            .where(VoicemailMessage.id == message_id)
            .values(audio=WAV, audio_file=None)
        )
    registered_jobs()["telephony.voicemail_audio_to_files"].run(platform)
    message = stored(platform, message_id)
    assert message.audio is None and message.audio_file not in (None, old_file)
    assert platform.files.read(message.audio_file) == WAV
    with platform.session() as session:
        row = session.scalar(select(VoicemailSettings))
        assert row is not None and row.greeting_audio is None and row.greeting_file is not None
        assert voicemail.greeting_audio(session, platform, account.id, group, number) == WAV
    assert voicemail_audio.move_to_files(platform) == 0  # nothing left to move


def stored_service(session, number: str) -> str:  # type: ignore[no-untyped-def]
    from voipdesk.subscriptions import queries

    found = queries.live_line_by_number(session, number)
    assert found is not None
    return found.id


def test_a_file_no_row_names_is_removed_once_old(platform):  # type: ignore[no-untyped-def]
    _account, _group, number = line(platform)
    with platform.transaction() as session:
        message_id = services.leave_voicemail_message(session, platform, number, None, WAV)
    named = stored(platform, message_id).audio_file
    assert named is not None
    orphan = voicemail_audio.store(platform, WAV)  # as if the process died before its commit
    fresh_orphan = voicemail_audio.store(platform, WAV)
    long_ago = time.time() - voicemail_audio.ORPHAN_AGE.total_seconds() - 60
    for key in (named, orphan):
        os.utime(platform.files.root / key, (long_ago, long_ago))
    registered_jobs()["telephony.voicemail_orphan_files"].run(platform)
    assert platform.files.exists(named)  # named by its message: kept however old
    assert not platform.files.exists(orphan)
    assert platform.files.exists(fresh_orphan)  # may belong to a transaction still running


def test_a_file_is_written_whole_or_not_at_all(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FileStore(tmp_path)
    key = store.put("voicemail", b"abc", "wav", datetime(2026, 3, 2, tzinfo=UTC))
    assert key.startswith("voicemail/2026/03/") and key.endswith(".wav")
    assert store.read(key) == b"abc"
    assert [p.name for p in (tmp_path / "voicemail/2026/03").iterdir()] == [key.rsplit("/")[-1]]
    store.delete(key)
    store.delete(key)  # already gone: nothing to do (the outbox delivers at least once)
    assert not store.exists(key)


@given(st.text(max_size=60))
def test_a_key_never_leads_outside_the_folder(key: str) -> None:
    store = FileStore(Path("/nonexistent-root"))
    try:
        path = store._path(key)
    except UnknownFileKey:
        return
    assert ".." not in key and not key.startswith("/")
    assert path.is_relative_to("/nonexistent-root")


def test_crafted_keys_are_refused() -> None:
    store = FileStore(Path("/nonexistent-root"))
    for key in ("../etc/passwd", "voicemail/2026/03/../../x.wav", "/etc/passwd", ""):
        with pytest.raises(UnknownFileKey):
            store.read(key)
