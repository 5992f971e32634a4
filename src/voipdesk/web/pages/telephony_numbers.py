"""Customer-space pages of alias number configurations and abbreviated numbers.

The editor is one form per configuration, without scripts: "Add a menu" and "Add a queue" send
the form back to show one more empty block (nothing is stored), "Save" calls the same action as
`PUT .../configuration`. A refusal shows the form again, as it was filled in, with the rule.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from voipdesk.accounts.models import Account
from voipdesk.core.errors import DomainError, InvalidInput, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.abbreviated import actions as abbreviated_actions
from voipdesk.telephony.abbreviated import queries as abbreviated_queries
from voipdesk.telephony.abbreviated import rules as abbreviated_rules
from voipdesk.telephony.aliases import actions, agents, queries, rules
from voipdesk.telephony.aliases.schemas import Configuration
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import redirect, render

router = APIRouter()
_CONFIGURATION = TypeAdapter(Configuration)
EDITABLE = (rules.REDIRECT, rules.QUEUE, rules.IVR, rules.CONTACT_CENTER, rules.CONFERENCE)


def _base(group_id: str, number: str) -> str:
    return f"/telephony/{group_id}/numbers/{quote(number)}/configuration"


# --- Reading a filled-in form back into a configuration -------------------------------------------
def _choice(form: FormData, prefix: str) -> dict[str, Any] | None:
    """A destination from its select (`line:+33...`, `queue:sales`, `submenu:m1`,
    `voicemail:+33...`, `number`, `message`) and its text field (the number or the message)."""
    value = str(form.get(f"{prefix}-action") or "")
    text = str(form.get(f"{prefix}-text") or "").strip()
    if not value:
        return None
    action, _, target = value.partition(":")
    if action == rules.TO_NUMBER:
        return {"action": action, "target": text or None}
    if action == rules.TO_MESSAGE:
        return {"action": action, "message": {"text": text} if text else None}
    return {"action": action, "target": target or None}


def _prompt(form: FormData, prefix: str) -> dict[str, Any] | None:
    audio_id = str(form.get(f"{prefix}-audio") or "")
    text = str(form.get(f"{prefix}-text") or "").strip()
    if audio_id:
        return {"audio_id": audio_id}
    if text:
        return {"text": text, "language": str(form.get(f"{prefix}-language") or "fr")}
    return None


def _int(form: FormData, name: str, default: int) -> int | str:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    return int(raw) if raw.isdigit() else raw  # pydantic names a bad value by its field


def _hours(form: FormData, prefix: str, country: str) -> dict[str, Any] | None:
    if not form.get(f"{prefix}-hours"):
        return None
    return {
        "timezone": "Europe/Paris",
        "periods": [
            {
                "days": [str(day) for day in form.getlist(f"{prefix}-days")],
                "start": str(form.get(f"{prefix}-start") or "09:00"),
                "end": str(form.get(f"{prefix}-end") or "18:00"),
            }
        ],
        "holidays_country": country if form.get(f"{prefix}-holidays") else None,
    }


def _queue(form: FormData, index: int, country: str) -> dict[str, Any]:
    prefix = f"queue-{index}"
    members = [{"kind": "line", "number": str(n)} for n in form.getlist(f"{prefix}-member")]
    for line in str(form.get(f"{prefix}-external") or "").splitlines():
        if line.strip():
            members.append({"kind": "number", "number": line.strip()})
    music = str(form.get(f"{prefix}-music") or rules.MUSIC_DEFAULT)
    kind, _, audio_id = music.partition(":")
    return {
        "id": str(form.get(f"{prefix}-id") or f"q{index + 1}"),
        "name": str(form.get(f"{prefix}-name") or "").strip(),
        "members": members,
        "strategy": str(form.get(f"{prefix}-strategy") or rules.RING_ALL),
        "ring_timeout": _int(form, f"{prefix}-ring_timeout", rules.DEFAULT_RING_TIMEOUT),
        "max_wait": _int(form, f"{prefix}-max_wait", rules.DEFAULT_MAX_WAIT),
        "music_on_hold": kind,
        "music_audio_id": audio_id or None,
        "overflow": _choice(form, f"{prefix}-overflow"),
        "opening_hours": _hours(form, prefix, country),
        "closed": _choice(form, f"{prefix}-closed"),
    }


def _menu(form: FormData, index: int) -> dict[str, Any]:
    prefix = f"menu-{index}"
    keys = []
    for key in rules.KEYS:
        choice = _choice(form, f"{prefix}-key-{key}")
        if choice is not None:
            keys.append({"key": key, **choice})
    return {
        "id": str(form.get(f"{prefix}-id") or ("main" if index == 0 else f"m{index}")),
        "name": str(form.get(f"{prefix}-name") or "").strip()
        or ("main" if index == 0 else f"m{index}"),  # unnamed: its identifier
        "prompt": _prompt(form, f"{prefix}-prompt"),
        "keys": keys,
    }


def _count(form: FormData, name: str, default: int, maximum: int) -> int:
    """How many menus or queues the form holds (a tampered count is brought back in range)."""
    raw = str(form.get(name) or "")
    count = int(raw) if raw.isdigit() else default
    return max(default, min(count, maximum))


def configuration_from_form(form: FormData, kind: str, country: str) -> dict[str, Any]:
    if kind == rules.REDIRECT:
        target = str(form.get("destination") or "")
        return {
            "type": kind,
            "destination": str(form.get("destination-text") or "").strip()
            if target == "other"
            else target,
            "present_alias": bool(form.get("present_alias")),
        }
    if kind == rules.QUEUE:
        return {"type": kind, "queue": _queue(form, 0, country)}
    if kind in rules.MENU_TYPES:
        menus = _count(form, "menus", 1, rules.MAX_MENUS + 1)
        queue_count = _count(form, "queues", 0, rules.MAX_QUEUES + 1)
        configuration: dict[str, Any] = {
            "type": kind,
            "greeting": _prompt(form, "greeting"),
            "root": "main",
            "menus": [_menu(form, i) for i in range(menus)],
            "queues": [_queue(form, j, country) for j in range(queue_count)],
            "opening_hours": _hours(form, "ivr", country),
            "closed": _choice(form, "ivr-closed"),
        }
        if kind == rules.CONTACT_CENTER:
            configuration["recording"] = bool(form.get("recording"))
        return configuration
    if kind == rules.CONFERENCE:
        return {
            "type": kind,
            "pin": str(form.get("pin") or "").strip() or None,
            "muted_on_entry": bool(form.get("muted_on_entry")),
            "recording": bool(form.get("recording")),
        }
    return {"type": rules.NONE}


# --- The editor's context -------------------------------------------------------------------------
def _labels(language: str, table: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, gettext(language, label)) for code, label in table.items()]


def _empty_menu(index: int, language: str = "en") -> dict[str, Any]:
    return {
        "id": "main" if index == 0 else f"m{index}",
        "name": "" if index else gettext(language, "Welcome"),
        "keys": [],
    }


def _empty_queue(index: int) -> dict[str, Any]:
    return {"id": f"q{index + 1}", "name": "", "members": []}


def _draft(kind: str, view: actions.ConfigurationView, language: str) -> dict[str, Any]:
    """What the editor shows for `kind`: the saved settings when it is the current type."""
    if view.kind == kind:
        return {"type": kind, **view.settings}
    if kind == rules.QUEUE:
        return {"type": kind, "queue": _empty_queue(0)}
    if kind in rules.MENU_TYPES:
        return {"type": kind, "menus": [_empty_menu(0, language)], "queues": []}
    return {"type": kind}


def _tree(settings: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """The IVR as a person follows it: from the first menu, each key to its destination, a
    submenu unfolded where it is first met (a key back to a menu already met says so)."""
    menus = {m["id"]: m for m in settings.get("menus") or []}
    queues = {q["id"]: q for q in settings.get("queues") or []}
    seen: set[str] = set()

    def node(menu_id: str) -> dict[str, Any]:
        seen.add(menu_id)
        menu = menus[menu_id]
        keys = []
        for choice in sorted(menu.get("keys") or [], key=lambda c: rules.KEYS.index(c["key"])):
            item: dict[str, Any] = {
                "key": choice["key"],
                "action": choice["action"],
                "label": gettext(language, rules.ACTION_LABELS[choice["action"]]),
                "target": choice.get("target"),
                "message": (choice.get("message") or {}).get("text"),
            }
            if choice["action"] == rules.TO_QUEUE and choice.get("target") in queues:
                item["queue"] = queues[choice["target"]]
            if choice["action"] == rules.TO_SUBMENU and choice.get("target") in menus:
                target = choice["target"]
                item["menu_name"] = menus[target].get("name") or target
                item["submenu"] = node(target) if target not in seen else None
            keys.append(item)
        return {
            "id": menu_id,
            "name": menu.get("name") or menu_id,
            "prompt": (menu.get("prompt") or {}).get("text"),
            "keys": keys,
        }

    root = settings.get("root") or rules.ROOT_MENU
    return [node(root)] if root in menus else []


def _context(
    platform: Platform,
    account: Account,
    group_id: str,
    number: str,
    kind: str | None,
    language: str,
    draft: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with platform.session() as session:
        view = queries.configuration(session, account.id, group_id, number)
        group = subscriptions.account_group(session, account.id, group_id)
        lines = [
            s.number
            for s in subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        ]
        audio = queries.audio_list(session, account.id, group_id, number)
        recordings = (
            queries.recordings(session, account.id, group_id, number)
            if view.kind == rules.CONTACT_CENTER
            else []
        )
    editing = kind if kind in EDITABLE else (view.kind if view.kind in EDITABLE else None)
    form = draft or (_draft(editing, view, language) if editing else {})
    return {
        "group": group,
        "number": view.number,
        "view": view,
        "current_label": gettext(language, rules.TYPE_LABELS[view.kind]),
        "editing": editing,
        "editing_label": gettext(language, rules.TYPE_LABELS[editing]) if editing else "",
        "needs_confirmation": editing is not None and rules.needs_confirmation(view.kind, editing),
        "form": form,
        "lines": lines,
        "audio": audio,
        "recordings": sorted(recordings, key=lambda r: r.started_at, reverse=True),
        "tree": _tree(view.settings, language) if view.kind in rules.MENU_TYPES else [],
        "types": [(code, gettext(language, rules.TYPE_LABELS[code])) for code in EDITABLE],
        "strategies": _labels(language, rules.STRATEGY_LABELS),
        "agent_statuses": _labels(language, rules.AGENT_STATUS_LABELS),
        "days": _labels(language, rules.DAY_LABELS),
        "keys": rules.KEYS,
        "star_codes": rules.AGENT_STAR_CODES,
        "base": _base(group_id, view.number),
        "choice_value": choice_value,
        "action_labels": {k: gettext(language, v) for k, v in rules.ACTION_LABELS.items()},
    }


def choice_value(destination: dict[str, Any] | None) -> tuple[str, str]:
    """The editor's select value and text field for a saved destination (see `_choice`)."""
    if not destination:
        return "", ""
    action = destination.get("action") or ""
    if action == rules.TO_NUMBER:
        return action, destination.get("target") or ""
    if action == rules.TO_MESSAGE:
        return action, (destination.get("message") or {}).get("text") or ""
    return f"{action}:{destination.get('target') or ''}", ""


def _number(value: str) -> str:
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


# --- Routes: the configuration editor -------------------------------------------------------------
@router.get("/telephony/{group_id}/numbers/{number}/configuration", response_class=HTMLResponse)
def configuration_page(
    group_id: str,
    number: str,
    request: Request,
    type: str | None = None,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    context = _context(platform, account, group_id, _number(number), type, language)
    return render(request, "telephony_numbers/configuration.html", context)


# A value pydantic refuses, by its kind, in words for the field it belongs to.
_VALUE_PROBLEMS = {
    "int_parsing": N_("A whole number."),
    "int_type": N_("A whole number."),
    "greater_than_equal": N_("At least %(ge)s."),
    "less_than_equal": N_("At most %(le)s."),
    "string_too_long": N_("Too long."),
    "string_pattern_mismatch": N_("Not in the expected format."),
    "missing": N_("Required."),
}


def _menu_field(draft: dict[str, Any], rest: list[Any]) -> str | None:
    """The form field of `menus.<i>...` (a key's choice is named by its key, not its place)."""
    if not rest or not isinstance(rest[0], int):
        return None
    index, tail = rest[0], rest[1:]
    if tail[:1] == ["name"]:
        return f"menu-{index}-name"
    if tail[:1] == ["prompt"]:
        return f"menu-{index}-prompt-text"
    if tail[:1] == ["keys"] and len(tail) > 1 and isinstance(tail[1], int):
        menus = draft.get("menus") or []
        keys = menus[index].get("keys") or [] if index < len(menus) else []
        if tail[1] < len(keys):
            return f"menu-{index}-key-{keys[tail[1]]['key']}-action"
    return None


def _queue_field(index: int, tail: list[Any]) -> str | None:
    prefix = f"queue-{index}"
    if not tail:
        return None
    head = tail[0]
    if head in ("name", "strategy", "ring_timeout", "max_wait"):
        return f"{prefix}-{head}"
    if head == "members":
        return f"{prefix}-member"
    if head in ("music_on_hold", "music_audio_id"):
        return f"{prefix}-music"
    if head in ("overflow", "closed"):
        return f"{prefix}-{head}-action"
    if head == "opening_hours":
        return f"{prefix}-hours"
    return None


def field_of(draft: dict[str, Any], loc: list[Any]) -> str | None:
    """The editor's field where the value at `loc` (a path in the configuration, as pydantic
    or a rule names it) was typed, or None when no one field holds it."""
    if not loc:
        return None
    head, rest = loc[0], list(loc[1:])
    kind = draft.get("type")
    if head in ("destination", "pin", "recording", "muted_on_entry", "present_alias"):
        return "destination-text" if head == "destination" else str(head)
    if head == "number" and kind == rules.REDIRECT:
        return "destination-text"
    if head == "greeting":
        return "greeting-text"
    if head == "queue":
        return _queue_field(0, rest)
    if head == "queues" and rest and isinstance(rest[0], int):
        return _queue_field(rest[0], rest[1:])
    if head == "menus":
        return _menu_field(draft, rest)
    if head == "opening_hours":
        return "ivr-hours" if kind in rules.MENU_TYPES else "queue-0-hours"
    if head == "closed":
        return "ivr-closed-action"
    if head == "confirm_delete":
        return "confirm_delete"
    return None


def field_errors(
    error: DomainError | ValidationError, draft: dict[str, Any], language: str
) -> dict[str, str]:
    """Field name -> what is wrong with it, to show beside the field (the form's message says
    what failed as a whole)."""
    found: dict[str, str] = {}
    if isinstance(error, ValidationError):
        for item in error.errors():
            loc = list(item["loc"])
            if loc[:1] == [draft.get("type")]:
                loc = loc[1:]  # the configuration's type, as the union names its member
            field = field_of(draft, loc)
            if field and field not in found:
                message = _VALUE_PROBLEMS.get(item["type"], N_("Refused."))
                found[field] = gettext(language, message, **(item.get("ctx") or {}))
        return found
    for rule in error.field_errors(language):
        path: list[Any] = [int(p) if p.isdigit() else p for p in str(rule["field"]).split(".")]
        if path[:2] == ["queue", "members"] and draft.get("type") in rules.MENU_TYPES:
            # a queue of an IVR: the first one without members
            queues = draft.get("queues") or []
            empty = next((i for i, q in enumerate(queues) if not q.get("members")), 0)
            path = ["queues", empty, "members"]
        field = field_of(draft, path)
        if field:
            found.setdefault(field, str(rule["message"]))
    return found


def _problem(error: DomainError | ValidationError, language: str) -> tuple[str, int]:
    if isinstance(error, ValidationError):
        fields = ", ".join(
            ".".join(str(part) for part in item["loc"][1:] or item["loc"])
            for item in error.errors()
        )
        return InvalidInput().detail(language) + f" ({fields})", 422
    return error.detail(language), error.status


@router.post("/telephony/{group_id}/numbers/{number}/configuration/save")
async def save_configuration(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await request.form()
    language = request_language(request)
    number = _number(number)
    kind = str(form.get("type") or "")
    if kind not in EDITABLE:
        raise NotFound()
    operation = str(form.get("op") or "save")
    from starlette.concurrency import run_in_threadpool

    def handle() -> Response:
        with platform.session() as session:
            country = actions.holiday_country(
                session, subscriptions.account_group(session, account.id, group_id).id
            )
        draft = configuration_from_form(form, kind, country)
        if operation in ("add_menu", "add_queue"):
            if operation == "add_menu":
                draft["menus"].append(_empty_menu(len(draft["menus"]), language))
            else:
                draft["queues"].append(_empty_queue(len(draft["queues"])))
            context = _context(platform, account, group_id, number, kind, language, draft)
            return render(request, "telephony_numbers/configuration.html", context)
        try:
            configuration = _CONFIGURATION.validate_python(draft)
            with platform.transaction() as session:
                actions.save_configuration(
                    session,
                    platform,
                    account.id,
                    group_id,
                    number,
                    configuration.model_dump(),
                    confirm_delete=bool(form.get("confirm_delete")),
                    actor=account.id,
                    language=language,
                )
        except (DomainError, ValidationError) as error:
            if isinstance(error, NotFound):
                raise
            context = _context(platform, account, group_id, number, kind, language, draft)
            context["error"], status = _problem(error, language)
            context["field_errors"] = field_errors(error, draft, language)
            return render(request, "telephony_numbers/configuration.html", context, status=status)
        return redirect(
            request,
            _base(group_id, number),
            gettext(language, "The configuration of the number was saved."),
        )

    return await run_in_threadpool(handle)


@router.post("/telephony/{group_id}/numbers/{number}/configuration/delete")
def delete_configuration(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    number = _number(number)
    with platform.transaction() as session:
        actions.delete_configuration(session, platform, account.id, group_id, number, account.id)
    return redirect(
        request,
        _base(group_id, number),
        gettext(request_language(request), "The configuration of the number was deleted."),
    )


@router.post("/telephony/{group_id}/numbers/{number}/configuration/agent")
def set_agent(
    group_id: str,
    number: str,
    request: Request,
    line: str = Form(...),
    status: str = Form(...),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    number = _number(number)
    if status not in rules.AGENT_STATUSES:
        raise NotFound()
    with platform.transaction() as session:
        agents.set_agent_status(
            session, platform, account.id, group_id, number, line, status, account.id
        )
    return redirect(
        request,
        _base(group_id, number),
        gettext(request_language(request), "The agent's status was changed."),
    )


@router.post("/telephony/{group_id}/numbers/{number}/configuration/audio")
async def upload_audio(
    group_id: str,
    number: str,
    request: Request,
    file: UploadFile,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    number = _number(number)
    language = request_language(request)
    data = await file.read(rules.MAX_AUDIO_BYTES + 1)
    from starlette.concurrency import run_in_threadpool

    def store() -> Response:
        try:
            with platform.transaction() as session:
                actions.upload_audio(
                    session,
                    platform,
                    account.id,
                    group_id,
                    number,
                    data,
                    file.filename or "",
                    account.id,
                )
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            context = _context(platform, account, group_id, number, None, language)
            context["error"] = error.detail(language)
            return render(
                request, "telephony_numbers/configuration.html", context, status=error.status
            )
        return redirect(
            request,
            _base(group_id, number),
            gettext(language, "The recording was converted and can be used in the prompts."),
        )

    return await run_in_threadpool(store)


@router.get("/telephony/{group_id}/numbers/{number}/configuration/audio/{audio_id}")
def play_audio(
    group_id: str,
    number: str,
    audio_id: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        content = queries.audio_content(session, account.id, group_id, _number(number), audio_id)
    return Response(content, media_type="audio/wav")


@router.get("/telephony/{group_id}/numbers/{number}/configuration/recordings/{recording_id}")
def play_recording(
    group_id: str,
    number: str,
    recording_id: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        content_type, content = queries.recording_content(
            session, account.id, group_id, _number(number), recording_id
        )
    return Response(content, media_type=content_type)


# --- Routes: abbreviated numbers ------------------------------------------------------------------
def _abbreviated_context(
    platform: Platform, account: Account, group_id: str, language: str
) -> dict[str, Any]:
    with platform.session() as session:
        group = subscriptions.account_group(session, account.id, group_id)
        lines = subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        return {
            "group": group,
            "group_numbers": abbreviated_queries.group_abbreviated(session, account.id, group_id),
            "lines": [
                {
                    "number": line.number,
                    "allowed": abbreviated_rules.line_may_have_abbreviated_numbers(line.offer_code),
                    "numbers": abbreviated_queries.line_abbreviated(
                        session, account.id, group_id, line.number
                    ),
                }
                for line in lines
            ],
        }


@router.get("/telephony/{group_id}/abbreviated-numbers", response_class=HTMLResponse)
def abbreviated_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _abbreviated_context(platform, account, group_id, request_language(request))
    return render(request, "telephony_numbers/abbreviated.html", context)


@router.post("/telephony/{group_id}/abbreviated-numbers/add")
def add_abbreviated(
    group_id: str,
    request: Request,
    code: str = Form(""),
    name: str = Form(""),
    destination: str = Form(""),
    line: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    back = f"/telephony/{group_id}/abbreviated-numbers"
    try:
        if not name.strip():
            raise InvalidInput(fields={"name": "Give it a name."})
        with platform.transaction() as session:
            view = abbreviated_actions.add(
                session,
                platform,
                account.id,
                group_id,
                code=code,
                name=name,
                destination=destination,
                actor=account.id,
                line=_number(line) if line else None,
            )
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        context = _abbreviated_context(platform, account, group_id, language)
        context.update(
            error=error.detail(language),
            error_line=line,
            values={"code": code, "name": name, "destination": destination},
        )
        return render(request, "telephony_numbers/abbreviated.html", context, status=error.status)
    message = " ".join(
        [
            gettext(language, "The abbreviated number %(code)s was added.", code=view.code),
            *(gettext(language, warning) for warning in view.warnings),
        ]
    )
    return redirect(request, back, message)


@router.post("/telephony/{group_id}/abbreviated-numbers/remove")
def remove_abbreviated(
    group_id: str,
    request: Request,
    code: str = Form(...),
    line: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        abbreviated_actions.remove(
            session,
            platform,
            account.id,
            group_id,
            code,
            account.id,
            line=_number(line) if line else None,
        )
    return redirect(
        request,
        f"/telephony/{group_id}/abbreviated-numbers",
        gettext(
            request_language(request), "The abbreviated number %(code)s was removed.", code=code
        ),
    )
