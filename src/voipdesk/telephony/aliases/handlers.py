"""Event consumers of alias configurations (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.events import subscribe
from voipdesk.core.jobs import periodic
from voipdesk.subscriptions.services import register_services_listener
from voipdesk.telephony.aliases import actions

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

# Named here rather than imported from subscriptions.delivery (not a public room).
ALIAS_NUMBERS_DELIVERED = "subscriptions.alias_numbers_delivered"


@subscribe(ALIAS_NUMBERS_DELIVERED, consumer="telephony.default_alias_redirects")
def default_alias_redirects(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """An alias ordered for a line redirects to it by default (nothing when configured)."""
    actions.apply_default_redirects(
        session,
        platform,
        payload["billing_group_id"],
        list(payload.get("alias_numbers") or []),
        f"order:{payload.get('order_id', '')}",
    )


@periodic("telephony.release_gone_alias_numbers", every=timedelta(minutes=10))
def release_gone_alias_numbers(platform: Platform) -> None:
    """Terminated or converted alias numbers lose their configuration (see the action)."""
    with platform.transaction() as session:
        actions.release_gone_numbers(session, platform)


def _recompile_naming(session: Session, platform: Platform, service_ids: list[str]) -> None:
    """Services changed in subscriptions or billing (a line terminated, deleted, converted): the
    alias configurations naming them are compiled again in the same transaction."""
    actions.recompile_naming(session, platform, service_ids)


def _register_routing_source() -> None:
    # The numbers' routing records carry their alias configuration (telephony.actions.routing).
    from voipdesk.telephony.actions import routing

    routing.register_alias_configuration_source(actions.compiled_by_service)
    register_services_listener(_recompile_naming)


_register_routing_source()
