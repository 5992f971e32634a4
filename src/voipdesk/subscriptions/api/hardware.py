"""Back-office routes of lent hardware coming back."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from voipdesk.accounts.api_auth import current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.api.common import (
    loan_out,
)
from voipdesk.subscriptions.api.schemas import (
    HardwareLoanOut,
    HardwareLoanPage,
)

router = APIRouter()


@router.get("/backoffice/hardware-returns", response_model=HardwareLoanPage, tags=["back office"])
def list_hardware_returns(
    state: str = Query(rules.LOAN_RETURN_OPENED),
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> HardwareLoanPage:
    from sqlalchemy import select

    from voipdesk.subscriptions.models import PhoneLoan

    with platform.session() as session:
        loans = session.scalars(select(PhoneLoan).where(PhoneLoan.state == state))
        shown, next_cursor = paginate(
            loans, key=lambda loan: (str(loan.return_due_on or ""), loan.id), page=page
        )
        return HardwareLoanPage(items=[loan_out(loan) for loan in shown], next_cursor=next_cursor)


@router.post(
    "/backoffice/hardware-returns/{loan_id}/received",
    response_model=HardwareLoanOut,
    tags=["back office"],
)
def hardware_received(
    loan_id: str,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> HardwareLoanOut:
    with platform.transaction() as session:
        return loan_out(actions.record_hardware_received(session, platform, loan_id, staff.id))
