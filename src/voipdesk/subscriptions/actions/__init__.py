"""What customers and staff do with billing groups and services, one module per use case.

Functions take the caller's session (the API or page opens ONE transaction per action). Changes
that wait for the next renewal are `PendingChange` rows, cancellable until they apply; the renewal
run (billing area) applies them with set-based SQL. This package re-exports them for the area's
own api, pages and handlers; other areas use `voipdesk.subscriptions.services`.
"""

from __future__ import annotations

from voipdesk.subscriptions.actions.billing_contact import (
    accept_billing_contact_request,
    cancel_billing_contact_change,
    find_contact,
    incoming_contact_requests,
    refuse_billing_contact_request,
    release_billing_contact_changes,
    request_billing_contact_change,
    waiting_contact_change,
)
from voipdesk.subscriptions.actions.calls import (
    CallsIncrease,
    apply_calls_increase,
    set_simultaneous_calls,
)
from voipdesk.subscriptions.actions.changes import (
    cancel_pending_change,
    cancel_service_change,
    record,
)
from voipdesk.subscriptions.actions.conversions import (
    convert_alias_to_line,
    convert_line_to_alias,
)
from voipdesk.subscriptions.actions.end_of_service import (
    DELETE_LINK_VALID,
    cancel_at_expiry,
    confirm_delete_now,
    delete_service_now,
    open_hardware_return,
    request_delete_now,
    set_renewal_mode,
    undo_cancel_at_expiry,
)
from voipdesk.subscriptions.actions.offers import (
    available_offers,
    offer_monthly_price,
    request_offer_change,
)
from voipdesk.subscriptions.actions.reading import (
    OFFER_LABELS,
    ListedChange,
    ListedService,
    describe,
    get_account_service,
    get_group,
    get_numbered_service,
    group_services,
    group_services_page,
    has_auto_renewing_services,
    list_account_services,
    list_groups,
    live_services_count,
    monthly_price,
    pending_changes,
)
from voipdesk.subscriptions.actions.terminations import (
    pool_members,
    record_hardware_received,
    refund_due_deposits,
    request_termination,
    terminate_group,
)

__all__ = [
    "DELETE_LINK_VALID",
    "OFFER_LABELS",
    "CallsIncrease",
    "ListedChange",
    "ListedService",
    "accept_billing_contact_request",
    "apply_calls_increase",
    "available_offers",
    "cancel_at_expiry",
    "cancel_billing_contact_change",
    "cancel_pending_change",
    "cancel_service_change",
    "confirm_delete_now",
    "convert_alias_to_line",
    "convert_line_to_alias",
    "delete_service_now",
    "describe",
    "find_contact",
    "get_account_service",
    "get_group",
    "get_numbered_service",
    "group_services",
    "group_services_page",
    "has_auto_renewing_services",
    "incoming_contact_requests",
    "list_account_services",
    "list_groups",
    "live_services_count",
    "monthly_price",
    "offer_monthly_price",
    "open_hardware_return",
    "pending_changes",
    "pool_members",
    "record",
    "record_hardware_received",
    "refund_due_deposits",
    "refuse_billing_contact_request",
    "release_billing_contact_changes",
    "request_billing_contact_change",
    "request_delete_now",
    "request_offer_change",
    "request_termination",
    "set_renewal_mode",
    "set_simultaneous_calls",
    "terminate_group",
    "undo_cancel_at_expiry",
    "waiting_contact_change",
]
