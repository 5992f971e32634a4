"""REST API of portability: the customer's requests of a billing group, and the back office's
timeline moves. Same use cases as the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.telephony.portability import actions, queries, rules

router = APIRouter(tags=["telephony"])

Country = Literal["FR", "BE", "CH"]
HolderKind = Literal["individual", "company"]
Step = Literal[
    "form_sent",
    "received",
    "validated",
    "sent_to_operator",
    "acknowledged",
    "final_report",
    "activated",
    "failed",
    "cancelled",
]


class PortabilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Country
    numbers: list[str] = Field(min_length=1, max_length=rules.MAX_NUMBERS, examples=[["0145..."]])
    current_operator: str = Field(max_length=80)
    rio: str | None = Field(
        None, max_length=20, description="France: the RIO of the line (dial 3179 from it)"
    )
    donor_reference: str | None = Field(
        None, max_length=60, description="Belgium, Switzerland: customer number at the operator"
    )
    holder_kind: HolderKind
    holder_name: str = Field(max_length=140)
    registration_number: str | None = Field(
        None, max_length=30, description="a company's SIREN (FR), enterprise number (BE), UID (CH)"
    )
    desired_date: date | None = Field(None, description="a business day; none: as soon as possible")
    destination_line: str | None = Field(
        None, max_length=20, description="a line of the group the numbers will redirect to"
    )
    destination_configuration: str | None = Field(
        None,
        max_length=20,
        description="or a configured alias number of the group whose configuration they will copy",
    )


class DateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desired_date: date | None = Field(description="none: as soon as possible")


class EventOut(BaseModel):
    step: Step
    label: str
    at: datetime
    actor: str
    note: str | None


class FailureOut(BaseModel):
    reason: str
    label: str
    what_to_do: str
    details: str | None


class PortabilityOut(BaseModel):
    id: str
    reference: str
    country: Country
    numbers: list[str]
    current_operator: str
    rio: str | None
    donor_reference: str | None
    holder_kind: HolderKind
    holder_name: str
    registration_number: str | None
    desired_date: date | None
    destination_line: str | None
    destination_configuration: str | None
    step: Step
    step_label: str
    ongoing: bool
    changeable: bool = Field(description="may still be cancelled or its date changed")
    failure: FailureOut | None
    created_at: datetime
    activated_at: datetime | None
    timeline: list[EventOut]


class PortabilityPage(Page[PortabilityOut]):
    pass


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal[
        "received", "validated", "sent_to_operator", "acknowledged", "final_report", "activated"
    ]


class FailureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal[
        "rio_mismatch",
        "holder_mismatch",
        "line_terminated",
        "number_not_portable",
        "missing_documents",
        "other",
    ]
    details: str | None = Field(None, max_length=1000)


def portability_out(view: actions.PortabilityView, language: str) -> PortabilityOut:
    failure = None
    if view.step == rules.FAILED and view.failure_reason in rules.FAILURE_REASONS:
        found = rules.FAILURE_REASONS[view.failure_reason]
        failure = FailureOut(
            reason=found.code,
            label=gettext(language, found.label),
            what_to_do=gettext(language, found.what_to_do),
            details=view.failure_details,
        )
    return PortabilityOut(
        id=view.id,
        reference=view.reference,
        country=view.country,  # type: ignore[arg-type]
        numbers=view.numbers,
        current_operator=view.current_operator,
        rio=view.rio,
        donor_reference=view.donor_reference,
        holder_kind=view.holder_kind,  # type: ignore[arg-type]
        holder_name=view.holder_name,
        registration_number=view.registration_number,
        desired_date=view.desired_date,
        destination_line=view.destination_line,
        destination_configuration=view.destination_configuration,
        step=view.step,  # type: ignore[arg-type]
        step_label=gettext(language, rules.STEP_LABELS[view.step]),
        ongoing=view.ongoing,
        changeable=view.changeable,
        failure=failure,
        created_at=view.created_at,
        activated_at=view.activated_at,
        timeline=[
            EventOut(
                step=e.step,  # type: ignore[arg-type]
                label=gettext(language, rules.STEP_LABELS[e.step]),
                at=e.at,
                actor=e.actor,
                note=e.note,
            )
            for e in view.events
        ],
    )


def request_of(body: PortabilityIn) -> actions.PortabilityRequest:
    return actions.PortabilityRequest(
        country=body.country,
        numbers=body.numbers,
        current_operator=body.current_operator,
        holder_kind=body.holder_kind,
        holder_name=body.holder_name,
        rio=body.rio,
        donor_reference=body.donor_reference,
        registration_number=body.registration_number,
        desired_date=body.desired_date,
        destination_line=body.destination_line,
        destination_configuration=body.destination_configuration,
    )


def _page(rows: list[actions.PortabilityView], page: PageParams, language: str) -> PortabilityPage:
    shown, next_cursor = paginate(rows, key=lambda p: (p.created_at.isoformat(), p.id), page=page)
    return PortabilityPage(
        items=[portability_out(p, language) for p in shown], next_cursor=next_cursor
    )


GROUP = "/telephony/{group}/portabilities"


@router.get(GROUP, response_model=PortabilityPage)
def list_portabilities(
    request: Request,
    group: str,
    ongoing: bool = False,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PortabilityPage:
    """The group's portability requests, newest first (`ongoing=true`: those not finished)."""
    with platform.session() as session:
        rows = queries.group_portabilities(session, account.id, group, ongoing_only=ongoing)
    return _page(rows, page, request_language(request))


@router.post(GROUP, response_model=PortabilityOut, status_code=201)
def request_portability(
    request: Request,
    group: str,
    body: PortabilityIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PortabilityOut:
    """Ports numbers in from another operator (France, Belgium, Switzerland). Refused, nothing
    stored: a bad RIO or registration number, a date in the past or too soon, a number already
    ours or already being ported."""
    with platform.transaction() as session:
        view = actions.request_portability(
            session, platform, account.id, group, request_of(body), f"account:{account.id}"
        )
    return portability_out(view, request_language(request))


@router.get(f"{GROUP}/{{portability_id}}", response_model=PortabilityOut)
def get_portability(
    request: Request,
    group: str,
    portability_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PortabilityOut:
    with platform.session() as session:
        view = queries.portability(session, account.id, group, portability_id)
    return portability_out(view, request_language(request))


@router.post(f"{GROUP}/{{portability_id}}/cancel", response_model=PortabilityOut)
def cancel_portability(
    request: Request,
    group: str,
    portability_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PortabilityOut:
    """Until the request is sent to the operator."""
    with platform.transaction() as session:
        view = actions.cancel(
            session, platform, account.id, group, portability_id, f"account:{account.id}"
        )
    return portability_out(view, request_language(request))


@router.put(f"{GROUP}/{{portability_id}}/desired-date", response_model=PortabilityOut)
def change_portability_date(
    request: Request,
    group: str,
    portability_id: str,
    body: DateIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PortabilityOut:
    """Until the request is sent to the operator."""
    with platform.transaction() as session:
        view = actions.change_date(
            session,
            platform,
            account.id,
            group,
            portability_id,
            body.desired_date,
            f"account:{account.id}",
        )
    return portability_out(view, request_language(request))


# --- Back office ---------------------------------------------------------------------------------
STAFF = "/backoffice/portabilities"


@router.get(STAFF, response_model=PortabilityPage, tags=["back office"])
def list_staff_portabilities(
    request: Request,
    step: Step | None = None,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PortabilityPage:
    """Ongoing requests, oldest first (or those at one step)."""
    with platform.session() as session:
        rows = queries.staff_portabilities(session, step)
    return _page(rows, page, request_language(request))


@router.post(
    f"{STAFF}/{{portability_id}}/steps", response_model=PortabilityOut, tags=["back office"]
)
def move_portability(
    request: Request,
    portability_id: str,
    body: StepIn,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PortabilityOut:
    """Moves the request to its next step (a failed one resumes at `received`); `activated` makes
    the numbers alias numbers of the group."""
    with platform.transaction() as session:
        view = actions.advance(session, platform, portability_id, body.to, f"staff:{staff.id}")
    return portability_out(view, request_language(request))


@router.post(
    f"{STAFF}/{{portability_id}}/failure", response_model=PortabilityOut, tags=["back office"]
)
def record_portability_failure(
    request: Request,
    portability_id: str,
    body: FailureIn,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PortabilityOut:
    """Records the failure: the customer gets an SMS and an e-mail with the reason and what to
    do."""
    with platform.transaction() as session:
        view = actions.fail(
            session, platform, portability_id, body.reason, body.details, f"staff:{staff.id}"
        )
    return portability_out(view, request_language(request))
