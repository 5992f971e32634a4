from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from tests.accounts.factories import make_account
from voipdesk.subscriptions.models import BillingGroup, PhoneLoan, Service
from voipdesk.subscriptions.provisioning import (
    AliasNumberRequest,
    DeliveryRequest,
    PhoneLoanRequest,
    SipLineRequest,
    provision_delivery,
)


def test_delivery_creates_group_services_credentials_and_is_idempotent(platform):
    account = make_account(platform)
    request = DeliveryRequest(
        account_id=account.id,
        order_id="order-1",
        billing_group_id=None,
        sip_lines=[
            SipLineRequest("sip-entreprise", "+33198765432", 3, [], Decimal("5.00")),
        ],
        alias_numbers=[AliasNumberRequest("+33198765433", Decimal("1.00"))],
        alias_pool=False,
        fax_lines=[],
        phone_loans=[PhoneLoanRequest("phone-pnp-pro", Decimal("60.00"), "+33198765432")],
    )
    with platform.transaction() as session:
        first = provision_delivery(session, platform, request)
    with platform.transaction() as session:
        second = provision_delivery(session, platform, request)
    assert second.billing_group_id == first.billing_group_id
    assert len(first.sip_credentials) == 1
    credential = first.sip_credentials[0]
    assert (credential.number_e164, credential.sip_username) == ("+33198765432", "33198765432")
    assert second.sip_credentials == first.sip_credentials
    # No password exists until the customer makes one on the line page (shown to them once).
    with platform.session() as session:
        line = session.scalar(select(Service).where(Service.number_e164 == "+33198765432"))
        assert line.sip_username == "33198765432" and line.sip_ha1 is None
    with platform.session() as session:
        group = session.get(BillingGroup, first.billing_group_id)
        assert group.account_id == account.id
        assert (
            group.billing_account_id
            == group.admin_account_id
            == group.tech_account_id
            == account.id
        )
        services = session.scalars(select(Service)).all()
        assert len(services) == 2
        line = next(s for s in services if s.kind == "sip_line")
        assert line.renewal_mode == "automatic" and line.state == "active"
        assert line.expiry_on == date(2026, 3, 31)  # the clock starts 2026-03-02
        assert line.monthly_price_excl_tax == Decimal("5.0000")
        loan = session.scalar(select(PhoneLoan))
        assert loan.service_id == line.id and loan.deposit == Decimal("60.00")
        assert session.scalar(select(func.count()).select_from(BillingGroup)) == 1
