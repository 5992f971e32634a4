"""Star codes dialled on a phone: the same use cases as the pages and the API.

`apply_star_code(session, platform, sip_username, dialled)` is what the switch calls when a
registered line dials a code of `rules.STAR_CODES`: it calls the very functions the line page calls
(`lines.set_forward_for`, `lines.update_settings_for`), so a change from the phone shows on the page
at once, and the reverse. *31#N hides the caller ID for that one call: nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import errors, rules
from voipdesk.telephony.actions import lines

ACTION_AGENT_STATUS = "agent_status"


@dataclass(frozen=True)
class StarCodeOutcome:
    action: str
    condition: str | None = None
    number: str | None = None  # the forward's destination, or the number to call hidden
    delay: int | None = None
    stored: bool = True  # False for a per-call code (*31#)


def apply_star_code(
    session: Session, platform: Platform, sip_username: str, dialled: str
) -> StarCodeOutcome:
    """Refusals are the page's (invalid number, loop, itself), raised as the same errors; the
    switch plays a refusal tone for them."""
    code = rules.parse_star_code(dialled)
    facts = subscriptions.line_by_sip_username(session, sip_username)
    if code is None:
        # A contact-center agent's status (*45#, *46#, #45#): the aliases' own use case.
        from voipdesk.telephony.aliases.agents import agent_star_code

        line_number = facts.number if facts else None
        status = agent_star_code(session, platform, line_number, dialled) if line_number else None
        if status is None:
            raise errors.UnknownStarCode(dialled=dialled)
        return StarCodeOutcome(ACTION_AGENT_STATUS, number=line_number)
    if facts is None:
        raise errors.LineNotFound()
    actor = f"phone:{sip_username}"
    if code.action == rules.ACTION_FORWARD_ON:
        assert code.condition is not None
        view = lines.set_forward_for(
            session,
            platform,
            facts,
            code.condition,
            rules.TARGET_EXTERNAL,
            code.number,
            code.delay,
            actor,
        )
        forward = view.forwards[code.condition]
        return StarCodeOutcome(code.action, code.condition, forward["number"], forward["delay"])
    if code.action == rules.ACTION_FORWARD_OFF:
        assert code.condition is not None
        lines.clear_forward_for(session, platform, facts, code.condition, actor)
        return StarCodeOutcome(code.action, code.condition)
    if code.action in (rules.ACTION_DND_ON, rules.ACTION_DND_OFF):
        lines.update_settings_for(
            session,
            platform,
            facts,
            {"do_not_disturb": code.action == rules.ACTION_DND_ON},
            actor,
        )
        return StarCodeOutcome(code.action)
    # *31#N: this call only, nothing stored; the number is checked as any dialled number.
    country = lines._country(session, facts.owner_account_id)
    try:
        number = rules.normalise_number(code.number or "", country)
    except rules.Refusal as refusal:
        raise errors.from_refusal(refusal) from None
    return StarCodeOutcome(code.action, None, number, stored=False)
