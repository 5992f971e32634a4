"""The telephony services the media service stores messages with: the e-mail follows the
voicemail's settings (with the WAV, without, none; deleted after the e-mail when asked), and 123's
order is new messages first, then the saved ones."""

from __future__ import annotations

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail
from voipdesk.media import audio
from voipdesk.telephony import services
from voipdesk.telephony.actions.voicemail import update_voicemail
from voipdesk.telephony.models import VoicemailMessage

WAV = audio.wav_bytes(audio.tone(440, 2.0))


def line(platform):  # type: ignore[no-untyped-def]
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    return account, result.billing_group_id, result.sip_credentials[0].number_e164


def emails(platform) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        rows = session.scalars(select(ServiceEmail).where(ServiceEmail.kind == "voicemail_message"))
        return [(e.subject, [a.filename for a in e.attachments]) for e in rows]


def test_email_follows_the_settings_and_123_order(platform):  # type: ignore[no-untyped-def]
    account, group, number = line(platform)
    with platform.transaction() as session:
        box = services.voicemail_box(session, platform, number)
        assert box is not None and box.enabled and box.greeting == "standard"
        first = services.leave_voicemail_message(session, platform, number, "+33612345678", WAV)
    (sent,) = emails(platform)
    assert sent[1] and sent[1][0].endswith(".wav")  # with the audio by default

    with platform.transaction() as session:
        update_voicemail(
            session, platform, account.id, group, number, {"email_notification": "without_audio"}
        )
        second = services.leave_voicemail_message(session, platform, number, None, WAV)
        update_voicemail(
            session, platform, account.id, group, number, {"email_notification": "off"}
        )
        services.leave_voicemail_message(session, platform, number, None, WAV)
    assert [attachments for _subject, attachments in emails(platform)][1] == []
    assert len(emails(platform)) == 2  # none for the third

    with platform.transaction() as session:
        assert first is not None and second is not None
        assert services.save_voicemail_message(session, platform, box.service_id, first)
    with platform.session() as session:
        order = services.voicemail_messages(session, box.service_id)
    assert [m.saved for m in order] == [False, False, True] and order[-1].id == first
    assert second in {m.id for m in order[:2]}  # same instant here: their order is by id

    with platform.transaction() as session:
        assert services.delete_voicemail_message(session, platform, box, second)
        assert not services.delete_voicemail_message(session, platform, box, second)
        update_voicemail(
            session,
            platform,
            account.id,
            group,
            number,
            {"email_notification": "with_audio", "delete_after_email": True},
        )
        assert services.leave_voicemail_message(session, platform, number, None, WAV) is None
    with platform.session() as session:
        assert len(list(session.scalars(select(VoicemailMessage)))) == 2
    assert len(emails(platform)) == 3


def test_no_box_for_a_number_that_is_no_line(platform):  # type: ignore[no-untyped-def]
    with platform.session() as session:
        assert services.voicemail_box(session, platform, "+33999999999") is None
