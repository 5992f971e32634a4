"""Who wants to know that services changed (registry filled by areas above, e.g. telephony, which
rebuilds its routing records in the same transaction): subscriptions and billing call
`services_changed` after any change of a service's state, kind, offer, limits or credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

ServicesListener = Callable[[Session, "Platform", list[str]], None]
_listeners: list[ServicesListener] = []


def register_services_listener(listener: ServicesListener) -> ServicesListener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def services_changed(session: Session, platform: Platform, service_ids: Iterable[str]) -> None:
    ids = sorted({service_id for service_id in service_ids if service_id})
    if not ids:
        return
    session.flush()
    for listener in _listeners:
        listener(session, platform, ids)
