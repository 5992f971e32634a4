"""What customers (pages, API, phone) and the platform do with alias number configurations.

Each function runs in the caller's transaction (one per action). Every change rewrites the
compiled record of the number with the next version in that same transaction, and adds an entry
to the billing group's history log (subscriptions' `record_history`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscription_services
from voipdesk.telephony.aliases import audio, errors, rules
from voipdesk.telephony.aliases.models import (
    AliasAgent,
    AliasAudio,
    AliasConfiguration,
)

ALIAS = (subscription_rules.KIND_ALIAS_NUMBER,)


@dataclass(frozen=True)
class ConfigurationView:
    number: str
    billing_group_id: str
    kind: str
    settings: dict[str, Any]
    compiled: dict[str, Any]
    version: int
    updated_at: datetime | None
    updated_by: str | None
    agents: dict[str, str]  # contact center: line -> status


@dataclass(frozen=True)
class AudioView:
    id: str
    number: str
    source: str
    filename: str
    text: str | None
    duration_ms: int
    size: int
    created_at: datetime


def view_of(
    row: AliasConfiguration | None, alias: subscriptions.ServiceView, agents=None
) -> ConfigurationView:  # type: ignore[no-untyped-def]
    if row is None:
        return ConfigurationView(
            number=alias.number,
            billing_group_id=alias.billing_group_id,
            kind=rules.NONE,
            settings={},
            compiled={"number": alias.number, "type": rules.NONE, "version": 0},
            version=0,
            updated_at=None,
            updated_by=None,
            agents={},
        )
    return ConfigurationView(
        number=row.number_e164,
        billing_group_id=row.billing_group_id,
        kind=row.kind,
        settings=dict(row.settings or {}),
        compiled=dict(row.compiled or {}),
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        agents=dict(agents or {}),
    )


def audio_view(row: AliasAudio) -> AudioView:
    return AudioView(
        id=row.id,
        number=row.number_e164,
        source=row.source,
        filename=row.filename,
        text=row.text,
        duration_ms=row.duration_ms,
        size=row.size,
        created_at=row.created_at,
    )


# --- Reading what a configuration is checked against ----------------------------------------------
def alias_of(
    session: Session, account_id: str, group_id: str, number: str
) -> subscriptions.ServiceView:
    """The account's alias number in that group (404 problem for anything else)."""
    return subscriptions.numbered_service(session, account_id, group_id, number, ALIAS)


def _row(session: Session, number: str, lock: bool = False) -> AliasConfiguration | None:
    query = select(AliasConfiguration).where(AliasConfiguration.number_e164 == number)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _agents(session: Session, number: str) -> dict[str, str]:
    return {
        agent.line_number: agent.status
        for agent in session.scalars(
            select(AliasAgent)
            .where(AliasAgent.configuration_number == number)
            .order_by(AliasAgent.id)
        )
    }


def region_of(session: Session, group_id: str) -> str:
    group = subscriptions.group_by_id(session, group_id)
    country = group.tax_country if group is not None else "FR"
    return catalogue_rules.NUMBERING_REGION.get(country, "FR")


def holiday_country(session: Session, group_id: str) -> str:
    group = subscriptions.group_by_id(session, group_id)
    return rules.holiday_country_of(group.tax_country if group is not None else "FR")


def _context(session: Session, alias: subscriptions.ServiceView) -> rules.Context:
    lines = frozenset(
        s.number
        for s in subscriptions.group_services(
            session, alias.billing_group_id, subscription_rules.LINE_KINDS
        )
    )
    audio_ids = frozenset(
        session.scalars(select(AliasAudio.id).where(AliasAudio.number_e164 == alias.number))
    )
    redirects = {
        row.number_e164: row.settings.get("destination", "")
        for row in session.scalars(
            select(AliasConfiguration).where(
                AliasConfiguration.billing_group_id == alias.billing_group_id,
                AliasConfiguration.kind == rules.REDIRECT,
                AliasConfiguration.number_e164 != alias.number,
            )
        )
    }
    return rules.Context(alias.number, lines, audio_ids, redirects)


def _normalise(settings: dict[str, Any], kind: str, region: str) -> dict[str, Any]:
    """Every number of the settings in E.164 (given in E.164 or national format)."""

    def number(value: str | None) -> str | None:
        return rules.normalise_number(value, region) if value else value

    def destination(item: Any) -> None:
        if isinstance(item, dict) and item.get("action") in (
            rules.TO_LINE,
            rules.TO_VOICEMAIL,
            rules.TO_NUMBER,
        ):
            item["target"] = number(item.get("target"))

    def queue(item: dict[str, Any]) -> None:
        for member in item.get("members") or []:
            member["number"] = number(member["number"])
        destination(item.get("overflow"))
        destination(item.get("closed"))

    if kind == rules.REDIRECT:
        settings["destination"] = number(settings["destination"])
    elif kind == rules.QUEUE:
        queue(settings["queue"])
    elif kind in rules.MENU_TYPES:
        for item in settings.get("queues") or []:
            queue(item)
        for menu in settings.get("menus") or []:
            for choice in menu.get("keys") or []:
                destination(choice)
        destination(settings.get("closed"))
        destination(settings.get("no_input"))
    return settings


# --- Prompts --------------------------------------------------------------------------------------
def _store_audio(
    session: Session,
    platform: Platform,
    alias: subscriptions.ServiceView,
    converted: audio.Converted,
    *,
    source: str,
    filename: str = "",
    text: str | None = None,
    language: str | None = None,
) -> AliasAudio:
    row = AliasAudio(
        billing_group_id=alias.billing_group_id,
        number_e164=alias.number,
        source=source,
        filename=filename[:200],
        text=text,
        language=language,
        sha256=hashlib.sha256(converted.content).hexdigest(),
        duration_ms=converted.duration_ms,
        size=len(converted.content),
        content=converted.content,
        created_at=platform.now(),
    )
    session.add(row)
    session.flush()
    return row


def upload_audio(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    data: bytes,
    filename: str,
    actor: str,
) -> AudioView:
    """An uploaded WAV or MP3 recording, converted with sox; usable by the number's prompts."""
    alias = alias_of(session, account_id, group_id, number)
    row = _store_audio(
        session, platform, alias, audio.convert_upload(data), source="upload", filename=filename
    )
    subscription_services.record_history(
        session, platform, group_id, alias.id, actor, f"recording {filename[:80]} uploaded"
    )
    return audio_view(row)


def speak_audio(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    text: str,
    language: str,
    actor: str,
) -> AudioView:
    alias = alias_of(session, account_id, group_id, number)
    return audio_view(_spoken(session, platform, alias, text, language))


def _spoken(
    session: Session,
    platform: Platform,
    alias: subscriptions.ServiceView,
    text: str,
    language: str,
) -> AliasAudio:
    existing = session.scalar(
        select(AliasAudio).where(
            AliasAudio.number_e164 == alias.number,
            AliasAudio.source == "speech",
            AliasAudio.text == text,
            AliasAudio.language == language,
        )
    )
    if existing is not None:
        return existing
    return _store_audio(
        session,
        platform,
        alias,
        audio.speak(text, language),
        source="speech",
        text=text,
        language=language,
    )


def _speak_prompts(
    session: Session,
    platform: Platform,
    alias: subscriptions.ServiceView,
    kind: str,
    settings: dict[str, Any],
    default_language: str,
) -> None:
    """Gives every prompt written as text its spoken recording (text-to-speech)."""
    for prompt in rules.text_prompts(kind, settings):
        language = prompt.get("language") or default_language
        prompt["language"] = language
        prompt["audio_id"] = _spoken(session, platform, alias, prompt["text"], language).id


# --- Saving ---------------------------------------------------------------------------------------
def _write(
    session: Session,
    platform: Platform,
    alias: subscriptions.ServiceView,
    row: AliasConfiguration | None,
    kind: str,
    settings: dict[str, Any],
    actor: str,
) -> AliasConfiguration:
    now = platform.now()
    if row is None:
        row = AliasConfiguration(
            number_e164=alias.number,
            billing_group_id=alias.billing_group_id,
            service_id=alias.id,
            version=0,
            kind=kind,
            settings={},
            compiled={},
            updated_at=now,
            updated_by=actor[:60],
        )
        try:
            with session.begin_nested():  # two first configurations at once: one wins
                session.add(row)
                session.flush()
        except IntegrityError:
            raise errors.ConcurrentChange(number=alias.number) from None
    row.kind = kind
    row.settings = settings
    row.version = (row.version or 0) + 1
    row.updated_at = now
    row.updated_by = actor[:60]
    _sync_agents(session, platform, alias.number, rules.agents_of(kind, settings))
    row.compiled = _compile(session, row, now)
    session.flush()
    _routing_changed(session, platform, row)
    return row


def _routing_changed(session: Session, platform: Platform, row: AliasConfiguration) -> None:
    """The number's routing record (which carries this configuration) follows in the same
    transaction: the switch sees the change on the next call."""
    from voipdesk.telephony.actions import routing

    routing.rebuild(session, platform, [row.service_id])


def compiled_by_service(session: Session, service_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The routing records' source of alias configurations: {service id: compiled record}."""
    if not service_ids:
        return {}
    return {
        service_id: dict(compiled or {})
        for service_id, compiled in session.execute(
            select(AliasConfiguration.service_id, AliasConfiguration.compiled).where(
                AliasConfiguration.service_id.in_(service_ids)
            )
        )
    }


def _gone_lines(session: Session, row: AliasConfiguration) -> set[str]:
    """The lines this configuration names that have ended since it was saved."""
    named = rules.numbers_named(row.kind, row.settings or {})
    if not named:
        return set()
    live = {
        s.number
        for s in subscriptions.group_services(
            session, row.billing_group_id, subscription_rules.LINE_KINDS
        )
    }
    gone = rules.lines_named(row.kind, row.settings or {}) - live
    if row.kind == rules.REDIRECT:  # a redirect may name any number: only an ended line is gone
        gone |= subscriptions.ended_line_numbers(session, row.billing_group_id, named - live)
    return gone


def _compile(session: Session, row: AliasConfiguration, now: datetime) -> dict[str, Any]:
    return rules.compile_configuration(
        row.number_e164,
        row.kind,
        row.settings,
        row.version,
        year=now.year,
        agent_statuses=_agents(session, row.number_e164),
        gone_lines=_gone_lines(session, row),
    )


def _without_version(compiled: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in compiled.items() if key != "version"}


def recompile_naming(session: Session, platform: Platform, service_ids: list[str]) -> int:
    """Services changed (a line terminated, deleted, converted or back): the configurations of
    their groups that name their numbers are compiled again, with a new version and their
    number's routing record, in the same transaction. Returns how many changed.

    Set-based, a few statements per 500 groups: the renewal hands over thousands of services at
    once, and statements per group and configuration were most of its pending-changes step."""
    from voipdesk.telephony.actions import routing

    by_group = subscriptions.numbers_by_group(session, service_ids)
    groups = sorted(by_group)
    now = platform.now()
    changed: list[str] = []
    for start in range(0, len(groups), 500):
        chunk = groups[start : start + 500]
        # Columns only, unlocked: most configurations name none of the changed numbers.
        candidates = [
            number
            for number, group_id, kind, settings in session.execute(
                select(
                    AliasConfiguration.number_e164,
                    AliasConfiguration.billing_group_id,
                    AliasConfiguration.kind,
                    AliasConfiguration.settings,
                ).where(
                    AliasConfiguration.billing_group_id.in_(chunk),
                    AliasConfiguration.kind != rules.NONE,
                )
            )
            if rules.numbers_named(kind, settings or {}) & by_group[group_id]
        ]
        if not candidates:
            continue
        # Locked in one order (by number) so that two such runs never deadlock.
        rows = session.scalars(
            select(AliasConfiguration)
            .where(AliasConfiguration.number_e164.in_(candidates))
            .order_by(AliasConfiguration.number_e164)
            .with_for_update()
        ).all()
        agents: dict[str, dict[str, str]] = {}
        for agent in session.scalars(
            select(AliasAgent)
            .where(AliasAgent.configuration_number.in_(candidates))
            .order_by(AliasAgent.id)
        ):
            agents.setdefault(agent.configuration_number, {})[agent.line_number] = agent.status
        lines = subscriptions.group_line_numbers(session, {row.billing_group_id for row in rows})
        for row in rows:
            settings = row.settings or {}
            named = rules.numbers_named(row.kind, settings)
            if row.kind == rules.NONE or not named & by_group.get(row.billing_group_id, set()):
                continue  # changed since the unlocked read
            # What `_gone_lines` finds, from the group's lines read once for the chunk.
            group_lines = lines[row.billing_group_id]
            gone = rules.lines_named(row.kind, settings) - group_lines.live
            if row.kind == rules.REDIRECT:
                gone |= (named - group_lines.live) & group_lines.ended

            compile_now = partial(
                rules.compile_configuration,
                row.number_e164,
                row.kind,
                row.settings,
                year=now.year,
                agent_statuses=agents.get(row.number_e164, {}),
                gone_lines=gone,
            )
            if _without_version(compile_now(row.version)) == _without_version(row.compiled or {}):
                continue
            row.version += 1
            row.updated_at = now
            row.compiled = compile_now(row.version)
            changed.append(row.service_id)
        session.flush()
    # The numbers' routing records follow, in one rebuild (it works 500 services at a time).
    routing.rebuild(session, platform, changed)
    return len(changed)


def _sync_agents(session: Session, platform: Platform, number: str, lines: list[str]) -> None:
    current = {
        agent.line_number: agent
        for agent in session.scalars(
            select(AliasAgent).where(AliasAgent.configuration_number == number)
        )
    }
    for line, agent in current.items():
        if line not in lines:
            session.delete(agent)
    for line in lines:
        if line not in current:
            session.add(
                AliasAgent(
                    configuration_number=number,
                    line_number=line,
                    status=rules.AVAILABLE,
                    updated_at=platform.now(),
                )
            )
    session.flush()


def save_configuration(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    configuration: Mapping[str, Any],
    *,
    confirm_delete: bool,
    actor: str,
    language: str = "fr",
) -> ConfigurationView:
    """Sets the configuration of an alias number (`configuration`: a `schemas.Configuration`
    dumped). Choosing another type deletes the current configuration, so it needs
    `confirm_delete`. Every rule is checked before anything is stored."""
    alias = alias_of(session, account_id, group_id, number)
    row = _row(session, alias.number, lock=True)
    current = row.kind if row is not None else rules.NONE
    settings = {k: v for k, v in dict(configuration).items() if k != "type"}
    kind = configuration["type"]
    if rules.needs_confirmation(current, kind) and not confirm_delete:
        raise errors.ConfigurationTypeChange(
            number=alias.number,
            current=current,
            new=kind,
            fields={"confirm_delete": "Confirm the deletion first."},
        )
    settings = _normalise(settings, kind, region_of(session, group_id))
    rules.check_configuration(kind, settings, _context(session, alias))
    _speak_prompts(session, platform, alias, kind, settings, language)
    row = _write(session, platform, alias, row, kind, settings, actor)
    what = f"alias configuration {kind} saved (version {row.version})"
    if current not in (rules.NONE, kind):
        what += f", {current} configuration deleted"
    subscription_services.record_history(session, platform, group_id, alias.id, actor, what)
    return view_of(row, alias, _agents(session, alias.number))


def delete_configuration(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    actor: str,
) -> ConfigurationView:
    """ "Supprimer la configuration": the number goes back to no configuration (calls to it are
    refused by the switch), with a new version."""
    alias = alias_of(session, account_id, group_id, number)
    row = _row(session, alias.number, lock=True)
    if row is None or row.kind == rules.NONE:
        return view_of(row, alias)
    previous = row.kind
    row = _write(session, platform, alias, row, rules.NONE, {}, actor)
    subscription_services.record_history(
        session,
        platform,
        group_id,
        alias.id,
        actor,
        f"alias configuration {previous} deleted (version {row.version})",
    )
    return view_of(row, alias)


def apply_default_redirects(
    session: Session,
    platform: Platform,
    group_id: str,
    numbers: list[Mapping[str, Any]],
    actor: str,
) -> int:
    """Alias numbers ordered for a line redirect to it ("another number on my line"), unless
    they already have a configuration. Idempotent; returns how many were set."""
    lines = {
        s.number: s
        for s in subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
    }
    aliases = {s.number: s for s in subscriptions.group_services(session, group_id, ALIAS)}
    done = 0
    for item in numbers:
        alias = aliases.get(item.get("number") or "")
        line = item.get("for_line")
        if alias is None or not line or line not in lines:
            continue
        row = _row(session, alias.number, lock=True)
        if row is not None:
            continue  # configured already (or a repeated event): leave it
        settings = {"destination": line, "present_alias": False}
        row = _write(session, platform, alias, None, rules.REDIRECT, settings, actor)
        subscription_services.record_history(
            session,
            platform,
            group_id,
            alias.id,
            actor,
            f"alias configuration redirect to {line} (ordered for it, version {row.version})",
        )
        done += 1
    return done


def release_gone_numbers(session: Session, platform: Platform) -> int:
    """Numbers that are no longer live alias numbers (terminated, deleted, converted to a line at
    a renewal) lose their configuration, with a new version, so that the switch stops routing
    them as aliases. The renewal changes services in bulk SQL, so this runs as a periodic job
    rather than in the renewal's transaction. Returns how many were released."""
    rows = list(
        session.scalars(
            select(AliasConfiguration)
            .where(AliasConfiguration.kind != rules.NONE)
            .order_by(AliasConfiguration.number_e164)
        )
    )
    live = subscriptions.live_alias_ids(session, [row.service_id for row in rows])
    released = 0
    for row in rows:
        if row.service_id in live:
            continue
        locked = _row(session, row.number_e164, lock=True)
        if locked is None or locked.kind == rules.NONE:
            continue
        previous = locked.kind
        alias = subscriptions.ServiceView(
            locked.service_id, locked.billing_group_id, "", locked.number_e164, "", ""
        )
        locked = _write(session, platform, alias, locked, rules.NONE, {}, "platform")
        subscription_services.record_history(
            session,
            platform,
            locked.billing_group_id,
            locked.service_id,
            "platform",
            f"alias configuration {previous} removed: no longer an alias number "
            f"(version {locked.version})",
        )
        released += 1
    return released
