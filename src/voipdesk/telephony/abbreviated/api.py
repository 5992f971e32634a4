"""REST API of abbreviated numbers: per billing group and per line."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.telephony.abbreviated import actions, queries
from voipdesk.telephony.aliases.api import number_of

router = APIRouter(tags=["telephony"])


class AbbreviatedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=10,
        description="group: 3 or 4 digits starting with 7; line: starting with 2",
        examples=["7001"],
    )
    name: str = Field(min_length=1, max_length=60, examples=["Reception"])
    destination: str = Field(max_length=40, description="E.164 or national number")


class AbbreviatedOut(BaseModel):
    id: str
    scope: Literal["group", "line"]
    line: str | None
    code: str
    name: str
    destination: str
    created_at: datetime
    warnings: list[str] = Field(
        default_factory=list, description="accepted, but read this (in the caller's language)"
    )


class AbbreviatedPage(Page[AbbreviatedOut]):
    pass


def _out(view: actions.AbbreviatedView, language: str) -> AbbreviatedOut:
    return AbbreviatedOut(
        id=view.id,
        scope=view.scope,  # type: ignore[arg-type]
        line=view.line,
        code=view.code,
        name=view.name,
        destination=view.destination,
        created_at=view.created_at,
        warnings=[gettext(language, w) for w in view.warnings],
    )


def _page(rows: list[actions.AbbreviatedView], page: PageParams, language: str) -> AbbreviatedPage:
    shown, next_cursor = paginate(rows, key=lambda a: (a.code, a.id), page=page)
    return AbbreviatedPage(items=[_out(a, language) for a in shown], next_cursor=next_cursor)


GROUP = "/telephony/{group}/abbreviated-numbers"
LINE = "/telephony/{group}/lines/{number}/abbreviated-numbers"


@router.get(GROUP, response_model=AbbreviatedPage)
def list_group(
    request: Request,
    group: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AbbreviatedPage:
    with platform.session() as session:
        rows = queries.group_abbreviated(session, account.id, group)
    return _page(rows, page, request_language(request))


@router.post(GROUP, response_model=AbbreviatedOut, status_code=201)
def add_group_abbreviated_number(
    request: Request,
    group: str,
    body: AbbreviatedIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AbbreviatedOut:
    """Dialled from any line of the group (except Découverte lines)."""
    with platform.transaction() as session:
        view = actions.add(
            session,
            platform,
            account.id,
            group,
            code=body.code,
            name=body.name,
            destination=body.destination,
            actor=account.id,
        )
    return _out(view, request_language(request))


@router.delete(f"{GROUP}/{{code}}", status_code=204)
def remove_group_abbreviated_number(
    group: str,
    code: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.remove(session, platform, account.id, group, code, account.id)
    return Response(status_code=204)


@router.get(LINE, response_model=AbbreviatedPage)
def list_line(
    request: Request,
    group: str,
    number: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AbbreviatedPage:
    with platform.session() as session:
        rows = queries.line_abbreviated(session, account.id, group, number_of(number))
    return _page(rows, page, request_language(request))


@router.post(LINE, response_model=AbbreviatedOut, status_code=201)
def add_line_abbreviated_number(
    request: Request,
    group: str,
    number: str,
    body: AbbreviatedIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AbbreviatedOut:
    """Dialled from this line only."""
    with platform.transaction() as session:
        view = actions.add(
            session,
            platform,
            account.id,
            group,
            code=body.code,
            name=body.name,
            destination=body.destination,
            actor=account.id,
            line=number_of(number),
        )
    return _out(view, request_language(request))


@router.delete(f"{LINE}/{{code}}", status_code=204)
def remove_line_abbreviated_number(
    group: str,
    number: str,
    code: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.remove(
            session, platform, account.id, group, code, account.id, line=number_of(number)
        )
    return Response(status_code=204)
