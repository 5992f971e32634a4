"""Creating what an order delivers: the billing group, its services, SIP credentials, lent phones.

`provision_delivery` is called by the orders area inside its delivery transaction. It is
idempotent per order: a repeated delivery returns what the first call created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules
from voipdesk.subscriptions.listeners import services_changed
from voipdesk.subscriptions.models import (
    BillingGroup,
    PhoneLoan,
    Service,
    ServiceEvent,
    SubscriptionDelivery,
    price_to_units,
)


@dataclass
class SipLineRequest:
    offer_code: str
    number_e164: str
    simultaneous_calls: int
    option_codes: list[str]
    monthly_price_excl_tax: Decimal
    # Monthly price of each option (by code); options without a price here are looked up in the
    # catalogue for the account's country.
    option_prices: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class AliasNumberRequest:
    number_e164: str
    monthly_price_excl_tax: Decimal
    for_line: str | None = None  # ordered for this SIP line: redirects to it by default


@dataclass
class FaxLineRequest:
    number_e164: str
    monthly_price_excl_tax: Decimal


@dataclass
class PhoneLoanRequest:
    hardware_code: str
    deposit: Decimal
    for_line_number: str | None


@dataclass
class DeliveryRequest:
    account_id: str
    order_id: str
    billing_group_id: str | None
    sip_lines: list[SipLineRequest]
    alias_numbers: list[AliasNumberRequest]
    alias_pool: bool
    fax_lines: list[FaxLineRequest]
    phone_loans: list[PhoneLoanRequest]


@dataclass
class SipCredential:
    """The SIP username of a delivered line. It has no password yet: the customer makes one on
    the line page or through `POST .../lines/{number}/sip-password`, which shows it once and
    keeps only its HA1 (a password sent by e-mail would be kept with the service e-mails)."""

    number_e164: str
    sip_username: str


@dataclass
class DeliveryResult:
    billing_group_id: str
    sip_credentials: list[SipCredential]


def sip_username_for(number_e164: str) -> str:
    # The number without "+" is what phones use as the SIP user; unique because numbers are.
    return number_e164.lstrip("+")


def line_kind_of(offer_code: str) -> str:
    from voipdesk.catalogue import rules as catalogue_rules

    return rules.KIND_SIP_TRUNK if offer_code == catalogue_rules.SIP_TRUNK else rules.KIND_SIP_LINE


def _result_of(session: Session, order_id: str, group_id: str) -> DeliveryResult:
    lines = session.scalars(
        select(Service)
        .where(
            Service.created_order_id == order_id,
            Service.kind.in_(rules.LINE_KINDS),
        )
        .order_by(Service.created_at, Service.number_e164)
    ).all()
    return DeliveryResult(
        billing_group_id=group_id,
        sip_credentials=[
            SipCredential(line.number_e164 or "", line.sip_username or "") for line in lines
        ],
    )


def _option_price(session: Session, option_code: str, country: str, on) -> Decimal:
    try:
        from voipdesk.catalogue.queries import prices_on

        return prices_on(session, option_code, country, on).get("monthly", Decimal("0"))
    except Exception:  # an option without a catalogue price is free rather than undeliverable
        return Decimal("0")


def provision_delivery(
    session: Session, platform: Platform, request: DeliveryRequest
) -> DeliveryResult:
    from voipdesk.accounts.models import Account

    done = session.get(SubscriptionDelivery, request.order_id)
    if done is not None:
        return _result_of(session, request.order_id, done.billing_group_id)
    account = session.get(Account, request.account_id)
    if account is None:
        raise LookupError(f"no account {request.account_id}")
    now = platform.now()
    today = platform.today()
    expiry = rules.end_of_month(today)
    actor = f"order:{request.order_id}"

    group: BillingGroup | None = None
    if request.billing_group_id:
        group = session.get(BillingGroup, request.billing_group_id)
        if group is not None and group.account_id != account.id:
            group = None
    if group is None:
        group = BillingGroup(
            id=new_id(),
            account_id=account.id,
            name="",
            admin_account_id=account.id,
            tech_account_id=account.id,
            billing_account_id=account.id,
            tax_country=account.country,
            state="active",
            created_at=now,
        )
        session.add(group)
        session.flush()
        group.name = f"{account.handle}-{group.id[:6]}"
        session.add(
            ServiceEvent(billing_group_id=group.id, at=now, actor=actor, what="group created")
        )

    created: list[str] = []

    def add_service(**values: object) -> Service:
        service = Service(
            id=new_id(),
            billing_group_id=group.id,
            account_id=group.billing_account_id,
            tax_country=group.tax_country,
            renewal_mode=rules.AUTOMATIC,
            state=rules.ACTIVE,
            expiry_on=expiry,
            created_order_id=request.order_id,
            created_at=now,
            **values,
        )
        session.add(service)
        created.append(service.id)
        session.add(
            ServiceEvent(
                billing_group_id=group.id,
                service_id=service.id,
                at=now,
                actor=actor,
                what=f"{service.kind} {service.number_e164 or service.offer_code} created",
            )
        )
        return service

    credentials: list[SipCredential] = []
    lines_by_number: dict[str, Service] = {}
    for line in request.sip_lines:
        username = sip_username_for(line.number_e164)
        service = add_service(
            kind=line_kind_of(line.offer_code),
            number_e164=line.number_e164,
            offer_code=line.offer_code,
            simultaneous_calls=max(1, int(line.simultaneous_calls)),
            outgoing_calls=True,
            monthly_price_e4=price_to_units(line.monthly_price_excl_tax),
            sip_username=username,
            sip_ha1=None,  # no password until the customer makes one (shown to them once)
        )
        lines_by_number[line.number_e164] = service
        credentials.append(SipCredential(line.number_e164, service.sip_username or ""))
        for option_code in line.option_codes:
            price = line.option_prices.get(option_code)
            if price is None:
                price = _option_price(session, option_code, group.tax_country, today)
            add_service(
                kind=rules.KIND_OPTION,
                number_e164=line.number_e164,
                offer_code=option_code,
                parent_service_id=service.id,
                monthly_price_e4=price_to_units(price),
            )
    pool_id = new_id() if request.alias_pool and request.alias_numbers else None
    for alias in request.alias_numbers:
        add_service(
            kind=rules.KIND_ALIAS_NUMBER,
            number_e164=alias.number_e164,
            offer_code="alias-number",
            pool_id=pool_id,
            outgoing_calls=False,
            monthly_price_e4=price_to_units(alias.monthly_price_excl_tax),
        )
    for fax in request.fax_lines:
        add_service(
            kind=rules.KIND_FAX_LINE,
            number_e164=fax.number_e164,
            offer_code="fax-line",
            monthly_price_e4=price_to_units(fax.monthly_price_excl_tax),
        )
    for loan in request.phone_loans:
        target = lines_by_number.get(loan.for_line_number or "")
        if target is None and loan.for_line_number:
            target = session.scalar(
                select(Service).where(
                    Service.billing_group_id == group.id,
                    Service.number_e164 == loan.for_line_number,
                    Service.kind.in_(rules.LINE_KINDS),
                )
            )
        session.add(
            PhoneLoan(
                id=new_id(),
                account_id=account.id,
                billing_group_id=group.id,
                service_id=target.id if target is not None else None,
                order_id=request.order_id,
                hardware_code=loan.hardware_code,
                deposit=loan.deposit,
                state=rules.LOAN_LENT,
                lent_at=now,
            )
        )
    session.add(
        SubscriptionDelivery(order_id=request.order_id, billing_group_id=group.id, created_at=now)
    )
    session.flush()
    services_changed(session, platform, created)
    return DeliveryResult(billing_group_id=group.id, sip_credentials=credentials)
