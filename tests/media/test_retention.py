"""Voicemail retention: the periodic job deletes messages past the configured period, keeps the
newer ones, and keeps everything when the period is 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.media.test_messages import WAV, line
from voipdesk.core.jobs import registered_jobs
from voipdesk.core.outbox import drain
from voipdesk.telephony import rules, services
from voipdesk.telephony.models import VoicemailMessage


def message_ids(platform) -> set[str]:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return set(session.scalars(select(VoicemailMessage.id)))


def audio_file(platform, message_id: str) -> str:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        message = session.get(VoicemailMessage, message_id)
        assert message is not None and message.audio_file is not None
        return message.audio_file


def test_the_job_deletes_messages_past_retention(platform, clock):  # type: ignore[no-untyped-def]
    platform.settings = platform.settings.model_copy(update={"voicemail_retention_days": 30})
    _account, _group, number = line(platform)
    with platform.transaction() as session:
        old = services.leave_voicemail_message(session, platform, number, "+33612345678", WAV)
    clock.advance(timedelta(days=20))
    with platform.transaction() as session:
        recent = services.leave_voicemail_message(session, platform, number, None, WAV)
    old_file, recent_file = audio_file(platform, old), audio_file(platform, recent)
    clock.advance(timedelta(days=11))
    job = registered_jobs()["telephony.voicemail_retention"]
    job.run(platform)
    assert message_ids(platform) == {recent}
    assert old not in message_ids(platform)
    drain(platform)  # the audio goes once the deletion has committed
    assert not platform.files.exists(old_file)
    assert platform.files.read(recent_file) == WAV
    job.run(platform)  # a repeat changes nothing
    assert message_ids(platform) == {recent}


def test_zero_keeps_every_message(platform, clock):  # type: ignore[no-untyped-def]
    platform.settings = platform.settings.model_copy(update={"voicemail_retention_days": 0})
    _account, _group, number = line(platform)
    with platform.transaction() as session:
        kept = services.leave_voicemail_message(session, platform, number, None, WAV)
    clock.advance(timedelta(days=3650))
    registered_jobs()["telephony.voicemail_retention"].run(platform)
    assert message_ids(platform) == {kept}


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-5, max_value=3650),
)
def test_cutoff_rule(now, days):  # type: ignore[no-untyped-def]
    now = now.replace(tzinfo=UTC)
    cutoff = rules.voicemail_retention_cutoff(now, days)
    if days <= 0:
        assert cutoff is None
    else:
        assert cutoff is not None and (now - cutoff).days == days
