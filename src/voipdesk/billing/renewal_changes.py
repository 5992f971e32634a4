# ruff: noqa: E501  (SQL statements read better unwrapped)
"""Renewal steps 1-2: due pending changes applied, services cancelled at expiry, unpaid manual
renewals suspended and suspended services past the grace period deleted (set-based SQL)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.db import UTCDateTime
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as sub_rules
from voipdesk.subscriptions.services import services_changed


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _exec(session: Session, sql: str, params: dict[str, Any], *binds: Any) -> int:
    statement = text(sql)
    if binds:
        statement = statement.bindparams(*binds)
    result = session.execute(statement, params)
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------------------------------
# 1. Pending changes due at this renewal
# --------------------------------------------------------------------------------------------------
_DUE = "pc.state = 'pending' AND pc.effective_on <= :period_start"


def apply_due_changes(session: Session, platform: Platform, period_start: date) -> tuple[int, int]:
    """Applies every pending change due by `period_start`; returns (changes applied, services
    deleted because they were cancelled at expiry)."""
    now = platform.now()
    params: dict[str, Any] = {"period_start": period_start, "now": now}
    now_bind = bindparam("now", type_=UTCDateTime())
    return_due = period_start + timedelta(days=sub_rules.RETURN_WITHIN_DAYS)
    live = "('active', 'to_renew', 'suspended')"
    # A service's own change, looked up by its service id whatever the planner's statistics say
    # (without them SQLite preferred the (state, effective_on) index: every lookup then read all
    # due changes, quadratic in their number).
    by_service = (
        "pending_change pc"
        if _is_postgres(session)
        else "pending_change pc INDEXED BY ix_pending_change_service_id"
    )

    # Nothing due (a rerun, most days): none of the statements below, some of which scan every
    # service, has anything to do.
    has_due = (
        session.execute(
            text(f"SELECT 1 FROM pending_change pc WHERE {_DUE} LIMIT 1"), params
        ).first()
        is not None
    )
    applied = 0
    touched: list[str] = []
    if has_due:
        if _is_postgres(session):
            # Two appliers of the same changes queue here; the second's next statements see them
            # applied (read committed: each statement reads what is committed when it starts).
            session.execute(
                text(f"SELECT pc.id FROM pending_change pc WHERE {_DUE} FOR UPDATE"), params
            ).all()
        # The services these changes touch (and a terminated pool's or group's members): whoever
        # compiles what a service does (telephony's routing records) rebuilds them after the updates.
        touched = [
            row[0]
            for row in session.execute(
                text(
                    f"""SELECT pc.service_id FROM pending_change pc
                        WHERE {_DUE} AND pc.service_id IS NOT NULL
                        UNION SELECT s.id FROM service s JOIN pending_change pc
                            ON pc.billing_group_id = s.billing_group_id
                        WHERE {_DUE} AND pc.kind = :group_termination AND s.state IN {live}
                        UNION SELECT m.id FROM service m JOIN service s ON s.pool_id = m.pool_id
                            JOIN pending_change pc ON pc.service_id = s.id
                        WHERE {_DUE} AND pc.kind = :termination AND m.state IN {live}"""
                ),
                {
                    **params,
                    "group_termination": sub_rules.CHANGE_GROUP_TERMINATION,
                    "termination": sub_rules.CHANGE_TERMINATION,
                },
            )
        ]
        # Record what is applied (who, when, what) before the changes are marked applied.
        _exec(
            session,
            f"""INSERT INTO service_event (billing_group_id, service_id, at, actor, what)
                SELECT pc.billing_group_id, pc.service_id, :now, 'renewal', 'applied ' || pc.kind
                FROM pending_change pc WHERE {_DUE}""",
            params,
            now_bind,
        )
        # Conversion of a line to an alias number: no more outgoing calls, no credentials, its options
        # end and its lent phone gets a return.
        _exec(
            session,
            f"""UPDATE phone_loan SET state = :opened, return_opened_on = :period_start,
                       return_due_on = :return_due
                WHERE state = :lent AND service_id IN (
                    SELECT pc.service_id FROM pending_change pc
                    WHERE {_DUE} AND pc.kind IN (:to_alias, :termination))""",
            {
                **params,
                "opened": sub_rules.LOAN_RETURN_OPENED,
                "lent": sub_rules.LOAN_LENT,
                "return_due": return_due,
                "to_alias": sub_rules.CHANGE_TO_ALIAS,
                "termination": sub_rules.CHANGE_TERMINATION,
            },
        )
        _exec(
            session,
            f"""UPDATE service SET state = 'terminated', terminated_at = :now
                WHERE state IN {live} AND parent_service_id IN (
                    SELECT pc.service_id FROM pending_change pc
                    WHERE {_DUE} AND pc.kind IN (:to_alias, :termination))""",
            {
                **params,
                "to_alias": sub_rules.CHANGE_TO_ALIAS,
                "termination": sub_rules.CHANGE_TERMINATION,
            },
            now_bind,
        )
        _exec(
            session,
            f"""UPDATE service SET kind = 'alias_number', offer_code = :alias_offer, outgoing_calls = :no,
                       simultaneous_calls = 1, sip_username = NULL, sip_ha1 = NULL,
                       monthly_price_e4 = COALESCE((SELECT pc.new_monthly_price_e4 FROM {by_service}
                            WHERE pc.service_id = service.id AND pc.kind = :kind AND {_DUE}),
                            monthly_price_e4)
                WHERE state IN {live} AND id IN (
                    SELECT pc.service_id FROM pending_change pc WHERE pc.kind = :kind AND {_DUE})""",
            {
                **params,
                "kind": sub_rules.CHANGE_TO_ALIAS,
                "alias_offer": catalogue_rules.ALIAS_NUMBER,
                "no": False,
            },
        )
        # Alias number to SIP line: new credentials are generated, so this one is per row (rare).
        _apply_alias_to_line(session, period_start)
        # Offer changes and simultaneous-call decreases: new columns from the change.
        for kind in (sub_rules.CHANGE_OFFER, sub_rules.CHANGE_CALLS_DECREASE):
            _exec(
                session,
                f"""UPDATE service SET
                       offer_code = COALESCE((SELECT pc.new_offer_code FROM {by_service}
                            WHERE pc.service_id = service.id AND pc.kind = :kind AND {_DUE}), offer_code),
                       simultaneous_calls = COALESCE((SELECT pc.new_simultaneous_calls FROM {by_service}
                            WHERE pc.service_id = service.id AND pc.kind = :kind AND {_DUE}),
                            simultaneous_calls),
                       monthly_price_e4 = COALESCE((SELECT pc.new_monthly_price_e4 FROM {by_service}
                            WHERE pc.service_id = service.id AND pc.kind = :kind AND {_DUE}),
                            monthly_price_e4)
                    WHERE state IN {live} AND id IN (
                        SELECT pc.service_id FROM pending_change pc WHERE pc.kind = :kind AND {_DUE})""",
                {**params, "kind": kind},
            )
        # Terminations: the service, its options, and for a pool number the whole pool.
        terminated_ids = f"""SELECT pc.service_id FROM pending_change pc
                             WHERE {_DUE} AND pc.kind = :termination"""
        # One id list (a union of index lookups): the same three conditions joined by OR made
        # PostgreSQL read every service.
        _exec(
            session,
            f"""UPDATE service SET state = 'terminated', terminated_at = :now
                WHERE state IN {live} AND id IN (
                    {terminated_ids}
                    UNION SELECT o.id FROM service o WHERE o.parent_service_id IN ({terminated_ids})
                    UNION SELECT p.id FROM service p WHERE p.pool_id IN (
                        SELECT s.pool_id FROM service s WHERE s.pool_id IS NOT NULL
                        AND s.id IN ({terminated_ids})))""",
            {**params, "termination": sub_rules.CHANGE_TERMINATION},
            now_bind,
        )
        # A whole billing group: everything it holds, and its lent hardware comes back.
        group_ids = f"""SELECT pc.billing_group_id FROM pending_change pc
                        WHERE {_DUE} AND pc.kind = :group_termination"""
        _exec(
            session,
            f"""UPDATE phone_loan SET state = :opened, return_opened_on = :period_start,
                       return_due_on = :return_due
                WHERE state = :lent AND billing_group_id IN ({group_ids})""",
            {
                **params,
                "opened": sub_rules.LOAN_RETURN_OPENED,
                "lent": sub_rules.LOAN_LENT,
                "return_due": return_due,
                "group_termination": sub_rules.CHANGE_GROUP_TERMINATION,
            },
        )
        _exec(
            session,
            f"""UPDATE service SET state = 'terminated', terminated_at = :now
                WHERE state IN {live} AND billing_group_id IN ({group_ids})""",
            {**params, "group_termination": sub_rules.CHANGE_GROUP_TERMINATION},
            now_bind,
        )
        _exec(
            session,
            f"""UPDATE billing_group SET state = 'terminated', terminated_at = :now
                WHERE state = 'active' AND id IN ({group_ids})""",
            {**params, "group_termination": sub_rules.CHANGE_GROUP_TERMINATION},
            now_bind,
        )
        applied = _exec(
            session,
            f"""UPDATE pending_change SET state = 'applied', applied_at = :now
                WHERE id IN (SELECT pc.id FROM pending_change pc WHERE {_DUE})""",
            params,
            now_bind,
        )
    # "Cancel at expiry": deleted for good when the paid period ends.
    touched += [
        row[0]
        for row in session.execute(
            text(
                f"""SELECT id FROM service WHERE cancel_at_expiry = :yes AND state IN {live}
                    AND expiry_on < :period_start"""
            ),
            {**params, "yes": True},
        )
    ]
    cancelled = _exec(
        session,
        f"""UPDATE service SET state = 'deleted', deleted_at = :now
            WHERE cancel_at_expiry = :yes AND state IN {live} AND expiry_on < :period_start""",
        {**params, "yes": True},
        now_bind,
    )
    services_changed(session, platform, touched)
    return applied, cancelled


def _apply_alias_to_line(session: Session, period_start: date) -> None:
    from voipdesk.subscriptions.services import line_kind_of, sip_username_for

    rows = session.execute(
        text(
            f"""SELECT pc.service_id, pc.new_offer_code, pc.new_monthly_price_e4, s.number_e164
                FROM pending_change pc JOIN service s ON s.id = pc.service_id
                WHERE {_DUE} AND pc.kind = :kind AND s.state IN ('active', 'to_renew', 'suspended')"""
        ),
        {"period_start": period_start, "kind": sub_rules.CHANGE_TO_LINE},
    ).all()
    if not rows:
        return
    # One statement run for every row (executemany), not one round trip each.
    session.execute(
        text(
            """UPDATE service SET kind = :kind, offer_code = :offer, outgoing_calls = :yes,
                      monthly_price_e4 = :price, sip_username = :username, sip_ha1 = NULL,
                      pool_id = NULL
               WHERE id = :id"""
        ),
        [
            {
                "kind": line_kind_of(offer_code),
                "offer": offer_code,
                "yes": True,
                "price": price,
                # No password yet: the customer makes one on the line page (shown once).
                "username": sip_username_for(number or ""),
                "id": service_id,
            }
            for service_id, offer_code, price, number in rows
        ],
    )


# --------------------------------------------------------------------------------------------------
# 2. Manual renewals not paid, suspensions past the grace period
# --------------------------------------------------------------------------------------------------
def suspend_and_delete(
    session: Session, platform: Platform, period_start: date, on: date
) -> tuple[int, int]:
    now = platform.now()
    now_bind = bindparam("now", type_=UTCDateTime())
    grace = platform.settings.billing_grace_days
    touched = [
        row[0]
        for row in session.execute(
            text(
                """SELECT id FROM service
                   WHERE (renewal_mode = 'manual' AND state IN ('active', 'to_renew')
                          AND expiry_on < :period_start)
                      OR (state = 'suspended' AND expiry_on < :cutoff)"""
            ),
            {"period_start": period_start, "cutoff": on - timedelta(days=grace)},
        )
    ]
    suspended = _exec(
        session,
        """UPDATE service SET state = 'suspended', suspended_at = :now
           WHERE renewal_mode = 'manual' AND state IN ('active', 'to_renew')
             AND expiry_on < :period_start""",
        {"now": now, "period_start": period_start},
        now_bind,
    )
    if suspended:
        _announce_suspended(session, platform, period_start)
    deleted = _exec(
        session,
        """UPDATE service SET state = 'deleted', deleted_at = :now
           WHERE state = 'suspended' AND expiry_on < :cutoff""",
        {"now": now, "cutoff": on - timedelta(days=grace)},
        now_bind,
    )
    services_changed(session, platform, touched)
    return suspended, deleted


def _announce_suspended(session: Session, platform: Platform, period_start: date) -> None:
    """`billing.service_suspended` for each manual renewal this run suspended (reason
    `renewal_unpaid`, no invoice), written as `core.events.publish` writes it, in one statement;
    the key (service and period) makes a re-run announce none twice."""
    from voipdesk.core.events import FAN_OUT_TOPIC

    now = platform.now()
    json_object = "json_build_object" if _is_postgres(session) else "json_object"
    name = "CAST(:name AS TEXT)"
    key = "s.id || ':renewal:' || CAST(:period AS TEXT)"
    _exec(
        session,
        f"""INSERT INTO outbox_message (topic, payload, dedup_key, created_at, available_at, attempts)
            SELECT :topic, {json_object}('id', {name} || ':' || {key}, 'name', {name},
                       'payload', {json_object}('service_id', s.id, 'account_id', s.account_id,
                           'billing_group_id', s.billing_group_id, 'invoice_id', NULL,
                           'reason', 'renewal_unpaid'),
                       'published_at', CAST(:published_at AS TEXT)),
                   'event:' || {name} || ':' || {key}, :now, :now, 0
            FROM service s
            WHERE s.renewal_mode = 'manual' AND s.state = 'suspended' AND s.suspended_at = :now
              AND s.expiry_on < :period_start AND s.kind <> 'option'
            ON CONFLICT DO NOTHING""",
        {
            "topic": FAN_OUT_TOPIC,
            "name": "billing.service_suspended",
            "period": period_start.isoformat(),
            "period_start": period_start,
            "published_at": now.isoformat(),
            "now": now,
        },
        bindparam("now", type_=UTCDateTime()),
    )
