"""The routing record follows what subscriptions and billing do to a line, in their transaction:
a manual renewal not paid suspends it (calls refused), the grace period deletes it; a line that
ends never overwrites the record of the number's next holder; the version only moves on a change."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal
from voipdesk.subscriptions import actions
from voipdesk.subscriptions.models import Service
from voipdesk.telephony.actions import routing
from voipdesk.telephony.queries import routing_record_for


def _record(platform, key):
    with platform.session() as session:
        return routing_record_for(session, key)


def test_suspension_and_deletion_reach_the_record(platform, clock):
    account = make_account(platform)
    number = deliver(platform, account.id, lines=[("sip-decouverte", 1)]).sip_credentials[0]
    with platform.session() as session:
        service_id = session.scalars(select(Service.id)).one()
    with platform.transaction() as session:
        actions.set_renewal_mode(session, platform, account.id, service_id, "manual")
    first = _record(platform, number.sip_username)
    assert first.record["accepts_calls"] is True and first.record["limits"]["outgoing_calls"]
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    suspended = _record(platform, number.sip_username)
    assert suspended.record["state"] == "suspended" and suspended.record["accepts_calls"] is False
    assert suspended.record["limits"]["outgoing_calls"] is False
    assert suspended.version == first.version + 1
    run_renewal(platform, date(2026, 5, 1))
    deleted = _record(platform, number.number_e164)
    assert deleted.record["state"] == "deleted"
    # Deleted: its SIP username no longer finds a record to register with.
    assert _record(platform, number.sip_username) is None


def test_version_moves_only_when_the_record_changes(platform):
    account = make_account(platform)
    number = deliver(platform, account.id, lines=[("sip-entreprise", 2)]).sip_credentials[0]
    before = _record(platform, number.number_e164)
    with platform.transaction() as session:
        service_id = session.scalar(select(Service.id).where(Service.kind == "sip_line"))
        assert routing.rebuild(session, platform, [service_id]) == 0
    assert _record(platform, number.number_e164).version == before.version
