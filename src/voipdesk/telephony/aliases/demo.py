"""Demo data of the number side: the delivered customer's alias numbers and abbreviated numbers.

Two alias numbers of the pool are configured through the same actions as the pages: one as a
call queue ringing both lines, one as an IVR with a spoken greeting (text-to-speech), key 1 to
the Entreprise line and key 2 to a queue of both lines. The group gets two abbreviated numbers.
Runs once: a group whose numbers are already configured is left as it is.
"""

from __future__ import annotations

from sqlalchemy import select

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.abbreviated import actions as abbreviated
from voipdesk.telephony.aliases import actions, errors, rules
from voipdesk.telephony.aliases.models import AliasConfiguration

GREETING = (
    "Bonjour et bienvenue chez Rousseau Conseil. Pour le conseil, tapez 1. "
    "Pour joindre toute l'équipe, tapez 2."
)


def seed_group(platform: Platform, account_id: str, group_id: str) -> None:
    with platform.session() as session:
        if session.scalar(
            select(AliasConfiguration.id).where(AliasConfiguration.billing_group_id == group_id)
        ):
            return
        lines = subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        aliases = subscriptions.group_services(
            session, group_id, (subscription_rules.KIND_ALIAS_NUMBER,)
        )
    if len(lines) < 2 or len(aliases) < 2:
        return
    entreprise = next(
        (line for line in lines if line.offer_code == catalogue_rules.SIP_ENTREPRISE), lines[0]
    )
    members = [{"kind": rules.MEMBER_LINE, "number": line.number} for line in lines[:2]]
    queue = {"type": rules.QUEUE, "queue": {"id": "equipe", "name": "Équipe", "members": members}}
    ivr = {
        "type": rules.IVR,
        "greeting": {"text": GREETING, "language": "fr"},
        "root": "main",
        "queues": [{"id": "equipe", "name": "Équipe", "members": members}],
        "menus": [
            {
                "id": "main",
                "name": "Accueil",
                "keys": [
                    {"key": "1", "action": rules.TO_LINE, "target": entreprise.number},
                    {"key": "2", "action": rules.TO_QUEUE, "target": "equipe"},
                ],
            }
        ],
        "opening_hours": {
            "timezone": "Europe/Paris",
            "periods": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
            ],
            "holidays_country": "FR",
        },
        "closed": {"action": rules.TO_VOICEMAIL, "target": entreprise.number},
    }
    actor = "demo"
    with platform.transaction() as session:
        actions.save_configuration(
            session, platform, account_id, group_id, aliases[0].number, queue,
            confirm_delete=True, actor=actor,
        )  # fmt: skip
    try:
        with platform.transaction() as session:
            actions.save_configuration(
                session, platform, account_id, group_id, aliases[1].number, ivr,
                confirm_delete=True, actor=actor,
            )  # fmt: skip
    except errors.SpeechUnavailable:  # no espeak-ng here: the IVR without its spoken greeting
        with platform.transaction() as session:
            actions.save_configuration(
                session, platform, account_id, group_id, aliases[1].number,
                {**ivr, "greeting": None}, confirm_delete=True, actor=actor,
            )  # fmt: skip
    with platform.transaction() as session:
        for code, name, line in (("7001", "Accueil", lines[0]), ("7002", "Standard", lines[1])):
            abbreviated.add(
                session, platform, account_id, group_id,
                code=code, name=name, destination=line.number, actor=actor,
            )  # fmt: skip
