"""The catalogue page and the first step of the order tunnel (choose, then review and pay on the
order's page). It calls the same actions as the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voipdesk.accounts.actions import is_email_verified
from voipdesk.accounts.errors import EmailNotVerified
from voipdesk.accounts.models import Account
from voipdesk.catalogue import queries, rules
from voipdesk.catalogue.models import PRICE_DEPOSIT, PRICE_EXTRA_CALL, PRICE_MONTHLY
from voipdesk.core.errors import DomainError
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money, round_cents
from voipdesk.core.platform import Platform
from voipdesk.orders import actions
from voipdesk.web.auth import require_account
from voipdesk.web.labels import label_or
from voipdesk.web.rendering import render

router = APIRouter()

MAX_QUANTITY_CHOICES = [*range(0, 11), 15, 20, 30, 40, 50]


def _price(amount, components) -> dict[str, Money]:  # type: ignore[no-untyped-def]
    tax = sum((round_cents(amount * component.rate) for component in components), 0)
    return {"excl_tax": Money(amount), "incl_tax": Money(amount + tax)}


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
            name: _price(amount, () if name == PRICE_DEPOSIT else components)
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


@router.post("/orders/new")
async def create_order_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await request.form()
    language = request_language(request)
    context = catalogue_context(platform, account, language)
    offers = {
        offer["code"]: kind
        for kind, group in (
            (rules.KIND_SIP_LINE, context["lines"]),
            (rules.KIND_ALIAS_NUMBER, [context["alias"]] if context["alias"] else []),
            (rules.KIND_FAX_LINE, [context["fax"]] if context["fax"] else []),
            (rules.KIND_PHONE, context["phones"]),
        )
        for offer in group
    }
    cart = cart_from_form(form, offers)
    try:
        if context["email_unverified"]:
            raise EmailNotVerified()
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            order = actions.create_order(session, platform, owner, cart)
            order_id = order.id
    except DomainError as error:
        context.update(
            {
                "error": error.detail(language),
                "errors": _form_field_errors(error, cart, language),
                "form": {key: str(value) for key, value in form.items()},
                "form_lists": {
                    key: [str(v) for v in form.getlist(key)]
                    for key in form
                    if key.startswith("options_")
                },
            }
        )
        return render(request, "catalogue/catalogue.html", context, status=error.status)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


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
