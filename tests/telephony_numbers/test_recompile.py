"""Configurations compiled again when services change, for many groups at once (the renewal's
case): the same versions, compiled records and routing records as compiling each one alone."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from tests.telephony_numbers.helpers import OUTSIDE, customer, ivr_with_queue
from voipdesk.subscriptions.models import Service
from voipdesk.telephony.aliases import actions
from voipdesk.telephony.aliases.models import AliasConfiguration
from voipdesk.telephony.models import RoutingRecord


def _configure(client, who):  # type: ignore[no-untyped-def]
    first, second = who.lines[:2]
    queue_alias, center_alias, line_redirect, outside_redirect = who.aliases
    configurations = {
        queue_alias: {
            "type": "queue",
            "queue": {"members": [{"kind": "line", "number": n} for n in (first, second)]},
        },
        center_alias: dict(ivr_with_queue([first, second]), type="contact_center"),
        line_redirect: {"type": "redirect", "destination": second},
        outside_redirect: {"type": "redirect", "destination": OUTSIDE},
    }
    for alias, configuration in configurations.items():
        answer = client.put(
            who.url(alias),
            json={"configuration": configuration, "confirm_delete": False},
            headers=who.headers,
        )
        assert answer.status_code == 200, answer.text
    answer = client.put(  # an agent's status is part of what is compiled
        who.url(center_alias, f"configuration/agents/{quote(first)}"),
        json={"status": "on_break"},
        headers=who.headers,
    )
    assert answer.status_code == 200, answer.text


def test_lines_ended_in_several_groups_compile_each_naming_configuration_once(client):
    platform = client.app.state.platform
    customers = [customer(client, aliases=4) for _ in range(3)]
    for who in customers:
        _configure(client, who)
    ended = [who.lines[1] for who in customers[:2]]  # the third group keeps its lines
    with platform.transaction() as session:
        versions = {
            row.number_e164: row.version for row in session.scalars(select(AliasConfiguration))
        }
        records = {row.number: row.version for row in session.scalars(select(RoutingRecord))}
        ids = []
        for service in session.scalars(select(Service).where(Service.number_e164.in_(ended))):
            service.state = "terminated"
            ids.append(service.id)
        ids.append(
            session.scalar(select(Service.id).where(Service.number_e164 == customers[2].lines[1]))
        )
        session.flush()
        assert actions.recompile_naming(session, platform, ids) == 6
    expected_changed = {alias for who in customers[:2] for alias in who.aliases[:3]}
    with platform.transaction() as session:
        now = platform.now()
        for row in session.scalars(select(AliasConfiguration)):
            bump = 1 if row.number_e164 in expected_changed else 0
            assert row.version == versions[row.number_e164] + bump, row.number_e164
            # The record is what compiling this one configuration alone gives.
            assert row.compiled == actions._compile(session, row, now)
        for row in session.scalars(select(RoutingRecord)):
            bump = 1 if row.number in expected_changed else 0
            assert row.version == records[row.number] + bump, row.number
        center = session.scalar(
            select(AliasConfiguration).where(
                AliasConfiguration.number_e164 == customers[0].aliases[1]
            )
        )
        assert center is not None
        members = center.compiled["queues"]["sales"]["members"]
        assert [(m["number"], m["status"]) for m in members] == [
            (customers[0].lines[0], "on_break")
        ]
        redirect = session.scalar(
            select(AliasConfiguration).where(
                AliasConfiguration.number_e164 == customers[1].aliases[2]
            )
        )
        assert redirect is not None and redirect.compiled["redirect"]["available"] is False
        # Nothing changed since: a repeat compiles nothing.
        assert actions.recompile_naming(session, platform, ids) == 0
