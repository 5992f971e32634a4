"""The routing records: one compiled record per line and number, rebuilt in the transaction of
any change that affects it (a setting here; a delivery, suspension, termination, conversion or
offer change in subscriptions and billing, which call `subscriptions.services.services_changed`).
Its `version` grows only when the compiled record really changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, defer

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import rules
from voipdesk.telephony.models import (
    LineSettings,
    RoutingRecord,
    SpendingCapState,
    VoicemailSettings,
)

# Sources of an alias number's configuration (the aliases sub-area registers one): given the
# service ids of numbers, {service_id: compiled configuration with its own version}.
AliasConfigurationSource = Callable[[Session, list[str]], Mapping[str, Mapping[str, Any]]]
_alias_sources: list[AliasConfigurationSource] = []

CHUNK = 500


def register_alias_configuration_source(source: AliasConfigurationSource) -> None:
    if source not in _alias_sources:
        _alias_sources.append(source)


def settings_as_dict(row: LineSettings | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {
        "forwards": dict(row.forwards or {}),
        "do_not_disturb": row.do_not_disturb,
        "reject_anonymous": row.reject_anonymous,
        "caller_id": row.caller_id,
        "caller_id_number": row.caller_id_number,
        "block_outgoing": row.block_outgoing,
        "block_international": row.block_international,
        "block_premium": row.block_premium,
        "number_list_mode": row.number_list_mode,
        "number_list": list(row.number_list or []),
        "allowed_ips": list(row.allowed_ips or []),
        "blocked_callers": list(row.blocked_callers or []),
    }


def voicemail_as_dict(row: VoicemailSettings | None) -> dict[str, Any]:
    if row is None:
        return {"enabled": True, "greeting": rules.GREETING_STANDARD, "pin_set": False}
    return {"enabled": row.enabled, "greeting": row.greeting, "pin_set": row.pin_hash is not None}


def rebuild(session: Session, platform: Platform, service_ids: Iterable[str]) -> int:
    """Recompiles the records of these services (an option's id stands for its line); returns
    how many records changed."""
    ids = sorted(set(service_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        chunk = sorted(set(chunk) | set(subscriptions.parents_of(session, chunk)))
        changed += _rebuild_chunk(session, platform, chunk)
    return changed


def _rebuild_chunk(session: Session, platform: Platform, ids: list[str]) -> int:
    facts = [f for f in subscriptions.service_facts(session, ids) if f.number]
    if not facts:
        return 0
    found = [f.service_id for f in facts]
    settings = {
        row.service_id: row
        for row in session.scalars(select(LineSettings).where(LineSettings.service_id.in_(found)))
    }
    voicemails = {
        row.service_id: row
        for row in session.scalars(
            select(VoicemailSettings)
            .options(defer(VoicemailSettings.greeting_audio))
            .where(VoicemailSettings.service_id.in_(found))
        )
    }
    capped = set(
        session.scalars(
            select(SpendingCapState.billing_group_id).where(
                SpendingCapState.billing_group_id.in_({f.billing_group_id for f in facts}),
                SpendingCapState.reached.is_(True),
            )
        )
    )
    aliases: dict[str, Mapping[str, Any]] = {}
    numbers = [f.service_id for f in facts if not f.is_line]
    for source in _alias_sources:
        if numbers:
            aliases.update(source(session, numbers))
    table: Table = RoutingRecord.__table__  # type: ignore[assignment]
    existing = {
        row.number: row
        for row in session.execute(
            select(table.c.number, table.c.service_id, table.c.version, table.c.record)
            .where(table.c.number.in_([f.number for f in facts]))
            .with_for_update()
        )
    }
    realm = platform.settings.sip_domain
    now = platform.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for fact in facts:
        number = fact.number or ""
        record = rules.compile_record(
            rules.LineFacts(
                number=number,
                kind=fact.kind,
                state=fact.state,
                billing_group_id=fact.billing_group_id,
                sip_username=fact.sip_username,
                sip_ha1=fact.sip_ha1,
                offer=fact.offer,
                simultaneous_calls=fact.simultaneous_calls,
                outgoing_calls=fact.outgoing_calls,
                options=fact.options,
                settings=settings_as_dict(settings.get(fact.service_id)),
                voicemail=voicemail_as_dict(voicemails.get(fact.service_id)),
                alias_configuration=aliases.get(fact.service_id),
                spending_cap_reached=fact.billing_group_id in capped,
            ),
            realm,
        )
        values = {
            "sip_username": fact.sip_username if fact.is_line and fact.live else None,
            "service_id": fact.service_id,
            "kind": fact.kind,
            "record": record,
            "updated_at": now,
        }
        row = existing.get(number)
        if row is None:
            inserts.append({"number": number, "version": 1, **values})
            continue
        if row.service_id != fact.service_id and not fact.live:
            continue  # an ended service never overwrites the record of the number's new holder
        if row.record == record and row.service_id == fact.service_id:
            continue
        updates.append({"b_number": number, "version": row.version + 1, **values})
    if updates:
        session.execute(
            update(table)
            .where(table.c.number == bindparam("b_number"))
            .values({name: bindparam(name) for name in updates[0] if name != "b_number"}),
            updates,
        )
    if inserts:
        session.execute(insert(table), inserts)
    return len(inserts) + len(updates)
