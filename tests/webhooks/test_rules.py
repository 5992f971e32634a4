"""The webhooks rules: Standard Webhooks signatures (checked against the `standardwebhooks`
library), the retry schedule, addresses and event types, the delivery state table."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from voipdesk.core.events import _NAME
from voipdesk.webhooks import rules

SECRET = rules.format_secret(b"0123456789abcdef0123456789abcdef")


@given(
    raw=st.binary(min_size=16, max_size=64),
    message=st.text(min_size=1, max_size=40).filter(lambda text: "." not in text),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
    body=st.text(max_size=500),
)
def test_signatures_are_the_ones_the_standard_webhooks_library_computes(
    raw: bytes, message: str, timestamp: int, body: str
) -> None:
    secret = rules.format_secret(raw)
    at = datetime.fromtimestamp(timestamp, UTC)
    assert rules.signature(secret, message, timestamp, body) == Webhook(secret).sign(
        message, at, body
    )


@given(body=st.text(max_size=200), other=st.text(max_size=200))
def test_a_changed_body_breaks_the_signature(body: str, other: str) -> None:
    headers = rules.headers(SECRET, "msg_1", 1_700_000_000, body)
    problem = rules.verify(SECRET, headers, other, 1_700_000_000)
    assert (problem is None) == (body == other)


def test_the_library_verifies_a_message_signed_now() -> None:
    now = int(datetime.now(UTC).timestamp())
    body = rules.body("order.delivered", datetime.now(UTC), {"order_id": "o1"})
    headers = rules.headers(SECRET, "msg_abc", now, body)
    parsed = Webhook(SECRET).verify(body, headers)  # raises if the library disagrees
    assert parsed["type"] == "order.delivered" and parsed["data"] == {"order_id": "o1"}


def test_verify_refuses_old_timestamps_missing_headers_and_other_secrets() -> None:
    body = '{"type":"order.paid"}'
    headers = rules.headers(SECRET, "msg_1", 1_000_000, body)
    assert rules.verify(SECRET, headers, body, 1_000_000 + 300) is None
    assert rules.verify(SECRET, headers, body, 1_000_000 + 301) is not None
    assert rules.verify(SECRET, {"webhook-id": "msg_1"}, body, 1_000_000) is not None
    other = rules.format_secret(b"another secret of 24 b.")
    assert rules.verify(other, headers, body, 1_000_000) is not None


def test_secrets_look_like_standard_webhooks_ones() -> None:
    assert SECRET.startswith("whsec_")
    assert rules.secret_key(SECRET) == b"0123456789abcdef0123456789abcdef"
    with pytest.raises(ValueError):
        rules.format_secret(b"short")
    with pytest.raises(ValueError):
        rules.secret_key("not-a-secret")


def test_the_retry_schedule_is_standard_webhooks_and_ends() -> None:
    delays = [rules.next_delay(n) for n in range(1, 9)]
    assert delays[:7] == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert delays[7] is None  # eight attempts in all, then given up
    with pytest.raises(ValueError):
        rules.next_delay(0)


@given(failed=st.integers(min_value=1, max_value=20))
def test_the_waits_never_shrink(failed: int) -> None:
    delay, following = rules.next_delay(failed), rules.next_delay(failed + 1)
    if following is not None:
        assert delay is not None and following >= delay


def test_only_2xx_is_a_success() -> None:
    assert [rules.is_success(code) for code in (None, 199, 200, 204, 299, 300, 410, 500)] == [
        False,
        False,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("url", "fine"),
    [
        ("https://crm.example.com/hooks/voipdesk", True),
        ("http://10.0.0.5:8080/hooks", True),
        ("ftp://crm.example.com/", False),
        ("https://user:secret@crm.example.com/", False),
        ("https://crm.example.com/#part", False),
        ("https:///nohost", False),
        ("https://crm.example.com:99999/", False),
        ("https://crm.example.com/" + "a" * 2000, False),
        ("crm.example.com", False),
    ],
)
def test_endpoint_addresses(url: str, fine: bool) -> None:
    assert (rules.url_problem(url) is None) is fine


@given(st.lists(st.sampled_from([event.name for event in rules.EVENT_TYPES])))
def test_event_types_are_kept_once_in_catalogue_order(names: list[str]) -> None:
    kept = rules.normalise_event_types(names)
    assert set(kept) == set(names) and len(kept) == len(set(names))
    assert rules.normalise_event_types(kept) == kept
    assert (rules.event_types_problem(names) is None) == bool(names)


def test_every_event_type_forwards_one_well_named_domain_event() -> None:
    sources = [event.source for event in rules.EVENT_TYPES]
    assert len(sources) == len(set(sources))
    assert all(_NAME.match(source) for source in sources)
    assert rules.event_types_problem(["order.shipped"]) is not None


def test_a_delivery_is_sent_again_only_once_decided_or_while_pending() -> None:
    assert rules.can_transition(rules.PENDING, rules.SUCCEEDED)
    assert rules.can_transition(rules.PENDING, rules.FAILED)
    assert rules.can_transition(rules.SUCCEEDED, rules.PENDING)
    assert rules.can_transition(rules.FAILED, rules.PENDING)
    assert not rules.can_transition(rules.SUCCEEDED, rules.FAILED)
    assert not rules.can_transition(rules.FAILED, rules.SUCCEEDED)


@given(st.text(min_size=1, max_size=100))
def test_message_ids_are_stable_and_distinct(event_id: str) -> None:
    assert rules.message_id(event_id) == rules.message_id(event_id)
    assert rules.message_id(event_id) != rules.message_id(event_id + "x")
    assert rules.message_id(event_id).startswith("msg_")


def test_the_body_is_the_standard_payload_shape() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert rules.body("invoice.paid", at, {"invoice_id": "i1"}) == (
        '{"data":{"invoice_id":"i1"},"timestamp":"2026-03-02T09:00:00+00:00","type":"invoice.paid"}'
    )
    assert base64.b64decode(rules.signature(SECRET, "m", 1, "b").split(",", 1)[1])


def test_only_public_internet_addresses_may_be_called() -> None:
    refused = [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier NAT)
        "169.254.169.254",  # cloud metadata service
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # a cloud's IPv6 metadata service
        "::ffff:127.0.0.1",  # IPv4 inside IPv6
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "fe80::1%eth0",
    ]
    for address in refused:
        assert rules.address_problem(address), address
    for address in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"):
        assert rules.address_problem(address) is None, address
    assert rules.address_problem("not-an-address")
