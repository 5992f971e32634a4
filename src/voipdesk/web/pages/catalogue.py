"""The catalogue page and the order tunnel: choose (catalogue), review (every line and total,
the terms to read and accept), and only then the purchase order is made (paid on its page).
It calls the same actions as the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.actions import is_email_verified
from voipdesk.accounts.errors import EmailNotVerified
from voipdesk.accounts.models import Account
from voipdesk.catalogue import queries, rules
from voipdesk.catalogue.models import PRICE_DEPOSIT, PRICE_EXTRA_CALL, PRICE_MONTHLY
from voipdesk.core.errors import DomainError, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money, round_cents
from voipdesk.core.platform import Platform
from voipdesk.orders import actions
from voipdesk.orders import rules as order_rules
from voipdesk.web.auth import require_account
from voipdesk.web.labels import label_or
from voipdesk.web.rendering import redirect, render

router = APIRouter()

MAX_QUANTITY_CHOICES = [*range(0, 11), 15, 20, 30, 40, 50]


def _price(amount, components, currency: str = "EUR") -> dict[str, Money]:  # type: ignore[no-untyped-def]
    tax = sum((round_cents(amount * component.rate) for component in components), 0)
    return {"excl_tax": Money(amount, currency), "incl_tax": Money(amount + tax, currency)}


def catalogue_context(platform: Platform, account: Account, language: str) -> dict[str, Any]:
    country = account.country
    on = platform.today()
    components = rules.tax_components(country, on)
    with platform.session() as session:
        views = queries.offers_for_country(session, country, on, language)
        areas = queries.areas(session, country, platform.now())
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for view in views:
        prices = {
            name: _price(
                amount, () if name == PRICE_DEPOSIT else components, rules.currency_of(country)
            )
            for name, amount in view.prices.items()
        }
        by_kind.setdefault(view.kind, []).append(
            {
                "code": view.code,
                "label": view.label,
                "description": view.description,
                "prices": prices,
                "monthly": prices.get(PRICE_MONTHLY),
                "extra_call": prices.get(PRICE_EXTRA_CALL),
                "deposit": prices.get(PRICE_DEPOSIT),
                "calls": view.calls,
            }
        )
    return {
        "country": country,
        "taxes": [(gettext(language, c.label), c.rate * 100) for c in components],
        "lines": by_kind.get(rules.KIND_SIP_LINE, []),
        "alias": next(iter(by_kind.get(rules.KIND_ALIAS_NUMBER, [])), None),
        "fax": next(iter(by_kind.get(rules.KIND_FAX_LINE, [])), None),
        "options": by_kind.get(rules.KIND_OPTION, []),
        "phones": by_kind.get(rules.KIND_PHONE, []),
        "areas": areas,
        "area_options": [
            (area.prefix, label_or(language, "area", area.prefix, area.name)) for area in areas
        ],
        "area_names": {
            area.prefix: label_or(language, "area", area.prefix, area.name) for area in areas
        },
        "alias_quantities": rules.ALIAS_ORDER_QUANTITIES,
        "quantities": MAX_QUANTITY_CHOICES,
        "quantity_options": [(q, q) for q in MAX_QUANTITY_CHOICES],
        "form": {},
        "form_lists": {},
        "errors": {},
        "waiting_order": waiting_order(platform, account.id),
        "email_unverified": platform.settings.require_verified_email
        and not is_email_verified(platform, account.id),
    }


def waiting_order(platform: Platform, account_id: str) -> dict[str, str] | None:
    """The customer's latest order that is not finished (paid or not): the catalogue says so
    instead of inviting a second order as if nothing waited."""
    from voipdesk.orders import rules as order_rules

    with platform.session() as session:
        orders, _ = actions.list_orders(
            session,
            platform,
            account_id=account_id,
            states=[order_rules.NOT_PAID, order_rules.VALIDATION, order_rules.DELIVERING],
            limit=1,
        )
        return (
            {"id": orders[0].id, "number": orders[0].number, "state": orders[0].state}
            if orders
            else None
        )


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = catalogue_context(platform, account, request_language(request))
    return render(request, "catalogue/catalogue.html", context)


def _int(value: Any, default: int = 0) -> int:
    if value is None or not str(value).strip():
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return -1  # refused by the quantity rule, with its message


def cart_from_form(form: Any, offers: dict[str, str]) -> actions.Cart:
    """Reads the tunnel's form: qty_, area_, calls_, options_ and phone_ followed by the code."""
    lines: list[actions.CartLine] = []
    for code, kind in offers.items():
        quantity = _int(form.get(f"qty_{code}"))
        if quantity == 0:
            continue
        area = form.get(f"area_{code}") or None
        if kind == rules.KIND_SIP_LINE:
            calls = _int(form.get(f"calls_{code}"), 0) or None
            lines.append(
                actions.CartLine(
                    offer=code,
                    quantity=quantity,
                    area=area,
                    simultaneous_calls=calls,
                    options=[value for value in form.getlist(f"options_{code}") if value],
                    phone=form.get(f"phone_{code}") or None,
                )
            )
        elif kind in (rules.KIND_ALIAS_NUMBER, rules.KIND_FAX_LINE):
            lines.append(actions.CartLine(offer=code, quantity=quantity, area=area))
        elif kind == rules.KIND_PHONE:
            lines.append(actions.CartLine(offer=code, quantity=quantity))
    return actions.Cart(
        lines=lines, promotion_code=(form.get("promotion_code") or "").strip() or None
    )


def _offers(context: dict[str, Any]) -> dict[str, str]:
    return {
        offer["code"]: kind
        for kind, group in (
            (rules.KIND_SIP_LINE, context["lines"]),
            (rules.KIND_ALIAS_NUMBER, [context["alias"]] if context["alias"] else []),
            (rules.KIND_FAX_LINE, [context["fax"]] if context["fax"] else []),
            (rules.KIND_PHONE, context["phones"]),
        )
        for offer in group
    }


# What the form carries from the catalogue to the review page and back (never the CSRF token).
def _kept(form: Any) -> dict[str, list[str]]:
    return {
        key: [str(value) for value in form.getlist(key)]
        for key in form
        if key != "csrf_token" and not key.startswith("terms_") and key != "accept_terms"
    }


class _Preview(Exception):
    """Rolls back the transaction in which the order was priced for the review page."""


def _review(platform: Platform, account: Account, cart: actions.Cart, language: str) -> Any:
    """The order exactly as it would be made (same action, same prices and numbers), inside a
    transaction that is rolled back: nothing is reserved, numbered or e-mailed yet."""
    seen: dict[str, Any] = {}
    try:
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            order = actions.create_order(session, platform, owner, cart)
            currency = order.currency
            seen["lines"] = [
                {
                    "description": line.description(language),
                    "quantity": line.quantity,
                    "unit_price": Money(line.unit_price_excl_tax, currency),
                    "monthly": Money(line.monthly_price_excl_tax, currency)
                    if line.monthly_price_excl_tax is not None
                    else None,
                    "period_start": line.period_start,
                    "period_end": line.period_end,
                    "amount": Money(line.amount_excl_tax, currency),
                }
                for line in order.lines
            ]
            seen["totals"] = {
                "subtotal": Money(order.subtotal_excl_tax, currency),
                "discount": Money(order.discount_excl_tax, currency),
                "excl_tax": Money(order.total_excl_tax, currency),
                "tax": Money(order.total_tax, currency),
                "incl_tax": Money(order.total_incl_tax, currency),
                "taxes": [
                    {
                        "label": gettext(language, item["label"]),
                        "rate": Decimal(item["rate"]) * 100,
                        "amount": Money(Decimal(item["amount"]), currency),
                    }
                    for item in order.tax_breakdown
                ],
            }
            seen["promotion_code"] = order.promotion_code
            raise _Preview()
    except _Preview:
        pass
    return seen


def _terms(language: str) -> list[dict[str, Any]]:
    return [
        {
            "code": terms.code,
            "title": gettext(language, terms.title),
            "version": terms.version,  # its date, ISO: shown as a date in the reader's words
            "version_date": date.fromisoformat(terms.version),
            "url": f"/terms/{terms.code.replace('_', '-')}",
        }
        for terms in order_rules.TERMS.values()
    ]


@router.post("/catalogue/edit")
async def edit_cart_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """Back from the review page to the catalogue, every field as it was chosen."""
    form = await request.form()
    context = catalogue_context(platform, account, request_language(request))
    context.update(_form_context(_kept(form)))
    return render(request, "catalogue/catalogue.html", context)


@router.post("/orders/review")
async def review_order_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """Step 2 of the tunnel: every line, price, period and total, and the terms to accept. No
    purchase order exists yet."""
    form = await request.form()
    language = request_language(request)
    context = catalogue_context(platform, account, language)
    cart = cart_from_form(form, _offers(context))
    kept = _kept(form)
    try:
        if context["email_unverified"]:  # ordering waits for the confirmed address
            raise EmailNotVerified()
        review = _review(platform, account, cart, language)
    except DomainError as error:
        return _catalogue_error(request, context, error, language, kept, cart)
    return render(
        request,
        "orders/review.html",
        {**review, "kept": kept, "terms": _terms(language), "errors": {}},
    )


def _catalogue_error(
    request: Request,
    context: dict[str, Any],
    error: DomainError,
    language: str,
    kept: dict[str, list[str]],
    cart: actions.Cart,
) -> Response:
    """A refused field is named under its own field; every other field stays as typed."""
    context.update(_form_context(kept))
    context.update(
        {"error": error.detail(language), "errors": _form_field_errors(error, cart, language)}
    )
    return render(request, "catalogue/catalogue.html", context, status=error.status)


def _form_context(kept: dict[str, list[str]]) -> dict[str, Any]:
    """The catalogue's fields as the form had them: one value each, the options as lists."""
    return {
        "form": {key: values[0] for key, values in kept.items() if values},
        "form_lists": {key: values for key, values in kept.items() if key.startswith("options_")},
    }


@router.post("/orders/new")
async def create_order_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """Step 3: the terms were accepted on the review page; only now is the order made."""
    form = await request.form()
    language = request_language(request)
    context = catalogue_context(platform, account, language)
    cart = cart_from_form(form, _offers(context))
    kept = _kept(form)
    accepted = (
        {code: str(form.get(f"terms_{code}") or "") for code in order_rules.TERMS}
        if form.get("accept_terms") == "yes"
        else None
    )
    try:
        if context["email_unverified"]:
            raise EmailNotVerified()
        if accepted is None:
            from voipdesk.orders.errors import TermsNotAccepted

            raise TermsNotAccepted(
                fields={"accept_terms": "Accept the terms of sale and the telephony terms."}
            )
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            order = actions.create_order(session, platform, owner, cart, accepted_terms=accepted)
            order_id, number, total = order.id, order.number, order.total_incl_tax
            currency = order.currency
    except DomainError as error:
        if error.code != "terms-not-accepted":
            return _catalogue_error(request, context, error, language, kept, cart)
        review = _review(platform, account, cart, language)
        return render(
            request,
            "orders/review.html",
            {
                **review,
                "kept": kept,
                "terms": _terms(language),
                "error": error.detail(language),
                "errors": {"accept_terms": error.detail(language)},
            },
            status=error.status,
        )
    return redirect(
        request,
        f"/orders/{order_id}",
        gettext(
            language,
            "Purchase order %(number)s of %(amount)s incl. tax was created: pay it to have "
            "it delivered. Nothing is charged until you pay.",
            number=number,
            amount=Money(total, currency).format(language),
        ),
    )


@router.get("/terms/{document}", response_class=HTMLResponse)
def terms_page(document: str, request: Request) -> Response:
    code = document.replace("-", "_")
    if code not in order_rules.TERMS:
        raise NotFound()
    terms = order_rules.TERMS[code]
    return render(request, f"orders/{code}.html", {"terms": terms})


# The action names a cart line's field ("lines.1.quantity"); the page shows it on the offer's field.
_FORM_FIELD = {
    "quantity": "qty_",
    "simultaneous_calls": "calls_",
    "options": "options_",
    "offer": "qty_",
    "numbers": "qty_",
    "area": "area_",
    "phone": "phone_",
}


def _form_field_errors(error: DomainError, cart: actions.Cart, language: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.field_errors(language):
        parts = item["field"].split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(cart.lines):
                prefix = _FORM_FIELD.get(parts[2], "qty_")
                errors[prefix + cart.lines[index].offer] = item["message"]
                continue
        if item["field"] == "promotion_code":
            errors["promotion_code"] = item["message"]
    return errors
