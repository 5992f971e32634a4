"""The media service's pure parts: targets, SDP negotiation, the recorder's placement by
timestamp, SIP parsing and answers, the 123 keys and the recording's limits."""

from __future__ import annotations

from voipdesk.media import audio, rules, sip
from voipdesk.media.rtp import Recorder
from voipdesk.media.server import caller_of

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 9 0 8 96\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)
INVITE = (
    "INVITE sip:voicemail-33412345678@127.0.0.1:5080 SIP/2.0\r\n"
    "Record-Route: <sip:127.0.0.1:5060;lr;ftag=a>\r\n"
    "v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx1\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKx0;rport=6000\r\n"
    "f: <sip:33612345678@sip.example>;tag=abc\r\nt: <sip:33412345678@sip.example>\r\n"
    "i: call-1\r\nCSeq: 2 INVITE\r\nP-Asserted-Identity: <sip:+33612345678@sip.example>\r\n"
    "Content-Type: application/sdp\r\nl: " + str(len(OFFER)) + "\r\n\r\n" + OFFER
)


def test_targets_from_the_request_uri_user() -> None:
    assert rules.parse_target("voicemail-33412345678") == rules.Target("voicemail", "+33412345678")
    access = rules.parse_target("voicemail-access-33412345678")
    assert access == rules.Target("voicemail-access", "+33412345678")
    assert access.name == "voicemail-access-33412345678"
    assert rules.parse_target("conference-33412345678").kind == "conference"
    for refused in ("", "123", "music-33412345678", "voicemail-12", "voicemail-+334"):
        assert rules.parse_target(refused) is None


def test_first_g711_of_the_offer_and_its_telephone_event() -> None:
    offer = rules.parse_sdp(OFFER)
    assert offer is not None and (offer.address, offer.port) == ("10.0.0.5", 4000)
    answer = rules.choose(offer)
    assert answer == rules.Answer(rules.PCMU, 96)
    sdp = rules.sdp_answer("127.0.0.1", 20000, answer, 7)
    assert "m=audio 20000 RTP/AVP 0 96" in sdp and "a=rtpmap:96 telephone-event/8000" in sdp
    g722_only = rules.parse_sdp(OFFER.replace("9 0 8 96", "9"))
    assert g722_only is not None and rules.choose(g722_only) is None


def test_sip_parse_compact_headers_and_answer_keeps_vias_and_record_route() -> None:
    message = sip.parse(INVITE.encode())
    assert message.method == "INVITE" and message.call_id == "call-1"
    assert message.cseq == (2, "INVITE") and message.body == OFFER
    assert len(message.get_all("Via")) == 2 and message.branch == "z9hG4bKx1"
    assert sip.uri_user(message.uri) == "voicemail-33412345678"
    ok = sip.parse(sip.response(message, 200, "OK", to_tag="t1", body="v=0\r\n").to_bytes())
    assert ok.status == 200 and sip.tag(ok["To"]) == "t1" and sip.tag(ok["From"]) == "abc"
    assert [v for k, v in ok.headers if k == "Via"] == [v for k, v in message.headers if k == "Via"]
    assert ok.get_all("Record-Route") == ["<sip:127.0.0.1:5060;lr;ftag=a>"]
    refused = sip.response(message, 404, "Not Found", to_tag="t1")
    assert refused.get("Record-Route") is None


def test_caller_is_the_asserted_identity_unless_hidden() -> None:
    message = sip.parse(INVITE.encode())
    assert caller_of(message) == "+33612345678"
    message.headers.append(("Privacy", "id"))
    assert caller_of(message) is None


def test_recorder_places_frames_by_timestamp() -> None:
    recorder = Recorder()
    one, two, three = (audio.tone(hz, 0.02) for hz in (400, 800, 1200))
    recorder.add(1000, one)
    recorder.add(1320, three)  # the second frame is late
    recorder.add(1160, two)
    assert bytes(recorder.pcm) == one + two + three
    recorder.add(840, two)  # before the first packet kept: dropped
    assert recorder.seconds == 0.06 and recorder.heard_voice


def test_recording_limits_and_123_keys() -> None:
    assert rules.recording_over(10, 1) is None
    assert rules.recording_over(rules.MESSAGE_MAX_SECONDS, 0) == "maximum length"
    assert rules.recording_over(20, rules.SILENCE_END_SECONDS) == "silence"
    assert not rules.worth_storing(0.5) and rules.worth_storing(3)
    assert [rules.access_action(k) for k in ("1", "2", "3", "#", "9", None)] == [
        "replay",
        "save",
        "delete",
        "next",
        "next",
        "next",
    ]
    assert rules.spoken_number("+33612345678") == "0 6 1 2 3 4 5 6 7 8"
    assert rules.spoken_number("+4930123456") == "4 9 3 0 1 2 3 4 5 6"


def test_g711_round_trip_is_stable() -> None:
    pcm = audio.tone(1000, 0.1)
    for codec in (rules.PCMA, rules.PCMU):
        once = audio.round_trip(codec, pcm)
        assert audio.round_trip(codec, once) == once  # re-encoding decoded samples is exact
