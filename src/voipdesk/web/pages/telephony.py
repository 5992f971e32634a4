"""Customer-space pages of a line's telephony: the "Calls management" tab (SIP account, forwarding,
call settings, restrictions, options, history) and the "Voicemail" tab, and the star-codes help.

They call the same use cases as the API and the phone (`voipdesk.telephony.actions`); a refusal
shows the page again with its translated reason, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from voipdesk.accounts.models import Account
from voipdesk.catalogue.queries import national_format
from voipdesk.core.errors import DomainError, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import errors, rules
from voipdesk.telephony.actions import credentials, lines, options, voicemail
from voipdesk.telephony.api.schemas import path_number
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import redirect, render, run_use_case

router = APIRouter()
LINE = "/telephony/{group_id}/lines/{number}"


def _base(group_id: str, number: str) -> str:
    return f"/telephony/{group_id}/lines/{quote(path_number(number))}"


def _labels(table: dict[str, str], language: str) -> list[tuple[str, str]]:
    return [(code, gettext(language, label)) for code, label in table.items()]


def _actor_label(handles: dict[str, str], actor: str, language: str) -> str:
    """Who made a change, as the customer reads it: an account's handle, the phone, an order."""
    kind, _, name = actor.partition(":")
    if kind == "account":
        return handles.get(name, name)
    if kind == "phone":
        return gettext(language, "The phone (star code)")
    if kind == "order":
        return gettext(language, "Purchase order")
    if kind == "staff":
        return gettext(language, "Our staff")
    if actor == "payments":
        return gettext(language, "The payment provider")
    return gettext(language, "The platform") if actor in ("renewal", "order") else actor


def _line_context(
    platform: Platform, account: Account, group_id: str, number: str, language: str
) -> dict[str, Any]:
    e164 = path_number(number)
    with platform.session() as session:
        view = lines.get_line(session, account.id, group_id, e164)
        sip = credentials.sip_account(session, platform, account.id, group_id, e164)
        line_options = options.list_options(session, platform, account.id, group_id, e164, language)
        history = subscriptions.history(session, view.service_id, limit=20)
        mailbox = voicemail.get_voicemail(session, account.id, group_id, e164)
        ids = {
            actor.split(":", 1)[1] for _i, _a, actor, _w in history if actor.startswith("account:")
        }
        session_handles = dict(
            session.execute(select(Account.id, Account.handle).where(Account.id.in_(ids))).all()
        )
    return {
        "line": view,
        "number": e164,
        "national": national_format(e164),
        "group_id": group_id,
        "base": _base(group_id, e164),
        "sip": sip,
        "options": [
            {
                "code": o.code,
                "label": o.label,
                "monthly": Money(o.monthly_excl_tax),
                "on_line": o.on_line,
                "ends": o.ends_at_renewal,
            }
            for o in line_options
        ],
        "history": [
            {"at": at, "actor": _actor_label(session_handles, actor, language), "what": what}
            for _id, at, actor, what in history
        ],
        "mailbox": mailbox,
        "conditions": _labels(rules.CONDITION_LABELS, language),
        "targets": _labels(rules.TARGET_LABELS, language),
        "caller_ids": _labels(rules.CALLER_ID_LABELS, language),
        "list_modes": _labels(rules.LIST_MODE_LABELS, language),
        "greetings": _labels(rules.GREETING_LABELS, language),
        "notifications": _labels(rules.EMAIL_NOTIFICATION_LABELS, language),
        "delay_min": rules.NO_ANSWER_DELAY_MIN,
        "delay_max": rules.NO_ANSWER_DELAY_MAX,
        "delay_default": rules.NO_ANSWER_DELAY_DEFAULT,
        "national_format": national_format,
    }


def _act(
    request: Request,
    platform: Platform,
    account: Account,
    group_id: str,
    number: str,
    action: Callable[[Any], Any],
    success: str,
    tab: str,
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> Response:
    """Runs one use case in one transaction: a redirect with what happened, or the page again
    with the refusal (nothing stored)."""
    template = "telephony/calls.html" if tab == "calls" else "telephony/voicemail.html"

    def again(_error: DomainError, language: str) -> tuple[str, dict[str, Any]]:
        context = _line_context(platform, account, group_id, number, language)
        if tab == "voicemail":
            _with_messages(context, platform, account, group_id, number)
        context["form"] = request.query_params.get("form", "")
        return template, context

    def done(result: Any, language: str) -> Response:
        if extra is None:
            return redirect(request, f"{_base(group_id, number)}/{tab}", gettext(language, success))
        context = _line_context(platform, account, group_id, number, language)
        context.update(extra(result))
        return render(request, template, context)

    return run_use_case(
        request,
        platform,
        action,
        done,
        again,
        lambda error: isinstance(error, NotFound) and not isinstance(error, errors.OptionNotOnLine),
    )


# --- Calls management ----------------------------------------------------------------------------
@router.get(f"{LINE}/calls", response_class=HTMLResponse)
def calls_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _line_context(platform, account, group_id, number, request_language(request))
    return render(request, "telephony/calls.html", context)


@router.post(f"{LINE}/calls/sip-password")
def sip_password_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    response = _act(
        request, platform, account, group_id, number,
        lambda s: credentials.reset_sip_password(s, platform, account.id, group_id, e164),
        "", "calls",
        extra=lambda made: {"new_password": made.password},
    )  # fmt: skip
    return response


@router.post(f"{LINE}/calls/forwarding/{{condition}}")
def forward_page(
    group_id: str,
    number: str,
    condition: str,
    request: Request,
    target: str = Form(""),
    to_number: str = Form("", alias="number"),
    line_number: str = Form(""),
    delay: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    if target == "off":
        return _act(
            request, platform, account, group_id, number,
            lambda s: lines.clear_forward(s, platform, account.id, group_id, e164, condition),
            "The forward is off.", "calls",
        )  # fmt: skip
    destination = line_number if target == rules.TARGET_LINE else to_number
    seconds = int(delay) if delay.strip().isdigit() else None
    return _act(
        request, platform, account, group_id, number,
        lambda s: lines.set_forward(
            s, platform, account.id, group_id, e164, condition, target, destination or None, seconds
        ),
        "The forward is on.", "calls",
    )  # fmt: skip


def _checked(value: str) -> bool:
    return value in ("true", "on", "1")


@router.post(f"{LINE}/calls/settings")
def call_settings_page(
    group_id: str,
    number: str,
    request: Request,
    do_not_disturb: str = Form(""),
    reject_anonymous: str = Form(""),
    caller_id: str = Form(rules.CALLER_ID_LINE),
    caller_id_number: str = Form(""),
    blocked_callers: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    changes = {
        "do_not_disturb": _checked(do_not_disturb),
        "reject_anonymous": _checked(reject_anonymous),
        "caller_id": caller_id,
        "caller_id_number": caller_id_number or None,
        "blocked_callers": _entries(blocked_callers),
    }
    return _act(
        request, platform, account, group_id, number,
        lambda s: lines.update_settings(
            s, platform, account.id, group_id, path_number(number), changes
        ),
        "The call settings are saved.", "calls",
    )  # fmt: skip


def _entries(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


@router.post(f"{LINE}/calls/restrictions")
def restrictions_page(
    group_id: str,
    number: str,
    request: Request,
    block_outgoing: str = Form(""),
    block_international: str = Form(""),
    block_premium: str = Form(""),
    number_list_mode: str = Form(rules.LIST_NONE),
    number_list: str = Form(""),
    allowed_ips: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    changes = {
        "block_outgoing": _checked(block_outgoing),
        "block_international": _checked(block_international),
        "block_premium": _checked(block_premium),
        "number_list_mode": number_list_mode,
        "number_list": _entries(number_list),
        "allowed_ips": _entries(allowed_ips),
    }
    return _act(
        request, platform, account, group_id, number,
        lambda s: lines.update_settings(
            s, platform, account.id, group_id, path_number(number), changes
        ),
        "The restrictions are saved.", "calls",
    )  # fmt: skip


@router.post(f"{LINE}/calls/options")
def order_option_page(
    group_id: str,
    number: str,
    request: Request,
    option: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    try:
        with platform.transaction() as session:
            order = options.order_option(
                session, platform, account.id, group_id, path_number(number), option
            )
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        context = _line_context(platform, account, group_id, number, language)
        context["error"] = error.detail(language)
        return render(request, "telephony/calls.html", context, status=error.status)
    message = gettext(
        language,
        "Purchase order %(order)s made: the line has the option once it is paid.",
        order=order.order_number,
    )
    return redirect(request, f"/orders/{order.order_id}", message)


@router.post(f"{LINE}/calls/options/{{option}}/remove")
def remove_option_page(
    group_id: str,
    number: str,
    option: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _act(
        request, platform, account, group_id, number,
        lambda s: options.remove_option(
            s, platform, account.id, group_id, path_number(number), option
        ),
        "The option ends at the next renewal; you can cancel this until then in Pending changes.",
        "calls",
    )  # fmt: skip


# --- Voicemail -----------------------------------------------------------------------------------
@router.get(f"{LINE}/voicemail", response_class=HTMLResponse)
def voicemail_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    context = _line_context(platform, account, group_id, number, language)
    _with_messages(context, platform, account, group_id, number)
    return render(request, "telephony/voicemail.html", context)


def _with_messages(
    context: dict[str, Any], platform: Platform, account: Account, group_id: str, number: str
) -> dict[str, Any]:
    context["messages"] = _messages(platform, account, group_id, number)
    return context


def _messages(platform: Platform, account: Account, group_id: str, number: str) -> list[Any]:
    from voipdesk.core.pagination import PageParams

    with platform.session() as session:
        items, _next = voicemail.list_messages(
            session, account.id, group_id, path_number(number), PageParams(limit=200, cursor=None)
        )
    return items


@router.post(f"{LINE}/voicemail/settings")
def voicemail_settings_page(
    group_id: str,
    number: str,
    request: Request,
    enabled: str = Form(""),
    greeting: str = Form(rules.GREETING_STANDARD),
    greeting_name: str = Form(""),
    pin: str = Form(""),
    email_notification: str = Form(rules.EMAIL_WITH_AUDIO),
    delete_after_email: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    changes: dict[str, Any] = {
        "enabled": _checked(enabled),
        "greeting": greeting,
        "greeting_name": greeting_name,
        "email_notification": email_notification,
        "delete_after_email": _checked(delete_after_email),
    }
    if pin:
        changes["pin"] = pin
    return _act(
        request, platform, account, group_id, number,
        lambda s: voicemail.update_voicemail(
            s, platform, account.id, group_id, path_number(number), changes
        ),
        "The voicemail settings are saved.", "voicemail",
    )  # fmt: skip


@router.post(f"{LINE}/voicemail/greeting")
async def greeting_upload_page(
    group_id: str,
    number: str,
    request: Request,
    greeting_file: UploadFile = File(...),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = await greeting_file.read(rules.GREETING_MAX_BYTES + 1)
    content_type = greeting_file.content_type or ""
    filename = greeting_file.filename or ""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        _act,
        request, platform, account, group_id, number,
        lambda s: voicemail.upload_greeting(
            s, platform, account.id, group_id, path_number(number), data, content_type, filename
        ),
        "The recording is now the greeting.", "voicemail",
    )  # fmt: skip


@router.get(f"{LINE}/voicemail/greeting.wav")
def greeting_audio_page(
    group_id: str,
    number: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        audio = voicemail.greeting_audio(
            session, platform, account.id, group_id, path_number(number)
        )
    if not audio:
        raise NotFound()
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "no-store"})


@router.get(f"{LINE}/voicemail/messages/{{message_id}}/audio")
def message_audio_page(
    group_id: str,
    number: str,
    message_id: str,
    download: bool = False,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        audio, content_type = voicemail.message_audio(
            session, platform, account.id, group_id, path_number(number), message_id
        )
    headers = {"Cache-Control": "no-store"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="voicemail-{message_id}.wav"'
    return Response(audio, media_type=content_type, headers=headers)


@router.post(f"{LINE}/voicemail/messages/{{message_id}}/{{operation}}")
def message_action_page(
    group_id: str,
    number: str,
    message_id: str,
    operation: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    operations: dict[str, tuple[Callable[[Any], Any], str]] = {
        "read": (
            lambda s: voicemail.mark_message(
                s, platform, account.id, group_id, e164, message_id, True
            ),
            "The message is marked read.",
        ),
        "unread": (
            lambda s: voicemail.mark_message(
                s, platform, account.id, group_id, e164, message_id, False
            ),
            "The message is marked unread.",
        ),
        "delete": (
            lambda s: voicemail.delete_message(s, platform, account.id, group_id, e164, message_id),
            "The message is deleted.",
        ),
    }
    if operation not in operations:
        raise NotFound()
    action, success = operations[operation]
    return _act(request, platform, account, group_id, number, action, success, "voicemail")


# --- Help ----------------------------------------------------------------------------------------
@router.get("/help/star-codes", response_class=HTMLResponse)
def star_codes_page(
    request: Request,
    account: Account = Depends(require_account),
) -> Response:
    language = request_language(request)
    return render(
        request,
        "telephony/star_codes.html",
        {
            "codes": [(code.pattern, gettext(language, code.label)) for code in rules.STAR_CODES],
            "voicemail_number": rules.VOICEMAIL_NUMBER,
        },
    )
