"""Demo data: the operator's catalogue, a staff login, customers of each type and country, and one
customer whose services are delivered (built through the platform's own actions).

Loading twice changes nothing: an e-mail already present is skipped, and each step of the delivered
customer's story is done only if it is not done yet.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from voipdesk.accounts.models import Account
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.orders import rules as order_rules
from voipdesk.orders.actions import Cart, CartLine, create_order, pay_order
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments.services import TEST_CARD_SUCCEEDS, CardInput, PaymentRequest
from voipdesk.subscriptions import actions as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions.models import PendingChange, Service
from voipdesk.validation import actions as validation
from voipdesk.validation import rules as validation_rules

DEMO_PASSWORD = "Demo-Voipdesk-2026!"

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {
        "kind": "individual",
        "country": "FR",
        "language": "fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "address_line1": "12 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
        "email": "camille@demo.voipdesk.example",
        "mobile": "+33612345678",
    },
    {
        "kind": "company",
        "country": "FR",
        "language": "fr",
        "first_name": "Hugo",
        "last_name": "Bernard",
        "organisation_name": "Bernard Plomberie SARL",
        "registration_number": "732829320",
        "address_line1": "3 avenue Foch",
        "postal_code": "75016",
        "city": "Paris",
        "email": "hugo@demo.voipdesk.example",
        "mobile": "+33612345679",
    },
    {
        "kind": "company",
        "country": "BE",
        "language": "fr",
        "first_name": "Lucie",
        "last_name": "Peeters",
        "organisation_name": "Peeters & Fils SRL",
        "registration_number": "0403170701",
        "address_line1": "Rue Neuve 25",
        "postal_code": "1000",
        "city": "Bruxelles",
        "email": "lucie@demo.voipdesk.example",
        "mobile": "+32470123456",
    },
    {
        "kind": "association",
        "country": "CH",
        "language": "fr",
        "first_name": "Marc",
        "last_name": "Favre",
        "organisation_name": "Chœur de Lausanne",
        "registration_number": "CHE-109.322.551",
        "address_line1": "Avenue de la Gare 8",
        "postal_code": "1003",
        "city": "Lausanne",
        "email": "marc@demo.voipdesk.example",
        "mobile": "+41791234567",
    },
    {
        "kind": "individual",
        "country": "CA-QC",
        "language": "en",
        "first_name": "Olivia",
        "last_name": "Tremblay",
        "address_line1": "1200 rue Sherbrooke O",
        "postal_code": "H3A 1H6",
        "city": "Montréal",
        "email": "olivia@demo.voipdesk.example",
        "mobile": "+15148721111",
    },
]

STAFF = {"email": "staff@demo.voipdesk.example", "first_name": "Sam", "last_name": "Operator"}

# A French company whose services are delivered, so that every page has something to show.
DELIVERED_CUSTOMER: dict[str, Any] = {
    "kind": "company",
    "country": "FR",
    "language": "fr",
    "first_name": "Léa",
    "last_name": "Rousseau",
    "organisation_name": "Rousseau Conseil SAS",
    "registration_number": "841726508",
    "address_line1": "8 quai Saint-Vincent",
    "postal_code": "69001",
    "city": "Lyon",
    "email": "lea@demo.voipdesk.example",
    "mobile": "+33612345680",
}
# A customer whose renewal invoice went unpaid: its saved card is declined at the renewal, it gets
# the e-mail with the link to pay and the three reminders, then the suspension notice, and its line
# is suspended; it pays the invoice by card (its page or the API) and the line is reactivated.
UNPAID_CUSTOMER: dict[str, Any] = {
    "kind": "individual",
    "country": "FR",
    "language": "en",
    "first_name": "Inès",
    "last_name": "Moreau",
    "address_line1": "3 rue des Lilas",
    "postal_code": "75011",
    "city": "Paris",
    "email": "ines.unpaid@demo.voipdesk.example",
    "mobile": "+33612345689",
}
DELIVERED_AREA = "+334"  # Sud-Est (04), where Lyon is
ALIAS_POOL_SIZE = 10
ENTREPRISE_CALLS = 4  # simultaneous calls of the Entreprise line as ordered...
DECREASED_CALLS = 2  # ...and from the next renewal on: the pending change


def _seed_areas(platform: Platform, customers: list[Account]) -> None:
    """Each area may seed its own demo data (catalogue first: orders need it)."""
    for module_name, function_name in (
        ("voipdesk.catalogue.demo", "seed_catalogue"),
        ("voipdesk.validation.demo", "seed"),
        ("voipdesk.subscriptions.demo", "seed"),
        ("voipdesk.webhooks.demo", "seed"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        seed = getattr(module, function_name, None)
        if seed is None:
            continue
        with platform.transaction() as session:
            if function_name == "seed_catalogue":
                seed(session, platform)
            else:
                seed(session, platform, customers)


def load_demo(platform: Platform) -> list[tuple[str, str, str]]:
    """Loads the demo; returns (role, login, password) for the people who can log in."""
    from voipdesk.accounts.actions import SignUpData, create_staff, sign_up

    with platform.session() as session:
        existing = set(session.scalars(select(Account.email)))
    first_load = STAFF["email"] not in existing
    if first_load:
        create_staff(platform, password=DEMO_PASSWORD, **STAFF)
    customers: list[Account] = []
    for data in DEMO_CUSTOMERS:
        if data["email"] in existing:
            continue
        customer = sign_up(platform, SignUpData(password=DEMO_PASSWORD, **data))
        _email_confirmed(platform, customer)
        customers.append(customer)
    if first_load:
        _seed_areas(platform, customers)
    seed_delivered_customer(platform)
    seed_unpaid_customer(platform)
    logins = [("Staff (back office)", STAFF["email"], DEMO_PASSWORD)]
    with platform.session() as session:
        for data in [*DEMO_CUSTOMERS, DELIVERED_CUSTOMER, UNPAID_CUSTOMER]:
            account = session.scalar(select(Account).where(Account.email == data["email"]))
            if account is not None:
                label = f"{data['kind']}, {data['country']}, {data['language']}"
                if data is DELIVERED_CUSTOMER:
                    label += ", delivered"
                if data is UNPAID_CUSTOMER:
                    label += ", renewal invoice unpaid: pay it to reactivate the line"
                logins.append(
                    (f"Customer ({label})", f"{account.email} / {account.handle}", DEMO_PASSWORD)
                )
    return logins


# =================================================================================================
# The delivered customer
# =================================================================================================
def delivered_cart() -> Cart:
    """Two SIP lines (Entreprise with 4 simultaneous calls and a Plug & Phone, Découverte), a pool
    of alias numbers and a fax line, all numbered in the customer's area."""
    return Cart(
        lines=[
            CartLine(
                offer=catalogue_rules.SIP_ENTREPRISE,
                area=DELIVERED_AREA,
                simultaneous_calls=ENTREPRISE_CALLS,
                phone=catalogue_rules.PHONE_PNP_PRO,  # a Plug & Phone lent for the line
            ),
            CartLine(offer=catalogue_rules.SIP_DECOUVERTE, area=DELIVERED_AREA),
            CartLine(
                offer=catalogue_rules.ALIAS_NUMBER, quantity=ALIAS_POOL_SIZE, area=DELIVERED_AREA
            ),
            CartLine(offer=catalogue_rules.FAX_LINE, area=DELIVERED_AREA),
        ]
    )


def seed_delivered_customer(platform: Platform) -> None:
    """The delivered customer goes the way any new customer goes: signs up, orders, pays by card
    (sandbox provider); the first VoIP order waits for the procedure, staff record its documents
    as valid and approve; the order is delivered and invoiced (the outbox is drained here, as a
    worker would); then the customer asks for fewer simultaneous calls on the Entreprise line from
    the next renewal. Each step runs only if it is not done yet, so loading twice adds nothing."""
    account_id = _signed_up(platform, DELIVERED_CUSTOMER)
    order_id = _paid_order(platform, account_id)
    drain(platform)  # the procedure's e-mail and PDF, the order e-mails, the invoice
    _validated(platform, account_id)
    drain(platform)  # delivery: services, SIP credentials, the delivery e-mail
    _calls_decrease_requested(platform, account_id, order_id)
    drain(platform)
    _voicemail_message_left(platform, order_id)
    _numbers_configured(platform, account_id, order_id)
    _around_the_line(platform, account_id, order_id)


def seed_unpaid_customer(platform: Platform) -> None:
    """The unpaid customer's story, played on a clock set back two months (then given back),
    the way it happens to any customer: sign-up, an order paid by card, the procedure approved,
    delivery; a default card that the bank declines; the renewal of last month's 1st, its failed
    card charge and its e-mail; the dunning on each of its days (three reminders, the notice,
    the suspension). Played once: a customer that exists already is left as it is."""
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from dateutil.relativedelta import relativedelta

    from voipdesk.billing.actions import collect_pending_cards
    from voipdesk.billing.dunning import run_dunning
    from voipdesk.billing.renewal import run_renewal
    from voipdesk.billing.rules import DUNNING_STEPS
    from voipdesk.core.clock import MovableClock
    from voipdesk.payments.services import TEST_CARD_DECLINED, add_card

    with platform.session() as session:
        if session.scalar(select(Account.id).where(Account.email == UNPAID_CUSTOMER["email"])):
            return
    zone = ZoneInfo(platform.settings.timezone)
    first_of_month = platform.today().replace(day=1)
    renewal_day = first_of_month - relativedelta(months=1)
    ordered_on = first_of_month - relativedelta(months=2)

    def at(day: Any, hour: int) -> datetime:
        return datetime.combine(day, time(hour), zone).astimezone(UTC)

    real_clock = platform.clock
    clock = MovableClock(at(ordered_on, 10))
    platform.clock = clock
    try:
        account_id = _signed_up(platform, UNPAID_CUSTOMER)
        with platform.transaction() as session:
            account = session.get(Account, account_id)
            assert account is not None
            order = create_order(
                session,
                platform,
                account,
                Cart(
                    lines=[
                        CartLine(
                            offer=catalogue_rules.SIP_DECOUVERTE,
                            area="+331",
                            phone=catalogue_rules.PHONE_PNP_ESSENTIAL,
                        )
                    ]
                ),
            )
            order_id = order.id
        card = CardInput(TEST_CARD_SUCCEEDS, 12, ordered_on.year + 3, "123")
        with platform.transaction() as session:
            account = session.get(Account, account_id)
            assert account is not None
            pay_order(session, platform, account, order_id, PaymentRequest(card=card))
        drain(platform)
        _validated(platform, account_id)
        drain(platform)
        for day, hour, step in _PHONE_SENT_BACK:
            clock.move_to(at(ordered_on + timedelta(days=day), hour))
            step(platform, account_id, order_id)
            drain(platform)
        declined = CardInput(TEST_CARD_DECLINED, 12, ordered_on.year + 3, "123")
        with platform.transaction() as session:
            account = session.get(Account, account_id)
            assert account is not None
            add_card(session, platform, account, declined, make_default=True)
        clock.move_to(at(renewal_day, 2))
        run_renewal(platform, renewal_day)
        clock.move_to(at(renewal_day, 3))
        collect_pending_cards(platform)
        drain(platform)
        for dunning_step in DUNNING_STEPS:
            clock.move_to(at(renewal_day + timedelta(days=dunning_step.day), 9))
            run_dunning(platform)
            drain(platform)
    finally:
        platform.clock = real_clock


def _signed_up(platform: Platform, data: dict[str, Any]) -> str:
    from voipdesk.accounts.actions import SignUpData, sign_up

    with platform.session() as session:
        account_id = session.scalar(select(Account.id).where(Account.email == data["email"]))
    if account_id is None:
        account = sign_up(platform, SignUpData(password=DEMO_PASSWORD, **data))
        _email_confirmed(platform, account)
        account_id = account.id
    return account_id


def _email_confirmed(platform: Platform, account: Account) -> None:
    """The demo's customers have opened the link of their welcome e-mail."""
    from voipdesk.accounts.actions.verification import verification_token, verify_email

    verify_email(platform, account.id, verification_token(platform, account.id, account.email))


def _paid_order(platform: Platform, account_id: str) -> str:
    """The customer's first order that still counts (not cancelled nor expired), paid."""
    with platform.transaction() as session:
        account = session.get(Account, account_id)
        assert account is not None
        order = session.scalar(
            select(PurchaseOrder)
            .where(
                PurchaseOrder.account_id == account_id,
                PurchaseOrder.state.not_in((order_rules.EXPIRED, order_rules.CANCELLED)),
                ~(
                    (PurchaseOrder.state == order_rules.NOT_PAID)
                    & (PurchaseOrder.expires_at <= platform.now())
                ),
            )
            .order_by(PurchaseOrder.created_at, PurchaseOrder.id)
            .limit(1)
        )
        if order is None:
            order = create_order(session, platform, account, delivered_cart())
        order_id, state = order.id, order.state
    if state == order_rules.NOT_PAID:
        card = CardInput(TEST_CARD_SUCCEEDS, 12, platform.today().year + 3, "123")
        with platform.transaction() as session:
            account = session.get(Account, account_id)
            assert account is not None
            pay_order(
                session, platform, account, order_id, PaymentRequest(card=card, save_card=True)
            )
    return order_id


# The delivered customer's bank account, for the SEPA mandate of its procedure (a valid example).
DELIVERED_CUSTOMER_BANK = ("FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP")


def _validated(platform: Platform, account_id: str) -> None:
    """Staff record the procedure's documents as valid and approve it (the back office's steps)."""
    with platform.transaction() as session:
        if validation.is_validated(session, account_id):
            return
        procedure = validation.open_procedure_of(session, account_id)
        staff = session.scalar(select(Account).where(Account.email == STAFF["email"]))
        if procedure is None or staff is None or procedure.status == validation_rules.TODO:
            return  # no procedure, or its e-mail is not sent yet: nothing to review
        if not validation_rules.mandate_complete(procedure.holder_name, procedure.iban):
            # The customer gives the bank account of the SEPA mandate (the order was paid by
            # card): staff cannot approve a procedure whose mandate has no debtor or IBAN.
            customer = session.get(Account, account_id)
            assert customer is not None
            iban, bic = DELIVERED_CUSTOMER_BANK
            procedure, _ = validation.request_procedure(
                session,
                platform,
                customer,
                validation.ProcedureForm(
                    holder_name=customer.display_name,
                    holder_address=f"{customer.address_line1}, {customer.postal_code} "
                    f"{customer.city}",
                    iban=iban,
                    bic=bic,
                ),
            )
        for document in validation.missing_documents(procedure):
            validation.record_document(
                session, platform, staff, procedure.id, document.code, validation_rules.VALID
            )
        validation.approve(session, platform, staff, procedure.id)


def _calls_decrease_requested(platform: Platform, account_id: str, order_id: str) -> None:
    """The customer lowers the Entreprise line's simultaneous calls from the next renewal, once
    (a change the customer cancelled in the demo is not asked again)."""
    with platform.transaction() as session:
        order = session.get(PurchaseOrder, order_id)
        if order is None or order.state != order_rules.DELIVERED or not order.billing_group_id:
            return
        group_id = order.billing_group_id
        asked = session.scalar(
            select(PendingChange.id).where(PendingChange.billing_group_id == group_id).limit(1)
        )
        if asked is not None:
            return
        line = next(
            (
                service
                for service in subscriptions.group_services(
                    session, group_id, subscription_rules.LINE_KINDS
                )
                if service.offer_code == catalogue_rules.SIP_ENTREPRISE
            ),
            None,
        )
        if line is None or line.number_e164 is None or line.simultaneous_calls <= DECREASED_CALLS:
            return
        subscriptions.set_simultaneous_calls(
            session, platform, account_id, group_id, line.number_e164, DECREASED_CALLS, False
        )


def _demo_message_audio() -> bytes:
    """A spoken message (espeak-ng and sox when installed), else a short tone: 8 kHz mono WAV."""
    import io
    import math
    import shutil
    import struct
    import subprocess
    import tempfile
    import wave

    if shutil.which("espeak-ng") and shutil.which("sox"):
        from voipdesk.telephony import audio

        with tempfile.TemporaryDirectory() as folder:
            spoken = f"{folder}/message.wav"
            subprocess.run(
                ["espeak-ng", "-v", "fr", "-w", spoken, DEMO_VOICEMAIL_TEXT],
                check=True,
                capture_output=True,
            )
            with open(spoken, "rb") as file:
                return audio.to_telephony_wav(file.read(), "wav")[0]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        frames = (int(8000 * 0.3 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(16000))
        writer.writeframes(b"".join(struct.pack("<h", frame) for frame in frames))
    return buffer.getvalue()


DEMO_VOICEMAIL_TEXT = (
    "Bonjour, c'est Paul Martin. Pouvez-vous me rappeler au sujet du devis ? Merci."
)
DEMO_CALLER = "+33612345678"


def _voicemail_message_left(platform: Platform, order_id: str) -> None:
    """A caller left a message on the Entreprise line's voicemail (once), so that the voicemail
    tab has something to play."""
    from voipdesk.telephony.actions.voicemail import store_message
    from voipdesk.telephony.models import VoicemailMessage

    with platform.transaction() as session:
        order = session.get(PurchaseOrder, order_id)
        if order is None or order.state != order_rules.DELIVERED or not order.billing_group_id:
            return
        line = next(
            (
                service
                for service in subscriptions.group_services(
                    session, order.billing_group_id, subscription_rules.LINE_KINDS
                )
                if service.offer_code == catalogue_rules.SIP_ENTREPRISE
            ),
            None,
        )
        if line is None:
            return
        if session.scalar(
            select(VoicemailMessage.id).where(VoicemailMessage.service_id == line.id).limit(1)
        ):
            return
        store_message(session, platform, line.id, DEMO_CALLER, _demo_message_audio())


def _numbers_configured(platform: Platform, account_id: str, order_id: str) -> None:
    """Two alias numbers configured (a queue of both lines, an IVR with a spoken greeting) and
    abbreviated numbers, through the telephony actions (once)."""
    from voipdesk.telephony.aliases.demo import seed_group

    with platform.session() as session:
        order = session.get(PurchaseOrder, order_id)
        group_id = order.billing_group_id if order is not None else None
    if group_id:
        seed_group(platform, account_id, group_id)
        from voipdesk.consumption.demo import seed_group_calls

        seed_group_calls(platform, group_id)


def _return_requested(platform: Platform, account_id: str, order_id: str) -> None:
    from voipdesk.telephony.phones import actions as phones

    with platform.transaction() as session:
        order = session.get(PurchaseOrder, order_id)
        assert order is not None and order.billing_group_id is not None
        group_id = order.billing_group_id
        [phone] = phones.group_phones(session, account_id, group_id)
        phones.request_return(
            session, platform, account_id, group_id, phone.loan_id, f"account:{account_id}"
        )


def _return_received(platform: Platform, account_id: str, order_id: str) -> None:
    from voipdesk.telephony.phones import actions as phones

    with platform.transaction() as session:
        order = session.get(PurchaseOrder, order_id)
        assert order is not None and order.billing_group_id is not None
        [phone] = phones.group_phones(session, account_id, order.billing_group_id)
        staff_id = session.scalar(select(Account.id).where(Account.email == STAFF["email"]))
        assert staff_id is not None
        phones.receive(session, platform, phone.loan_id, staff_id)


def _due_deposits_refunded(platform: Platform, _account_id: str, _order_id: str) -> None:
    subscriptions.refund_due_deposits(platform)


# The unpaid customer did not need the Plug & Phone lent with her line: she sends it back two days
# after the order, staff receive it three days later, and its deposit goes back through the
# provider once its day comes (the periodic job, then the outbox): (day, hour, step).
_PHONE_SENT_BACK = (
    (2, 11, _return_requested),
    (5, 10, _return_received),
    (16, 8, _due_deposits_refunded),
)


# The delivered customer's Plug & Phone (its MAC, as printed under it) and the numbers it brings
# from its former operator.
DEMO_PHONE_MAC = "00:15:65:12:34:56"
DEMO_PORTED = ["+33478123401", "+33478123402"]


def _around_the_line(platform: Platform, account_id: str, order_id: str) -> None:
    """The Plug & Phone attached to the Entreprise line by its MAC, a registration of it as the
    switch reports one, and a portability that staff took to a failure (SMS and e-mail recorded)
    and then resumed: in progress, sent to the operator (once)."""
    from voipdesk.telephony.models import Registration
    from voipdesk.telephony.phones import actions as phones
    from voipdesk.telephony.portability import actions as portability
    from voipdesk.telephony.portability import rules as portability_rules
    from voipdesk.telephony.portability.models import Portability

    with platform.session() as session:
        order = session.get(PurchaseOrder, order_id)
        group_id = order.billing_group_id if order is not None else None
        staff_id = session.scalar(select(Account.id).where(Account.email == STAFF["email"]))
        done = session.scalar(select(Portability.id).where(Portability.account_id == account_id))
        line = session.scalar(
            select(Service.number_e164).where(
                Service.account_id == account_id,
                Service.offer_code == catalogue_rules.SIP_ENTREPRISE,
            )
        )
    if not group_id or not line or done is not None:
        return
    customer = f"account:{account_id}"
    staff = f"staff:{staff_id}"
    with platform.transaction() as session:
        phones.attach(session, platform, account_id, group_id, line, DEMO_PHONE_MAC, customer)
        now = platform.now()
        session.add(
            Registration(
                number=line,
                sip_username=line.lstrip("+"),
                registered_at=now,
                expires_at=now + timedelta(hours=1),
                ip="203.0.113.24",
                port=5060,
                transport="udp",
                user_agent=f"Yealink SIP-T46U 66.86.0.15 {DEMO_PHONE_MAC}",
                contact=f"sip:{line.lstrip('+')}@203.0.113.24:5060",
            )
        )
    prefix = "02E004217"  # the RIO's operator code, contract type and reference
    with platform.transaction() as session:
        made = portability.request_portability(
            session,
            platform,
            account_id,
            group_id,
            portability.PortabilityRequest(
                country="FR",
                numbers=DEMO_PORTED,
                current_operator="Orange",
                holder_kind=portability_rules.COMPANY,
                holder_name=str(DELIVERED_CUSTOMER["organisation_name"]),
                rio=prefix
                + portability_rules.rio_key(prefix, portability_rules.national_of(DEMO_PORTED[0])),
                registration_number=str(DELIVERED_CUSTOMER["registration_number"]),
                destination_line=line,
            ),
            customer,
        )
    steps = ["received", "validated", "sent_to_operator"]
    for step in steps:
        with platform.transaction() as session:
            portability.advance(session, platform, made.id, step, staff)
    with platform.transaction() as session:
        portability.fail(
            session,
            platform,
            made.id,
            "holder_mismatch",
            "L'opérateur connaît la ligne sous l'ancien nom de la société.",  # staff write French
            staff,
        )
    for step in steps:
        with platform.transaction() as session:
            portability.advance(session, platform, made.id, step, staff)
    drain(platform)
