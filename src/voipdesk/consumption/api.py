"""Routes of consumption: a line's call log of a month (JSON and CSV), a billing group's monthly
statements (list, PDF, CSV) and spending cap; for staff, the rate tables, re-rating a month and
importing call records from CSV. Same use cases as the pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.consumption import actions, documents, errors, importer, queries, rules, services
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.money import Money
from voipdesk.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_query
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.subscriptions.rules import LINE_KINDS

router = APIRouter(tags=["consumption"])
LINE = "/telephony/{group}/lines/{number}"
MonthText = Query(
    None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; the current month if left out"
)


def path_number(value: str) -> str:
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


class MoneyOut(BaseModel):
    amount: str
    currency: str


def money(amount: Decimal) -> MoneyOut:
    return MoneyOut(**Money(amount).as_json())


class CallOut(BaseModel):
    call_key: str
    started_at: datetime
    direction: str
    caller: str
    callee: str
    number: str = Field(description="The other party: the caller of an incoming call, else callee")
    disposition: str
    duration_seconds: int
    destination: str | None = Field(description="Destination type; null while not rated yet")
    billed_seconds: int
    included_seconds: int
    price_excl_tax: MoneyOut | None


class TotalsOut(BaseModel):
    calls: int
    outgoing: int
    incoming: int
    duration_seconds: int
    price_excl_tax: MoneyOut


class CallLogOut(BaseModel):
    month: str
    number: str
    totals: TotalsOut
    matching: int = Field(description="Calls of the month matching the search")
    items: list[CallOut]
    next_cursor: str | None


def call_out(call: queries.CallLine) -> CallOut:
    return CallOut(
        call_key=call.call_key,
        started_at=call.started_at,
        direction=call.direction,
        caller=call.caller,
        callee=call.callee,
        number=call.other_party,
        disposition=call.disposition,
        duration_seconds=call.duration_seconds,
        destination=call.destination,
        billed_seconds=call.billed_seconds,
        included_seconds=call.included_seconds,
        # A call's price keeps its four decimals (the month's total is rounded to the cent).
        price_excl_tax=MoneyOut(amount=f"{call.price:.4f}", currency="EUR")
        if call.price is not None
        else None,
    )


def _line_month(
    platform: Platform, account: Account, group: str, number: str, month: str | None
) -> tuple[str, date]:
    e164 = path_number(number)
    with platform.session() as session:
        subscription_queries.numbered_service(session, account.id, group, e164, LINE_KINDS)
    return e164, queries.month_or_current(month, actions.current_month(platform))


@router.get(f"{LINE}/consumption", response_model=CallLogOut, summary="A line's calls of a month")
def get_line_consumption(
    group: str,
    number: str,
    month: str | None = MonthText,
    q: str = Query("", max_length=40, description="Digits of the number searched"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = cursor_query(),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> CallLogOut:
    e164, wanted = _line_month(platform, account, group, number, month)
    with platform.session() as session:
        log = queries.line_calls(session, e164, wanted, search=q, limit=limit, cursor=cursor)
    return CallLogOut(
        month=f"{wanted:%Y-%m}",
        number=e164,
        totals=TotalsOut(
            calls=log.totals.calls,
            outgoing=log.totals.outgoing,
            incoming=log.totals.incoming,
            duration_seconds=log.totals.seconds,
            price_excl_tax=money(log.totals.price),
        ),
        matching=log.matching,
        items=[call_out(c) for c in log.items],
        next_cursor=log.next_cursor,
    )


@router.get(
    f"{LINE}/consumption/csv",
    summary="A line's calls of a month as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def download_line_consumption_csv(
    group: str,
    number: str,
    month: str | None = MonthText,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    e164, wanted = _line_month(platform, account, group, number, month)
    with platform.session() as session:
        calls = queries.all_line_calls(session, e164, wanted)
    name = f"calls-{e164.lstrip('+')}-{wanted:%Y-%m}.csv"
    return Response(
        documents.calls_csv(calls),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- Statements -----------------------------------------------------------------------------------
class StatementOut(BaseModel):
    month: str
    calls: int
    charged_seconds: int
    beyond_plan_excl_tax: MoneyOut
    made_at: datetime
    invoiced_on: date | None = Field(description="The renewal whose invoice charged it")
    pdf: str
    csv: str


class StatementsOut(BaseModel):
    items: list[StatementOut]


def _month_path(month: str) -> date:
    parsed = rules.parse_month(month)
    if parsed is None:
        raise errors.InvalidMonth(fields={"month": "Refused."})
    return parsed


@router.get("/telephony/{group}/statements", response_model=StatementsOut, summary="Statements")
def list_statements(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> StatementsOut:
    with platform.session() as session:
        found = queries.statements(session, account.id, group)
    base = f"/api/v1/telephony/{group}/statements"
    return StatementsOut(
        items=[
            StatementOut(
                month=f"{s.month:%Y-%m}",
                calls=s.calls,
                charged_seconds=s.seconds,
                beyond_plan_excl_tax=money(s.total),
                made_at=s.created_at,
                invoiced_on=s.invoiced_period,
                pdf=f"{base}/{s.month:%Y-%m}/pdf",
                csv=f"{base}/{s.month:%Y-%m}/csv",
            )
            for s in found
        ]
    )


@router.get(
    "/telephony/{group}/statements/{month}/{kind}",
    summary="A statement as PDF or CSV",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
def download_statement(
    group: str,
    month: str,
    kind: Literal["pdf", "csv"],
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    wanted = _month_path(month)
    language = request_language(request)
    with platform.session() as session:
        detail = queries.statement_detail(session, account.id, group, wanted)
    name = documents.statement_filename(wanted, language, kind)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "pdf":
        pdf = documents.statement_pdf(detail, platform.settings.operator_name, language)
        return Response(pdf, media_type="application/pdf", headers=headers)
    return Response(
        documents.calls_csv(detail.calls), media_type="text/csv; charset=utf-8", headers=headers
    )


# --- Spending cap ---------------------------------------------------------------------------------
class SpendingCapOut(BaseModel):
    amount: MoneyOut
    is_default: bool
    default: MoneyOut = Field(description="The catalogue's default cap for this customer")
    minimum: MoneyOut
    maximum: MoneyOut
    new_customer: bool = Field(description="The catalogue's lower default and maximum apply")
    month: str
    spent_beyond_plan: MoneyOut
    percent: int
    reached: bool = Field(description="Outgoing calls beyond the plan are refused until raised")
    warnings_sent: list[int] = Field(
        description="Thresholds (percent) e-mailed this month and still reached; one the amount "
        "falls below (the cap raised) is sent again when reached again"
    )


class SpendingCapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(description="EUR excl. tax, a month", max_digits=9, decimal_places=2)


def cap_out(view: actions.CapView) -> SpendingCapOut:
    return SpendingCapOut(
        amount=money(view.amount),
        is_default=view.is_default,
        default=money(view.limits.default),
        minimum=money(view.limits.minimum),
        new_customer=view.limits.new_customer,
        maximum=money(view.limits.maximum),
        month=f"{view.month:%Y-%m}",
        spent_beyond_plan=money(view.spent),
        percent=view.percent,
        reached=view.reached,
        warnings_sent=list(view.warned),
    )


@router.get("/telephony/{group}/spending-cap", response_model=SpendingCapOut, summary="Cap")
def get_spending_cap(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SpendingCapOut:
    with platform.session() as session:
        return cap_out(actions.spending_cap(session, platform, account.id, group))


@router.put("/telephony/{group}/spending-cap", response_model=SpendingCapOut, summary="Set cap")
def set_spending_cap(
    group: str,
    body: SpendingCapIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SpendingCapOut:
    with platform.transaction() as session:
        view = actions.set_spending_cap(
            session, platform, account.id, group, body.amount, f"account:{account.id}"
        )
    return cap_out(view)


# --- Staff ----------------------------------------------------------------------------------------
class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: str = Field("*", max_length=60, description='An offer code, or "*" for every offer')
    destination: str = Field(max_length=40)
    per_minute: Decimal = Field(ge=0, max_digits=12, decimal_places=4)
    connection_fee: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=4)
    first_increment: int = Field(60, ge=1, le=3600)
    next_increment: int = Field(1, ge=1, le=3600)
    valid_from: date


class RateOut(BaseModel):
    plan: str
    destination: str
    per_minute: str
    connection_fee: str
    first_increment: int
    next_increment: int
    valid_from: date
    valid_until: date | None


class RatesOut(BaseModel):
    items: list[RateOut]
    destinations: list[str]


def rate_out(row) -> RateOut:  # type: ignore[no-untyped-def]
    return RateOut(
        plan=row.plan,
        destination=row.destination,
        per_minute=f"{row.per_minute:.4f}",
        connection_fee=f"{row.connection_fee:.4f}",
        first_increment=row.first_increment,
        next_increment=row.next_increment,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


@router.get("/backoffice/consumption/rates", response_model=RatesOut, summary="Rate tables")
def list_rates(
    platform: Platform = Depends(get_platform), staff: Account = Depends(current_staff)
) -> RatesOut:
    with platform.session() as session:
        return RatesOut(
            items=[rate_out(r) for r in actions.rates(session)],
            destinations=list(rules.DESTINATIONS),
        )


@router.post(
    "/backoffice/consumption/rates", response_model=RateOut, status_code=201, summary="New rate"
)
def add_rate(
    body: RateIn,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> RateOut:
    with platform.transaction() as session:
        row = actions.set_rate(session, actor=f"account:{staff.id}", **body.model_dump())
        return rate_out(row)


class RerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    explanation: str = Field(min_length=3, max_length=300)


class RerateOut(BaseModel):
    month: str
    lines: int
    groups_adjusted: int
    difference: MoneyOut


@router.post("/backoffice/consumption/rerating", response_model=RerateOut, summary="Re-rate")
def replace_month_ratings(
    body: RerateIn,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> RerateOut:
    month = _month_path(body.month)
    with platform.transaction() as session:
        result = actions.rerate_month(
            session, platform, month, body.explanation, f"account:{staff.id}"
        )
    return RerateOut(
        month=body.month,
        lines=result.lines,
        groups_adjusted=result.groups_changed,
        difference=money(actions.amount_of_cents(result.difference_cents)),
    )


class ImportOut(BaseModel):
    read: int
    stored: int
    already_known: int


@router.post(
    "/backoffice/consumption/imports",
    response_model=ImportOut,
    summary="Import call records (a CSV file, format in the README)",
)
async def upload_call_records(
    file: UploadFile = File(..., description="CSV file of call records"),
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> ImportOut:
    import io

    body = (await file.read()).decode("utf-8-sig", errors="replace")
    calls = list(importer.read_calls(io.StringIO(body)))  # every line checked first
    result = importer.import_calls(platform, calls)
    services.rate_everything_pending(platform)
    return ImportOut(read=result.read, stored=result.stored, already_known=result.already_known)
