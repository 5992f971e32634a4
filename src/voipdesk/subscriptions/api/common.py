"""Helpers shared by the subscriptions routes: serialisation, filters, one service, termination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fastapi import Query, Response

from voipdesk.accounts.models import Account
from voipdesk.catalogue.rules import currency_of
from voipdesk.core.money import Money
from voipdesk.core.pagination import InvalidCursor, PageParams, decode_cursor, encode_cursor
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.api.schemas import (
    BillingContactChangeOut,
    GroupOut,
    HardwareLoanOut,
    PendingChangeOut,
    ServiceOut,
    TerminationIn,
)
from voipdesk.subscriptions.models import (
    BillingContactChange,
    BillingGroup,
    PendingChange,
    Service,
)


# --- Helpers -------------------------------------------------------------------------------------
def _number(value: str) -> str:
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


def change_out(
    change: PendingChange | actions.ListedChange,
    service: Service | actions.ListedService | None = None,
) -> PendingChangeOut:
    return PendingChangeOut(
        id=change.id,
        kind=change.kind,
        service_id=change.service_id,
        number=service.number_e164 if service is not None else None,
        effective_on=change.effective_on,
        new_offer=change.new_offer_code,
        new_simultaneous_calls=change.new_simultaneous_calls,
        reason=change.reason,
        requested_at=change.requested_at,
    )


def service_out(
    service: Service | actions.ListedService,
    changes: Sequence[PendingChange | actions.ListedChange] | None = None,
) -> ServiceOut:
    return ServiceOut(
        id=service.id,
        billing_group_id=service.billing_group_id,
        kind=service.kind,
        number=service.number_e164,
        offer=service.offer_code,
        simultaneous_calls=service.simultaneous_calls,
        outgoing_calls=service.outgoing_calls,
        pool_id=service.pool_id,
        monthly_price_excl_tax=Money(
            service.monthly_price_excl_tax, currency_of(service.tax_country)
        ).as_json(),
        renewal_mode=service.renewal_mode,
        state=service.state,
        expiry_on=service.expiry_on,
        cancel_at_expiry=service.cancel_at_expiry,
        cancel_reason=service.cancel_reason,
        pending_changes=[change_out(c, service) for c in changes or []],
    )


def _handle(session: Any, account_id: str) -> str:
    account = session.get(Account, account_id)
    return account.handle if account is not None else account_id


def contact_change_out(session: Any, change: BillingContactChange) -> BillingContactChangeOut:
    group = session.get(BillingGroup, change.billing_group_id)
    return BillingContactChangeOut(
        id=change.id,
        state=change.state,
        billing_group_name=group.name if group is not None else "",
        from_contact=_handle(session, change.from_account_id),
        to_contact=_handle(session, change.to_account_id),
        requested_at=change.requested_at,
        decided_at=change.decided_at,
        procedure_id=change.procedure_id,
    )


def group_out(session: Any, group: BillingGroup) -> GroupOut:
    services = actions.group_services(session, group.id)
    waiting = actions.waiting_contact_change(session, group.id)
    return GroupOut(
        id=group.id,
        name=group.name,
        state=group.state,
        created_at=group.created_at,
        lines=sum(1 for s in services if s.kind in rules.LINE_KINDS),
        numbers=sum(1 for s in services if s.kind == rules.KIND_ALIAS_NUMBER),
        faxes=sum(1 for s in services if s.kind == rules.KIND_FAX_LINE),
        pending_changes=len(actions.pending_changes(session, group.id)),
        billing_contact=_handle(session, group.billing_account_id),
        billing_contact_change=contact_change_out(session, waiting) if waiting else None,
    )


LiveState = Literal["active", "to_renew", "suspended"]
PREFIX_QUERY = Query(
    None,
    max_length=20,
    pattern=r"^[+ ]?[0-9 ]+$",
    description="Numbers starting with this prefix, E.164 (+331) or national (01)",
)


def prefix_filter(account: Account, prefix: str | None) -> str | None:
    """The prefix as E.164 digits; national input is read in the account's country."""
    if not prefix or not prefix.strip():
        return None
    # An unencoded "+" in a query string arrives as a space: read it back as the "+" it was.
    text = "+" + prefix.strip() if prefix.startswith(" ") else prefix.strip()
    from voipdesk.catalogue import queries as catalogue_queries

    return catalogue_queries.normalise_area_prefix(text, account.country or "FR")


def service_key(service: Service | actions.ListedService) -> tuple[str, str, str]:
    return (service.number_e164 or "", service.kind, service.id)


def _after(cursor: str | None) -> tuple[str, str, str] | None:
    if not cursor:
        return None
    key = decode_cursor(cursor, 3)
    if not all(isinstance(part, str) for part in key):
        raise InvalidCursor()
    return (str(key[0]), str(key[1]), str(key[2]))


async def _services(
    platform: Platform,
    account: Account,
    group: str,
    kinds: tuple[str, ...],
    page: PageParams,
    state: str | None = None,
    prefix: str | None = None,
) -> tuple[list[ServiceOut], str | None]:
    rows = await actions.group_services_page(
        platform,
        account.id,
        group,
        kinds,
        limit=page.limit + 1,
        after=_after(page.cursor),
        state=state,
        prefix=prefix_filter(account, prefix),
    )
    shown = rows[: page.limit]
    next_cursor = encode_cursor(*service_key(shown[-1])) if len(rows) > page.limit else None
    return [service_out(s, s.pending_changes) for s in shown], next_cursor


def _one(
    platform: Platform, account: Account, group: str, number: str, kinds: tuple[str, ...]
) -> ServiceOut:
    with platform.session() as session:
        service = actions.get_numbered_service(session, account.id, group, _number(number), kinds)
        return service_out(service, actions.pending_changes(session, group, service.id))


def _terminate(
    platform: Platform,
    account: Account,
    group: str,
    number: str,
    kinds: tuple[str, ...],
    body: TerminationIn,
) -> PendingChangeOut:
    with platform.transaction() as session:
        change = actions.request_termination(
            session,
            platform,
            account.id,
            group,
            _number(number),
            kinds,
            body.reason,
            body.details,
            body.confirm_pool_termination,
        )
        return change_out(change, session.get(Service, change.service_id))


def _cancel_termination(
    platform: Platform, account: Account, group: str, number: str, kinds: tuple[str, ...]
) -> Response:
    with platform.transaction() as session:
        actions.cancel_service_change(
            session,
            platform,
            account.id,
            group,
            _number(number),
            (rules.CHANGE_TERMINATION,),
            kinds,
        )
    return Response(status_code=204)


ALIAS = (rules.KIND_ALIAS_NUMBER,)
FAX = (rules.KIND_FAX_LINE,)


def loan_out(loan: Any) -> HardwareLoanOut:
    return HardwareLoanOut(
        id=loan.id,
        account_id=loan.account_id,
        billing_group_id=loan.billing_group_id,
        service_id=loan.service_id,
        hardware_code=loan.hardware_code,
        deposit=Money(loan.deposit).as_json(),
        state=loan.state,
        return_due_on=loan.return_due_on,
        received_on=loan.received_on,
        refund_due_on=loan.refund_due_on,
    )
