"""Back-office pages of the webhooks: endpoints (register, change, disable, rotate the secret,
remove), their deliveries with every attempt and answer, and "send again"."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.core.errors import DomainError
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.web import labels
from voipdesk.web.auth import require_staff
from voipdesk.web.listing import sort_and_page, sort_and_page_query
from voipdesk.web.rendering import form_errors, redirect, render
from voipdesk.webhooks import actions, queries, rules

router = APIRouter()


def _event_types(language: str) -> list[tuple[str, str]]:
    return [(event.name, gettext(language, event.description)) for event in rules.EVENT_TYPES]


labels.register(
    "webhook_state",
    dict(rules.STATE_LABELS),
    {rules.PENDING: "wait", rules.SUCCEEDED: "ok", rules.FAILED: "danger"},
)
# The endpoints (few: read whole) sort by address, description, state and registration date
# (oldest first by default, as they were listed); a state filter and a search in the address
# and description once there are a few. The deliveries sort in the database, newest first.
ENDPOINT_SORTS: dict[str, Any] = {
    "address": lambda e: e.url.casefold(),
    "description": lambda e: e.description.casefold() or None,
    "state": lambda e: not e.enabled,
    "created": lambda e: e.created_at,
}
ENDPOINT_STATES = ("enabled", "disabled")
PAGE_SIZE = 25


def _endpoints_page(
    request: Request,
    platform: Platform,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    language = request_language(request)
    query = request.query_params
    state = query.get("state", "")
    text = query.get("q", "").strip()[:200].casefold()
    with platform.session() as session:
        endpoints = queries.all_endpoints(session)
    shown = [
        e
        for e in endpoints
        if (state not in ENDPOINT_STATES or e.enabled == (state == "enabled"))
        and (not text or text in e.url.casefold() or text in e.description.casefold())
    ]
    page = sort_and_page(
        shown, query.get("sort"), ENDPOINT_SORTS, query.get("cursor"), PAGE_SIZE, "created"
    )
    return render(
        request,
        "webhooks/endpoints.html",
        {
            "endpoints": page.rows,
            "endpoints_total": len(endpoints),
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "state": state if state in ENDPOINT_STATES else "",
            "q": query.get("q", "").strip()[:200],
            "states": [
                ("", gettext(language, "All states")),
                ("enabled", gettext(language, "Enabled")),
                ("disabled", gettext(language, "Disabled")),
            ],
            "event_types": _event_types(language),
            "errors": errors or {},
            "form": form or {"event_types": [], "url": "", "description": ""},
        },
        status=status,
    )


@router.get("/backoffice/webhooks", response_class=HTMLResponse)
def endpoints_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    return _endpoints_page(request, platform)


@router.post("/backoffice/webhooks")
async def register_endpoint(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = await request.form()
    url = str(data.get("url") or "")
    description = str(data.get("description") or "")
    event_types = [str(value) for value in data.getlist("event_types")]
    form: dict[str, Any] = {"url": url, "description": description, "event_types": event_types}
    try:
        with platform.transaction() as session:
            endpoint = actions.register_endpoint(
                session,
                platform,
                staff.id,
                actions.EndpointForm(url=url, event_types=event_types, description=description),
            )
            endpoint_id = endpoint.id
    except DomainError as error:
        errors = form_errors(error, request_language(request))
        return _endpoints_page(request, platform, errors=errors, form=form, status=error.status)
    return redirect(
        request,
        f"/backoffice/webhooks/{endpoint_id}",
        gettext(request_language(request), "The endpoint is registered."),
    )


def _endpoint_page(
    request: Request,
    platform: Platform,
    endpoint_id: str,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The endpoint and its deliveries, newest first; sorted by a header both ways, filtered by
    state and event, 25 a page."""
    language = request_language(request)
    query = request.query_params
    state = query.get("state", "")
    state = state if state in rules.STATE_LABELS else ""
    event_type = query.get("event", "")
    event_type = event_type if event_type in rules.BY_NAME else ""
    with platform.session() as session:
        endpoint = queries.get_endpoint(session, endpoint_id)
        page = sort_and_page_query(
            session,
            queries.deliveries_select(endpoint.id, state=state, event_type=event_type),
            queries.DELIVERY_SORTS,
            query.get("sort"),
            query.get("cursor"),
            queries.DELIVERY_TIES,
            PAGE_SIZE,
            "-made",
        )
        rows = [
            {
                "id": delivery.id,
                "event_type": delivery.message.event_type,
                "webhook_id": delivery.message.id,
                "state": delivery.state,
                "attempts": delivery.attempts,
                "created_at": delivery.created_at,
                "next_attempt_at": delivery.next_attempt_at,
                "last_status": (
                    delivery.attempt_rows[-1].status_code if delivery.attempt_rows else None
                ),
            }
            for delivery in page.rows
        ]
        filtered = bool(state or event_type)
        any_delivery = bool(rows) or (
            filtered
            and bool(session.execute(queries.deliveries_select(endpoint.id).limit(1)).first())
        )
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "deliveries": rows,
            "any_delivery": any_delivery,
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "state": state,
            "event": event_type,
            "delivery_states": [
                ("", gettext(language, "All states")),
                *[(code, gettext(language, text)) for code, text in rules.STATE_LABELS.items()],
            ],
            "delivery_events": [
                ("", gettext(language, "All events")),
                *[(name, name) for name, _description in _event_types(language)],
            ],
            "event_types": _event_types(language),
            "errors": errors or {},
        },
        status=status,
    )


@router.get("/backoffice/webhooks/{endpoint_id}", response_class=HTMLResponse)
def endpoint_page(
    request: Request,
    endpoint_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    return _endpoint_page(request, platform, endpoint_id)


@router.post("/backoffice/webhooks/{endpoint_id}")
async def update_endpoint(
    request: Request,
    endpoint_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = await request.form()
    try:
        with platform.transaction() as session:
            actions.update_endpoint(
                session,
                platform,
                endpoint_id,
                url=str(data.get("url") or ""),
                description=str(data.get("description") or ""),
                event_types=[str(value) for value in data.getlist("event_types")],
                enabled=data.get("enabled") == "on",
            )
    except DomainError as error:
        if error.status == 404:
            raise
        errors = form_errors(error, request_language(request))
        return _endpoint_page(request, platform, endpoint_id, errors=errors, status=error.status)
    return redirect(
        request,
        f"/backoffice/webhooks/{endpoint_id}",
        gettext(request_language(request), "The endpoint is saved."),
    )


@router.post("/backoffice/webhooks/{endpoint_id}/secret")
def rotate_secret(
    request: Request,
    endpoint_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.rotate_secret(session, platform, endpoint_id)
    return redirect(
        request,
        f"/backoffice/webhooks/{endpoint_id}",
        gettext(request_language(request), "A new secret signs the next messages."),
    )


@router.post("/backoffice/webhooks/{endpoint_id}/delete")
def delete_endpoint(
    request: Request,
    endpoint_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.delete_endpoint(session, endpoint_id)
    return redirect(
        request,
        "/backoffice/webhooks",
        gettext(request_language(request), "The endpoint and its deliveries are removed."),
    )


def _delivery_page(
    request: Request, platform: Platform, delivery_id: str, status: int = 200
) -> HTMLResponse:
    language = request_language(request)
    with platform.session() as session:
        delivery = queries.get_delivery(session, delivery_id)
        endpoint = queries.get_endpoint(session, delivery.endpoint_id)
        context = {
            "delivery": delivery,
            "endpoint": endpoint,
            "message": delivery.message,
            "body": json.dumps(json.loads(delivery.message.body), indent=2, ensure_ascii=False),
            "attempts": list(delivery.attempt_rows),
            "state_label": gettext(language, rules.STATE_LABELS[delivery.state]),
        }
        return render(request, "webhooks/delivery.html", context, status=status)


@router.get("/backoffice/webhooks/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery_page(
    request: Request,
    delivery_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    return _delivery_page(request, platform, delivery_id)


@router.post("/backoffice/webhooks/deliveries/{delivery_id}/send-again")
def send_again(
    request: Request,
    delivery_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.send_again(session, platform, staff.id, delivery_id)
    return redirect(
        request,
        f"/backoffice/webhooks/deliveries/{delivery_id}",
        gettext(request_language(request), "The message will be sent again in a moment."),
    )
