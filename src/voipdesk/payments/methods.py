"""Payment methods of an account: cards (tokenised by the provider), SEPA direct debit (IBAN/BIC
checks and the mandate), bank transfer, the default method and removal."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.errors import PaymentMethodNotAllowed
from voipdesk.catalogue.queries import allowed_payment_methods
from voipdesk.core.db import new_id
from voipdesk.core.errors import InvalidInput
from voipdesk.payments.errors import (
    DefaultPaymentMethodInUse,
    IbanNotSepa,
    InvalidBic,
    InvalidIban,
    MandateNotAccepted,
    PaymentMethodNotFound,
)
from voipdesk.payments.models import PaymentMethod
from voipdesk.payments.provider import get_provider

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform


def list_payment_methods(session: Session, account_id: str) -> list[PaymentMethod]:
    return list(
        session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.account_id == account_id, PaymentMethod.removed_at.is_(None))
            .order_by(PaymentMethod.created_at, PaymentMethod.id)
        ).all()
    )


def get_payment_method(session: Session, account_id: str, method_id: str) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.account_id != account_id or method.removed_at is not None:
        raise PaymentMethodNotFound()
    return method


def default_payment_method(session: Session, account_id: str) -> PaymentMethod | None:
    return session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.account_id == account_id,
            PaymentMethod.removed_at.is_(None),
            PaymentMethod.is_default.is_(True),
        )
    )


def _check_method_allowed(session: Session, account: Account, method_type: str) -> None:
    if method_type not in allowed_payment_methods(session, account.country, account.kind):
        raise PaymentMethodNotAllowed(
            method=method_type,
            country=account.country,
            kind=account.kind,
            fields={"type": "This payment method is not offered to your account."},
        )


def _store_method(
    session: Session,
    platform: Platform,
    account: Account,
    method: PaymentMethod,
    make_default: bool,
) -> PaymentMethod:
    method.account_id = account.id
    method.created_at = platform.now()
    current_default = default_payment_method(session, account.id)
    method.is_default = make_default or current_default is None  # the first one is the default
    if method.is_default and current_default is not None:
        current_default.is_default = False
    session.add(method)
    session.flush()
    return method


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


def add_card(
    session: Session,
    platform: Platform,
    account: Account,
    card: CardInput,
    make_default: bool = False,
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_CARD)
    provider = get_provider(platform)
    token = provider.tokenize_card(
        session,
        number=card.number,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cvc=card.cvc,
        today=platform.now(),
    )
    method = PaymentMethod(
        id=new_id(),
        method_type=catalogue_rules.PAYMENT_CARD,
        provider=provider.name,
        provider_token=token.token,
        card_brand=token.brand,
        card_last4=token.last4,
        card_exp_month=token.exp_month,
        card_exp_year=token.exp_year,
        label=f"{token.brand.upper()} •••• {token.last4}",
    )
    return _store_method(session, platform, account, method, make_default)


@dataclass(frozen=True)
class SepaInput:
    iban: str
    holder_name: str
    holder_address: str
    accept_mandate: bool
    bic: str | None = None


def validate_iban_bic(iban_text: str, bic_text: str | None) -> tuple[str, str | None]:
    """The IBAN (compact) and its BIC, checked with schwifty; the IBAN must be of a SEPA country."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        iban = IBAN(iban_text)
    except SchwiftyException:
        raise InvalidIban(fields={"iban": "Not a valid IBAN."}) from None
    if not catalogue_rules.is_sepa_iban_country(iban.country_code):
        raise IbanNotSepa(
            country=iban.country_code, fields={"iban": "Give an IBAN of a SEPA country."}
        )
    bic_value: str | None = None
    if bic_text:
        try:
            bic = BIC(bic_text)
        except SchwiftyException:
            raise InvalidBic(fields={"bic": "Not a valid BIC."}) from None
        derived = iban.bic
        if derived is not None and str(derived)[:8] != str(bic)[:8]:
            raise InvalidBic(fields={"bic": "This BIC is not the IBAN's bank."})
        bic_value = str(bic)
    elif iban.bic is not None:
        bic_value = str(iban.bic)
    return iban.compact, bic_value


def add_sepa_debit(
    session: Session,
    platform: Platform,
    account: Account,
    sepa: SepaInput,
    make_default: bool = False,
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_SEPA_DEBIT)
    fields = {}
    if not sepa.holder_name.strip():
        fields["holder_name"] = "The account holder's name is required."
    if not sepa.holder_address.strip():
        fields["holder_address"] = "The account holder's address is required."
    if fields:
        raise InvalidInput(fields=fields)
    if not sepa.accept_mandate:
        raise MandateNotAccepted(fields={"accept_mandate": "Accept the mandate."})
    iban, bic = validate_iban_bic(sepa.iban, sepa.bic)
    prefix = platform.settings.operator_handle_suffix.upper()
    reference = f"{prefix}M-{account.handle.upper()}-{secrets.token_hex(4).upper()}"[:35]
    method = PaymentMethod(
        id=new_id(),
        method_type=catalogue_rules.PAYMENT_SEPA_DEBIT,
        iban=iban,
        bic=bic,
        holder_name=sepa.holder_name.strip(),
        holder_address=sepa.holder_address.strip(),
        mandate_reference=reference,
        mandate_signed_on=platform.today(),
        label=f"IBAN {iban[:4]} •••• {iban[-4:]}",
    )
    return _store_method(session, platform, account, method, make_default)


def adopt_signed_mandate(
    session: Session,
    platform: Platform,
    account: Account,
    *,
    mandate_reference: str,
    iban: str,
    bic: str | None,
    holder_name: str,
    holder_address: str,
    signed_on: date,
    replaces_method_id: str | None = None,
) -> PaymentMethod:
    """The SEPA mandate the customer signed on paper (the VoIP validation procedure) becomes
    the account's direct-debit payment method, with that mandate's unique reference, signature
    date and bank details: a method the procedure was made from takes them over (the signed
    mandate supersedes the one ticked online), else a new method is added. It becomes the
    default unless a card or direct debit already is. Idempotent (same reference: unchanged)."""
    existing = session.scalar(
        select(PaymentMethod).where(PaymentMethod.mandate_reference == mandate_reference)
    )
    if existing is not None:
        return existing
    replaced = (
        session.get(PaymentMethod, replaces_method_id) if replaces_method_id is not None else None
    )
    if (
        replaced is not None
        and replaced.account_id == account.id
        and replaced.removed_at is None
        and replaced.method_type == catalogue_rules.PAYMENT_SEPA_DEBIT
    ):
        method = replaced
    else:
        method = PaymentMethod(id=new_id(), method_type=catalogue_rules.PAYMENT_SEPA_DEBIT)
    method.iban = iban
    method.bic = bic
    method.holder_name = holder_name
    method.holder_address = holder_address
    method.mandate_reference = mandate_reference
    method.mandate_signed_on = signed_on
    method.label = f"IBAN {iban[:4]} •••• {iban[-4:]}"
    if method is replaced:
        session.flush()
        return method
    current = default_payment_method(session, account.id)
    chargeable = current is not None and current.method_type in (
        catalogue_rules.PAYMENT_CARD,
        catalogue_rules.PAYMENT_SEPA_DEBIT,
    )
    return _store_method(session, platform, account, method, make_default=not chargeable)


def add_bank_transfer(
    session: Session, platform: Platform, account: Account, make_default: bool = False
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_BANK_TRANSFER)
    method = PaymentMethod(
        id=new_id(), method_type=catalogue_rules.PAYMENT_BANK_TRANSFER, label="Bank transfer"
    )
    return _store_method(session, platform, account, method, make_default)


def set_default_payment_method(session: Session, account: Account, method_id: str) -> PaymentMethod:
    method = get_payment_method(session, account.id, method_id)
    for other in list_payment_methods(session, account.id):
        other.is_default = other.id == method.id
    session.flush()
    return method


# Areas above payments (subscriptions) say here whether an account still needs its default method.
RemovalGuard = Callable[[Session, str], bool]
_REMOVAL_GUARDS: list[RemovalGuard] = []


def register_removal_guard(guard: RemovalGuard) -> RemovalGuard:
    """Registers `guard(session, account_id) -> bool`: True when something of the account (e.g.
    services on automatic renewal) depends on its default payment method. Idempotent."""
    if guard not in _REMOVAL_GUARDS:
        _REMOVAL_GUARDS.append(guard)
    return guard


def auto_renewal_depends_on_default_method(session: Session, account_id: str) -> bool:
    """Whether something registered by a higher area (services on automatic renewal) needs the
    account's default payment method."""
    return any(guard(session, account_id) for guard in _REMOVAL_GUARDS)


def remove_payment_method(
    session: Session, platform: Platform, account: Account, method_id: str
) -> None:
    method = get_payment_method(session, account.id, method_id)
    if method.is_default and auto_renewal_depends_on_default_method(session, account.id):
        raise DefaultPaymentMethodInUse()
    method.removed_at = platform.now()
    was_default = method.is_default
    method.is_default = False
    method.provider_token = None
    if was_default:
        remaining = [
            other for other in list_payment_methods(session, account.id) if other.id != method.id
        ]
        if remaining:
            remaining[0].is_default = True
    session.flush()
