"""What customers, staff and other areas do with VoIP validation procedures, by use case.

Each function takes the caller's session: the API and pages open one transaction per action.
This package re-exports them for the area's own api, pages and demo; other areas use
`voipdesk.validation.services` instead.
"""

from __future__ import annotations

from voipdesk.validation.actions.customer import (
    ProcedureForm,
    cancel_procedure,
    check_form,
    request_for_billing_contact_change,
    request_procedure,
    validate_iban_bic,
)
from voipdesk.validation.actions.procedures import (
    SEND_TOPIC,
    HolderDetails,
    age_in_business_days,
    current_procedure,
    destination_for,
    get_procedure,
    is_required,
    is_validated,
    missing_documents,
    open_or_reuse,
    open_procedure_of,
    orders_waiting,
    recorded_documents,
    register_waiting_orders,
    validation_of,
)
from voipdesk.validation.actions.sending import (
    deliver_pending_procedure,
    enqueue_sending,
    pdf_filename,
    procedure_pdf,
    send_procedure,
)
from voipdesk.validation.actions.staff import (
    APPROVED,
    approve,
    decode_cursor,
    encode_cursor,
    list_procedures,
    mark_validated,
    record_document,
    record_documents,
    reject,
)

__all__ = [
    "APPROVED",
    "SEND_TOPIC",
    "HolderDetails",
    "ProcedureForm",
    "age_in_business_days",
    "approve",
    "cancel_procedure",
    "check_form",
    "current_procedure",
    "decode_cursor",
    "deliver_pending_procedure",
    "destination_for",
    "encode_cursor",
    "enqueue_sending",
    "get_procedure",
    "is_required",
    "is_validated",
    "list_procedures",
    "mark_validated",
    "missing_documents",
    "open_or_reuse",
    "open_procedure_of",
    "orders_waiting",
    "pdf_filename",
    "procedure_pdf",
    "record_document",
    "record_documents",
    "recorded_documents",
    "register_waiting_orders",
    "reject",
    "request_for_billing_contact_change",
    "request_procedure",
    "send_procedure",
    "validate_iban_bic",
    "validation_of",
]
