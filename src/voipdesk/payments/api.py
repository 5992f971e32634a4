"""The payments API: the caller's payment methods (`/me/payment-methods`), the sandbox provider's
signed webhook and its confirmation step (3-D Secure)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.errors import InvalidInput, NotAuthenticated, NotFound
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.payments import methods, settlement
from voipdesk.payments.provider import get_provider, get_sandbox
from voipdesk.payments.schemas import (
    ConfirmIn,
    PaymentMethodIn,
    PaymentMethodOut,
    PaymentMethodPatch,
    card_input,
    payment_method_json,
)

router = APIRouter()


def _owner(session: Any, account: Account) -> Account:
    """The caller's account, loaded in the action's own session."""
    owner = session.get(Account, account.id)
    if owner is None:
        raise NotAuthenticated()
    return owner


# --- Payment methods -----------------------------------------------------------------------------
class PaymentMethodPage(Page[PaymentMethodOut]):
    pass


@router.get(
    "/me/payment-methods",
    response_model=PaymentMethodPage,
    tags=["payment methods"],
    summary="Payment methods, oldest first",
)
def list_payment_methods(
    page: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        shown, next_cursor = paginate(
            methods.list_payment_methods(session, account.id),
            key=lambda method: (method.created_at, method.id),
            page=page,
        )
        return {"items": [payment_method_json(m) for m in shown], "next_cursor": next_cursor}


@router.post(
    "/me/payment-methods",
    status_code=201,
    response_model=PaymentMethodOut,
    tags=["payment methods"],
)
def add_payment_method(
    body: PaymentMethodIn,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        owner = _owner(session, account)
        if body.type == "card":
            card = card_input(body.card)
            if card is None:
                raise InvalidInput(
                    fields={"card": "Give the card's number, expiry and security code."}
                )
            method = methods.add_card(session, platform, owner, card, body.make_default)
        elif body.type == "sepa_debit":
            if not body.iban:
                raise InvalidInput(fields={"iban": "The IBAN is required."})
            method = methods.add_sepa_debit(
                session,
                platform,
                owner,
                methods.SepaInput(
                    iban=body.iban,
                    bic=body.bic,
                    holder_name=body.holder_name or "",
                    holder_address=body.holder_address or "",
                    accept_mandate=body.accept_mandate,
                ),
                body.make_default,
            )
        else:
            method = methods.add_bank_transfer(session, platform, owner, body.make_default)
        return payment_method_json(method)


@router.get(
    "/me/payment-methods/{method_id}", response_model=PaymentMethodOut, tags=["payment methods"]
)
def get_payment_method(
    method_id: str,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        return payment_method_json(methods.get_payment_method(session, account.id, method_id))


@router.patch(
    "/me/payment-methods/{method_id}", response_model=PaymentMethodOut, tags=["payment methods"]
)
def make_default_payment_method(
    method_id: str,
    body: PaymentMethodPatch,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        return payment_method_json(methods.set_default_payment_method(session, account, method_id))


@router.delete("/me/payment-methods/{method_id}", status_code=204, tags=["payment methods"])
def remove_payment_method(
    method_id: str,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        methods.remove_payment_method(session, platform, account, method_id)
    return Response(status_code=204)


# --- Payment provider ----------------------------------------------------------------------------
@router.post(
    "/payment-provider/{provider_name}/webhook",
    tags=["payment provider"],
    summary="Signed events of the configured payment provider (the sandbox: HMAC-SHA256)",
)
async def sandbox_webhook(
    provider_name: str, request: Request, platform: Platform = Depends(get_platform)
) -> dict[str, Any]:
    configured = (platform.settings.payment_provider or "").strip()
    if not configured:
        raise NotFound()
    provider = get_provider(platform)
    if provider_name != provider.name:
        raise NotFound()
    body = await request.body()
    event = provider.verify_webhook(
        body, request.headers.get(provider.signature_header), platform.now()
    )
    for attempt in range(2):
        try:
            with platform.transaction() as session:
                handled = settlement.handle_provider_event(
                    session,
                    platform,
                    event.event_id,
                    event.event_type,
                    event.reference,
                    event.data,
                    provider.name,
                )
            return {"received": True, "duplicate": not handled}
        except IntegrityError:  # the same event delivered twice at once: the other one handled it
            if attempt:
                raise
    return {"received": True, "duplicate": True}


@router.post(
    "/payment-provider/sandbox/payments/{reference}/confirm",
    tags=["payment provider"],
    summary="The sandbox's confirmation step (3-D Secure): approve or refuse a payment",
)
def sandbox_confirm(
    reference: str, body: ConfirmIn, platform: Platform = Depends(get_platform)
) -> dict[str, Any]:
    with platform.transaction() as session:
        charge = get_sandbox(platform).confirm(session, reference, body.approve)
        if charge is None:
            raise NotFound()
        return {"reference": charge.reference, "status": charge.status}
