"""Page rendering: one Jinja2 environment, the page language, flash messages, error pages.

Every template gets `_` and `ngettext` (bound to the page language), the `money`, `date`,
`datetime` and `phone` filters (dates in the reader's locale and time zone, without seconds),
`csrf_field()`, `csrf_token`, `current_account`, `settings`, `language`, `timezone`, `request`,
`path`, `query_url(...)`, `labels` (code -> translated label, see `voipdesk.web.labels`) and
`flashes`; the design system's macros are in `templates/ui.html`. French pages get French
typography (a narrow no-break space before « : ; ? ! », inside « »). Pages call `render`,
`redirect` (with an optional flash message) and `form_errors`; a DomainError a page does not catch
becomes `error_page`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_datetime as babel_format_datetime
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from voipdesk.core.errors import DomainError
from voipdesk.core.http import LANGUAGE_COOKIE, platform_of, request_language
from voipdesk.core.i18n import (
    babel_locale,
    format_date,
    language_from_accept,
    normalise_language,
    plural_translator,
    translator,
)
from voipdesk.core.money import Money
from voipdesk.web.csrf import csrf_field, csrf_token, set_csrf_cookie
from voipdesk.web.sessions import load_session

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
FLASH_COOKIE = "voipdesk_flash"


# --- the page language ------------------------------------------------------------------------
def page_language(request: Request) -> str:
    """The page language: the header switch (its cookie), else the account's language when logged
    in, else Accept-Language. The switch never changes the account's e-mail language."""
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in ("fr", "en"):
        return cookie
    current = load_session(request)
    if current is not None and not current.pending_second_factor:
        return normalise_language(current.account.language)
    return language_from_accept(request.headers.get("accept-language"))


# --- the reader's time zone ---------------------------------------------------------------------
# Where each customer country lives; staff and visitors see the operator's own time zone.
COUNTRY_TIMEZONES = {
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "CA-QC": "America/Toronto",
}


def reader_timezone(account: Any, default: str) -> str:
    if account is None or getattr(account, "is_staff", False):
        return default
    return COUNTRY_TIMEZONES.get(getattr(account, "country", ""), default)


# --- filters ----------------------------------------------------------------------------------
def long_date(value: date, language: str) -> str:
    """ "1er décembre 2026" / "1 December 2026": the long date, with French ordinals."""
    text = format_date(value, language)
    if language == "fr" and value.day == 1:
        text = "1er" + text[1:]
    return text


def date_time(value: datetime, language: str, timezone: str) -> str:
    """A date and a time in the reader's time zone, without seconds."""
    from zoneinfo import ZoneInfo

    local = value.astimezone(ZoneInfo(timezone)) if value.tzinfo else value
    time_text = babel_format_datetime(local, "HH:mm", locale=babel_locale(language))
    if language == "fr":
        return f"{long_date(local.date(), language)} à {time_text}"
    return f"{long_date(local.date(), language)}, {time_text}"


@pass_context
def _money(context: Any, value: Money | None) -> str:
    return "" if value is None else value.format(context.get("language", "fr"))


@pass_context
def _date(context: Any, value: date | datetime | None) -> str:
    if value is None:
        return ""
    language = context.get("language", "fr")
    if isinstance(value, datetime):
        return long_date(_local(value, context.get("timezone") or "Europe/Paris").date(), language)
    return long_date(value, language)


@pass_context
def _datetime(context: Any, value: datetime | None) -> str:
    if value is None:
        return ""
    return date_time(value, context.get("language", "fr"), context.get("timezone") or "UTC")


def phone(value: str | None, style: str = "national") -> str:
    """An E.164 number as people write it: national format by default (as pages show numbers)."""
    if not value:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    formats = {
        "national": phonenumbers.PhoneNumberFormat.NATIONAL,
        "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    }
    return phonenumbers.format_number(number, formats.get(style, formats["national"]))


def _local(value: datetime, timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(timezone)) if value.tzinfo else value


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "svg"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(money=_money, date=_date, datetime=_datetime, phone=phone)


@pass_context
def query_url(context: Any, **changes: Any) -> str:
    """This page's path with its query string changed (None removes a parameter): sort headers,
    filters and pages keep the other parameters. A change of filter or sort drops the cursor; on a
    page of several lists, a change of `x_sort` drops `x_cursor` too, and keeps the other lists'."""
    request = context["request"]
    params = dict(request.query_params)
    if "cursor" not in changes:
        params.pop("cursor", None)
    for key in changes:
        if key.endswith("_sort") and f"{key[:-5]}_cursor" not in changes:
            params.pop(f"{key[:-5]}_cursor", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def _tone(family: str, code: str | None) -> str:
    from voipdesk.web.labels import tone

    return tone(family, code)


environment.globals.update(query_url=query_url, tone=_tone)

# French typography: a narrow no-break space before the high punctuation and inside guillemets,
# in the page's text only: never inside a tag (attribute values are data a form sends back) nor in
# <textarea>, <pre>, <script> or <style>.
_FRENCH_SPACE = re.compile(r"(?<=[^\s<>])[ \u00a0]([:;?!»])(?=\s|&|$)")
_FRENCH_SPACE_GUILLEMET = re.compile(r"«[ \u00a0]")
_TAG = re.compile(r"(<[^>]*>)")
_RAW_TEXT = re.compile(r"<(/?)(textarea|pre|script|style)\b", re.IGNORECASE)


def _typeset(text: str) -> str:
    text = _FRENCH_SPACE.sub(lambda match: "\u202f" + match.group(1), text)
    return _FRENCH_SPACE_GUILLEMET.sub("«\u202f", text)


def french_typography(html: str) -> str:
    parts = _TAG.split(html)
    raw_depth = 0
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            raw = _RAW_TEXT.match(part)
            if raw:
                raw_depth = max(0, raw_depth + (-1 if raw.group(1) else 1))
        elif part and not raw_depth:
            parts[index] = _typeset(part)
    return "".join(parts)


# --- flash messages (a signed cookie read by the next page) -------------------------------------
def _flash_signature(request: Request, payload: str) -> str:
    key = platform_of(request).settings.secret_key.encode()
    return hmac.new(key, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:32]


def flash(request: Request, response: Response, message: str, level: str = "success") -> None:
    """Shows `message` (already translated) on the next page this browser renders."""
    pending = [*_read_flashes(request), {"level": level, "message": message}]
    payload = base64.urlsafe_b64encode(json.dumps(pending[-5:]).encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{_flash_signature(request, payload)}",
        path="/",
        secure=platform_of(request).settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = raw.rpartition(".")
    if not payload or not hmac.compare_digest(signature, _flash_signature(request, payload)):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def redirect(request: Request, url: str, message: str | None = None) -> Response:
    """A 303 to `url` (for htmx, an HX-Redirect), optionally with a flash message."""
    if request.headers.get("HX-Request"):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if message:
        flash(request, response, message)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a login: never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- rendering --------------------------------------------------------------------------------
def template_context(request: Request, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    current = load_session(request)
    account = current.account if current is not None and not current.pending_second_factor else None
    language = page_language(request)
    settings = platform_of(request).settings
    from voipdesk.web.labels import translated_labels

    values: dict[str, Any] = {
        "request": request,
        "language": language,
        "_": translator(language),
        "ngettext": plural_translator(language),
        "labels": translated_labels(language),
        "timezone": reader_timezone(account, settings.timezone),
        "settings": settings,
        "current_account": account,
        "csrf_token": csrf_token(request),
        "csrf_field": lambda: csrf_field(request),
        "flashes": _read_flashes(request),
        "path": request.url.path,
    }
    values.update(context or {})
    return values


def render_fragment(
    request: Request, template: str, context: Mapping[str, Any] | None = None
) -> str:
    values = template_context(request, context)
    body = environment.get_template(template).render(values)
    return french_typography(body) if values["language"] == "fr" else body


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    values = template_context(request, context)
    body = environment.get_template(template).render(values)
    if values["language"] == "fr":
        body = french_typography(body)
    response = HTMLResponse(body, status_code=status, headers=dict(headers or {}))
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    set_csrf_cookie(request, response)
    if values["flashes"] and not request.headers.get("HX-Request"):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


# --- errors -----------------------------------------------------------------------------------
class LoginRequired(DomainError):
    """Raised by page dependencies: the error handler answers with a redirect to the login."""

    code = "not-authenticated"
    status = 401
    message = "Please log in first."

    def __init__(self, target: str = "/login") -> None:
        super().__init__()
        self.target = target


def error_page(request: Request, error: DomainError) -> Response:
    """The page for a DomainError a page did not handle itself."""
    if isinstance(error, LoginRequired):
        return redirect(request, error.target)
    language = page_language(request)
    headers = {}
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return render(
        request,
        "error.html",
        {
            "error": error,
            "title": _error_title(error, language),
            "detail": error.detail(language),
            "field_errors": error.field_errors(language),
        },
        status=error.status,
        headers=headers,
    )


def _error_title(error: DomainError, language: str) -> str:
    _ = translator(language)
    titles = {
        400: _("The request was refused."),
        401: _("Please log in first."),
        403: _("Access refused"),
        404: _("Page not found"),
        409: _("This conflicts with the current state."),
        410: _("This link can no longer be used"),
        422: _("Some fields are not valid."),
        429: _("Too many attempts"),
    }
    return titles.get(error.status, _("The request was refused."))


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


def form_errors(error: DomainError, language: str) -> dict[str, str]:
    """Field name -> translated rule, for showing each error next to its field."""
    return {item["field"]: item["message"] for item in error.field_errors(language)}


def run_use_case(
    request: Request,
    platform: Any,
    action: Callable[[Any], Any],
    done: Callable[[Any, str], Response],
    again: Callable[[DomainError, str], tuple[str, dict[str, Any]]],
    passes: Callable[[DomainError], bool] = lambda error: False,
) -> Response:
    """One use case of a page in one transaction: `done(result, language)` answers, or, when it is
    refused, its page again (`again` gives template and context) with the refusal beside the form
    and nothing stored. A refusal `passes` says is the whole page's (a 404) is raised as it is."""
    language = request_language(request)
    try:
        with platform.transaction() as session:
            result = action(session)
    except DomainError as error:
        if passes(error):
            raise
        template, context = again(error, language)
        context["error"] = error.detail(language)
        context["error_fields"] = form_errors(error, language)
        return render(request, template, context, status=error.status)
    return done(result, language)
