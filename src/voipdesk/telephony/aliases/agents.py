"""A contact center's agents (their statuses, from the pages, the API and star codes on their
phones) and its recorded calls (written by the media service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscription_services
from voipdesk.telephony.aliases import errors, rules
from voipdesk.telephony.aliases.actions import (
    ConfigurationView,
    _agents,
    _compile,
    _routing_changed,
    _row,
    alias_of,
    region_of,
    view_of,
)
from voipdesk.telephony.aliases.models import AliasAgent, AliasRecording


# --- Contact center agents ------------------------------------------------------------------------
def _set_status(
    session: Session,
    platform: Platform,
    agent: AliasAgent,
    status: str,
    actor: str,
) -> None:
    row = _row(session, agent.configuration_number, lock=True)
    if row is None or row.kind != rules.CONTACT_CENTER:
        return
    if agent.status == status:
        return
    agent.status = status
    agent.updated_at = platform.now()
    session.flush()
    row.version += 1
    row.updated_at = platform.now()
    row.updated_by = actor[:60]
    row.compiled = _compile(session, row, platform.now())
    session.flush()
    _routing_changed(session, platform, row)
    subscription_services.record_history(
        session,
        platform,
        row.billing_group_id,
        row.service_id,
        actor,
        f"agent {agent.line_number} of {row.number_e164} is {status} (version {row.version})",
    )


def set_agent_status(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    line: str,
    status: str,
    actor: str,
) -> ConfigurationView:
    """An agent's status set from the contact center page or the API."""
    alias = alias_of(session, account_id, group_id, number)
    row = _row(session, alias.number, lock=True)
    if row is None or row.kind != rules.CONTACT_CENTER:
        raise errors.NotAContactCenter(number=alias.number)
    line = rules.normalise_number(line, region_of(session, group_id))
    agent = session.scalar(
        select(AliasAgent).where(
            AliasAgent.configuration_number == alias.number, AliasAgent.line_number == line
        )
    )
    if agent is None:
        raise errors.AgentNotFound(number=line)
    _set_status(session, platform, agent, status, actor)
    return view_of(row, alias, _agents(session, alias.number))


def agent_star_code(
    session: Session, platform: Platform, line_number: str, dialled: str
) -> str | None:
    """A star code dialled from a line (`*45#` available, `*46#` on break, `#45#` logged out):
    the same use case as the page, for every contact center the line is an agent of. Returns
    the status set, or None when the code is not an agent code."""
    status = rules.AGENT_STAR_CODES.get(dialled.strip())
    if status is None:
        return None
    for agent in session.scalars(
        select(AliasAgent).where(AliasAgent.line_number == line_number).order_by(AliasAgent.id)
    ):
        _set_status(session, platform, agent, status, f"phone:{line_number}")
    return status


# --- Call recordings ------------------------------------------------------------------------------
def store_call_recording(
    session: Session,
    platform: Platform,
    number: str,
    *,
    caller: str,
    agent_number: str | None,
    started_at: datetime,
    duration_seconds: int,
    content: bytes,
    content_type: str = "audio/wav",
) -> str:
    """A recorded call of a contact center (the media service writes it); refused when the
    number is not a contact center with "Enregistrement des appels" on."""
    row = _row(session, number)
    if row is None or row.kind != rules.CONTACT_CENTER:
        raise errors.NotAContactCenter(number=number)
    if not row.settings.get("recording"):
        raise errors.RecordingOff(number=number)
    recording = AliasRecording(
        billing_group_id=row.billing_group_id,
        number_e164=number,
        caller=caller,
        agent_number=agent_number,
        started_at=started_at,
        duration_seconds=duration_seconds,
        content_type=content_type,
        size=len(content),
        content=content,
        created_at=platform.now(),
    )
    session.add(recording)
    session.flush()
    return recording.id
