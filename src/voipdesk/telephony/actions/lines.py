"""Calls management of a line: forwarding, do-not-disturb, anonymous-call rejection, caller ID,
outgoing restrictions and the addresses it may register from.

Pages, API and star codes call these same functions (one writer per fact). Each checks its input
with `rules` first (nothing stored on a refusal), writes, records the history entry (who, when,
what) and rebuilds the line's routing record, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.subscriptions.services import ServiceFacts
from voipdesk.telephony import errors, rules
from voipdesk.telephony.actions import routing
from voipdesk.telephony.models import LineSettings, VoicemailSettings
from voipdesk.telephony.rules import Refusal


@dataclass(frozen=True)
class LineView:
    """What the pages and the API show of a line's calls management."""

    service_id: str
    billing_group_id: str
    number: str
    kind: str
    state: str
    forwards: dict[str, dict[str, Any]]
    do_not_disturb: bool
    reject_anonymous: bool
    caller_id: str
    caller_id_number: str | None
    block_outgoing: bool
    block_international: bool
    block_premium: bool
    number_list_mode: str
    number_list: list[str]
    allowed_ips: list[str]
    voicemail_enabled: bool
    blocked_callers: list[str] = field(default_factory=list)  # may not call the line
    group_lines: list[str] = field(default_factory=list)  # the other lines of the group
    group_aliases: list[str] = field(default_factory=list)  # alias numbers of the group


def actor_of_account(account_id: str) -> str:
    return f"account:{account_id}"


def line(session: Session, account_id: str, group_id: str, number: str) -> ServiceFacts:
    """The account's live line, locked for the transaction (404 otherwise)."""
    return subscriptions.line_of_account(session, account_id, group_id, number)


def _country(session: Session, account_id: str) -> str:
    account = session.get(Account, account_id)
    return getattr(account, "country", None) or "FR"


def _row(session: Session, facts: ServiceFacts) -> LineSettings:
    row = session.get(LineSettings, facts.service_id, with_for_update=True)
    if row is None:
        row = LineSettings(
            service_id=facts.service_id,
            billing_group_id=facts.billing_group_id,
            forwards={},
            do_not_disturb=False,
            reject_anonymous=False,
            caller_id=rules.CALLER_ID_LINE,
            caller_id_number=None,
            block_outgoing=False,
            block_international=False,
            block_premium=False,
            number_list_mode=rules.LIST_NONE,
            number_list=[],
            allowed_ips=[],
            blocked_callers=[],
        )
        session.add(row)
    return row


def _voicemail_enabled(session: Session, service_id: str) -> bool:
    row = session.get(VoicemailSettings, service_id)
    return True if row is None else row.enabled


def _saved(
    session: Session,
    platform: Platform,
    facts: ServiceFacts,
    row: LineSettings,
    actor: str,
    what: str,
) -> None:
    row.updated_at = platform.now()
    session.flush()
    subscriptions.record_history(
        session, platform, facts.billing_group_id, facts.service_id, actor, what
    )
    routing.rebuild(session, platform, [facts.service_id])


def view(session: Session, facts: ServiceFacts) -> LineView:
    row = session.get(LineSettings, facts.service_id)
    values = routing.settings_as_dict(row)
    group = subscriptions.group_service_facts(session, facts.billing_group_id)
    return LineView(
        service_id=facts.service_id,
        billing_group_id=facts.billing_group_id,
        number=facts.number or "",
        kind=facts.kind,
        state=facts.state,
        forwards={c: dict(v) for c, v in values.get("forwards", {}).items()},
        do_not_disturb=values.get("do_not_disturb", False),
        reject_anonymous=values.get("reject_anonymous", False),
        caller_id=values.get("caller_id", rules.CALLER_ID_LINE),
        caller_id_number=values.get("caller_id_number"),
        block_outgoing=values.get("block_outgoing", False),
        block_international=values.get("block_international", False),
        block_premium=values.get("block_premium", False),
        number_list_mode=values.get("number_list_mode", rules.LIST_NONE),
        number_list=values.get("number_list", []),
        allowed_ips=values.get("allowed_ips", []),
        voicemail_enabled=_voicemail_enabled(session, facts.service_id),
        blocked_callers=values.get("blocked_callers", []),
        group_lines=[
            s.number or "" for s in group if s.is_line and s.service_id != facts.service_id
        ],
        group_aliases=[s.number or "" for s in group if s.kind == "alias_number"],
    )


def get_line(session: Session, account_id: str, group_id: str, number: str) -> LineView:
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    return view(session, facts)


# --- Forwarding ----------------------------------------------------------------------------------
def _group_forwards(session: Session, group_id: str) -> tuple[list[str], dict[str, Any]]:
    group = subscriptions.group_service_facts(session, group_id)
    lines = {s.service_id: s.number or "" for s in group if s.is_line}
    forwards = {
        lines[row.service_id]: dict(row.forwards or {})
        for row in session.scalars(
            select(LineSettings).where(LineSettings.service_id.in_(list(lines)))
        )
        if row.service_id in lines
    }
    return list(lines.values()), forwards


def set_forward_for(
    session: Session,
    platform: Platform,
    facts: ServiceFacts,
    condition: str,
    target: str,
    number: str | None,
    delay: int | None,
    actor: str,
) -> LineView:
    """Turns one forward on (or changes it). Refused, nothing stored: a forward to the line
    itself, into a loop through the group, to an invalid number, a delay out of 5-60 s."""
    # Two lines forwarding to each other at the same moment: the second waits, then sees the loop.
    subscriptions.lock_group(session, facts.billing_group_id)
    group_lines, forwards = _group_forwards(session, facts.billing_group_id)
    try:
        forward = rules.check_forward(
            line_number=facts.number or "",
            condition=condition,
            target=target,
            number=number,
            delay=delay,
            group_lines=group_lines,
            forwards=forwards,
            country=_country(session, facts.owner_account_id),
            voicemail_enabled=_voicemail_enabled(session, facts.service_id),
        )
    except Refusal as refusal:
        raise errors.from_refusal(refusal) from None
    row = _row(session, facts)
    row.forwards = {**(row.forwards or {}), condition: forward.as_json()}
    where = forward.number or forward.target
    delay_text = f" after {forward.delay} s" if forward.delay else ""
    _saved(session, platform, facts, row, actor, f"forward {condition} -> {where}{delay_text}")
    return view(session, facts)


def clear_forward_for(
    session: Session, platform: Platform, facts: ServiceFacts, condition: str, actor: str
) -> LineView:
    """Turns one forward off (already off: nothing changes, no history entry)."""
    if condition not in rules.CONDITIONS:
        raise errors.UnknownForwardCondition(condition=condition, fields={"condition": "Refused."})
    row = _row(session, facts)
    if condition in (row.forwards or {}):
        row.forwards = {k: v for k, v in (row.forwards or {}).items() if k != condition}
        _saved(session, platform, facts, row, actor, f"forward {condition} off")
    return view(session, facts)


def set_forward(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    condition: str,
    target: str,
    to_number: str | None,
    delay: int | None = None,
) -> LineView:
    facts = line(session, account_id, group_id, number)
    return set_forward_for(
        session, platform, facts, condition, target, to_number, delay, actor_of_account(account_id)
    )


def clear_forward(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    condition: str,
) -> LineView:
    facts = line(session, account_id, group_id, number)
    return clear_forward_for(session, platform, facts, condition, actor_of_account(account_id))


# --- Call settings and restrictions --------------------------------------------------------------
CALL_FIELDS = (
    "do_not_disturb",
    "reject_anonymous",
    "caller_id",
    "caller_id_number",
    "blocked_callers",
)
RESTRICTION_FIELDS = (
    "block_outgoing",
    "block_international",
    "block_premium",
    "number_list_mode",
    "number_list",
    "allowed_ips",
)


def update_settings_for(
    session: Session,
    platform: Platform,
    facts: ServiceFacts,
    changes: Mapping[str, Any],
    actor: str,
) -> LineView:
    """Changes some of CALL_FIELDS and RESTRICTION_FIELDS (the others stay). Everything is
    checked before anything is written."""
    row = _row(session, facts)
    current = routing.settings_as_dict(row)
    wanted = {k: v for k, v in changes.items() if k in CALL_FIELDS + RESTRICTION_FIELDS}
    country = _country(session, facts.owner_account_id)
    try:
        if "number_list" in wanted:
            wanted["number_list"] = rules.normalise_number_list(wanted["number_list"], country)
        if "allowed_ips" in wanted:
            wanted["allowed_ips"] = rules.normalise_allowed_ips(wanted["allowed_ips"])
        if "blocked_callers" in wanted:
            wanted["blocked_callers"] = rules.normalise_number_list(
                wanted["blocked_callers"], country, "blocked_callers"
            )
    except Refusal as refusal:
        raise errors.from_refusal(refusal) from None
    mode = wanted.get("number_list_mode", current["number_list_mode"])
    if mode not in rules.LIST_MODES:
        raise errors.InvalidChoice(value=mode, fields={"number_list_mode": "Refused."})
    caller_id = wanted.get("caller_id", current["caller_id"])
    if caller_id not in rules.CALLER_IDS:
        raise errors.InvalidChoice(value=caller_id, fields={"caller_id": "Refused."})
    if caller_id == rules.CALLER_ID_ALIAS:
        alias = wanted.get("caller_id_number", current["caller_id_number"]) or ""
        try:
            alias = rules.normalise_number(alias, country, "caller_id_number") if alias else ""
        except Refusal as refusal:
            raise errors.from_refusal(refusal) from None
        aliases = {
            s.number
            for s in subscriptions.group_service_facts(session, facts.billing_group_id)
            if s.kind == "alias_number"
        }
        if alias not in aliases:
            raise errors.CallerIdNotAnAlias(
                number=alias or "—", fields={"caller_id_number": "Not an alias of the group."}
            )
        wanted["caller_id_number"] = alias
    else:
        wanted["caller_id_number"] = None
    changed = sorted(k for k, v in wanted.items() if current.get(k) != v)
    if not changed:
        return view(session, facts)
    for name in changed:
        setattr(row, name, wanted[name])
    shown = ", ".join(f"{name}={_short(wanted[name])}" for name in changed)
    _saved(session, platform, facts, row, actor, f"settings: {shown}")
    return view(session, facts)


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value[:5]) + (" …]" if len(value) > 5 else "]")
    return str(value)


def update_settings(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    changes: Mapping[str, Any],
) -> LineView:
    facts = line(session, account_id, group_id, number)
    return update_settings_for(session, platform, facts, changes, actor_of_account(account_id))


def forwards_to_voicemail(session: Session, service_id: str) -> list[str]:
    row = session.get(LineSettings, service_id)
    return [
        condition
        for condition, forward in ((row.forwards or {}) if row else {}).items()
        if forward.get("target") == rules.TARGET_VOICEMAIL
    ]
