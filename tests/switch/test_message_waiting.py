"""Message-waiting indication through the real switch: when a message is left on a line's
voicemail, and when it is listened to or deleted, the line's registered phone receives a NOTIFY
(event message-summary) with the counts of the moment; a NOTIFY without voipdesk's token is
refused by the switch and never reaches the phone."""

from __future__ import annotations

import socket
import threading
import time

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.media.test_messages import WAV
from tests.switch.harness import Phone
from tests.switch.test_calls import delivered_lines, explain
from voipdesk.core.outbox import OutboxMessage, drain
from voipdesk.switch import notifier, rules
from voipdesk.switch.config import switch_token
from voipdesk.telephony import services


class PhoneSocket:
    """Listens where the phone registered, answers each request 200 and keeps it."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                data, address = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            head = text.split("\r\n\r\n", 1)[0].split("\r\n")
            if head[0].startswith("SIP/2.0"):
                continue
            copied = [
                line
                for line in head[1:]
                if line.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")
            ]
            answer = "\r\n".join(["SIP/2.0 200 OK", *copied, "Content-Length: 0", "", ""])
            self.sock.sendto(answer.encode(), address)
            if text not in self.requests:  # a retransmission is the same request
                self.requests.append(text)

    def bodies(self) -> list[str]:
        return [r.split("\r\n\r\n", 1)[1] for r in self.requests if r.startswith("NOTIFY ")]

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()


def wait_for(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_phone_is_told_when_messages_wait_and_when_none_is_left(platform, switch, sip_folder):
    platform.settings = switch.settings  # voipdesk sends to this switch's port
    account = make_account(platform)
    line = delivered_lines(platform, account.id, [("sip-entreprise", 2)])[0]
    phone = Phone(switch, line.sip_username, line.sip_password, sip_folder)
    outcome = phone.register()
    assert outcome.ok, explain(outcome, switch)
    drain(platform)  # whatever the delivery queued
    listening = PhoneSocket(phone.port)
    try:
        with platform.transaction() as session:
            message_id = services.leave_voicemail_message(
                session, platform, line.number_e164, "+33612345678", WAV
            )
        assert message_id is not None
        drain(platform)
        assert wait_for(lambda: len(listening.bodies()) == 1), switch.log()[-2000:]
        (notify,) = [r for r in listening.requests if r.startswith("NOTIFY ")]
        assert "Event: message-summary" in notify
        assert "X-Voipdesk-Token" not in notify  # the switch's secret stays with the switch
        assert "Messages-Waiting: yes" in listening.bodies()[0]
        assert "Voice-Message: 1/0" in listening.bodies()[0]

        with platform.transaction() as session:  # listened to by 123, and kept
            box = services.voicemail_box(session, platform, line.number_e164)
            assert box is not None
            assert services.save_voicemail_message(session, platform, box.service_id, message_id)
        drain(platform)
        assert wait_for(lambda: len(listening.bodies()) == 2)
        assert "Messages-Waiting: no" in listening.bodies()[1]
        assert "Voice-Message: 0/1" in listening.bodies()[1]

        with platform.transaction() as session:
            assert services.delete_voicemail_message(session, platform, box, message_id)
        drain(platform)
        assert wait_for(lambda: len(listening.bodies()) == 3)
        assert "Voice-Message: 0/0" in listening.bodies()[2]

        # Anyone else's NOTIFY is refused by the switch and never reaches the phone.
        forged = notifier.send_message_summary(
            switch.settings, "not-the-token", line.sip_username, rules.WaitingMessages(9, 0)
        )
        assert forged.status == 403
        time.sleep(0.5)
        assert len(listening.bodies()) == 3
    finally:
        listening.close()


def test_a_line_without_a_registered_phone_has_nothing_to_be_told(platform, switch, sip_folder):
    platform.settings = switch.settings
    account = make_account(platform)
    line = delivered_lines(platform, account.id, [("sip-entreprise", 2)])[0]
    answer = notifier.send_message_summary(
        switch.settings,
        switch_token(switch.settings),
        line.sip_username,
        rules.WaitingMessages(1, 0),
    )
    assert answer.status == 404
    with platform.transaction() as session:
        services.leave_voicemail_message(session, platform, line.number_e164, None, WAV)
    drain(platform)  # the summary finds nobody: delivered, not retried for ever
    with platform.session() as session:
        message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.topic == "telephony.message_waiting")
        )
    assert message is not None and message.delivered_at is not None and message.failed_at is None
