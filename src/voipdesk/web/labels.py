"""Every code a page shows to a person, with its label and its tone, in one place.

Pages never print a state, kind or offer code: `ui.badge(code, "order_state")` prints the
translated label of `code` in the family `order_state`, coloured by its tone (`ok`, `wait`,
`action`, `danger`, `muted`). A code a family does not know is shown as "—" (and a test walks every
page, so an unlabelled code is found). Families come from the areas' own label tables, so a rule
and its words stay in their area; `register(family, labels, tones)` lets a new area add its own.
"""

from __future__ import annotations

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.i18n import N_, gettext
from voipdesk.orders import rules as order_rules
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.validation import rules as validation_rules

LABELS: dict[str, dict[str, str]] = {
    "order_state": dict(order_rules.STATE_LABELS),
    "service_state": dict(subscription_rules.STATE_LABELS),
    "change": dict(subscription_rules.CHANGE_LABELS),
    "procedure_state": {
        **validation_rules.STATE_LABELS,
        # Staff read the same states from their side.
    },
    "procedure_reason": dict(validation_rules.REASON_LABELS),
    "document_status": dict(validation_rules.DOCUMENT_STATUS_LABELS),
    "customer_kind": {
        "individual": N_("Individual"),
        "company": N_("Company"),
        "association": N_("Association"),
    },
    "country": {
        "FR": N_("France"),
        "BE": N_("Belgium"),
        "CH": N_("Switzerland"),
        "CA-QC": N_("Québec (Canada)"),
    },
    "payment_method": dict(catalogue_rules.PAYMENT_METHOD_LABELS),
    "payment_status": {
        "pending": N_("Being processed"),
        "requires_confirmation": N_("Waiting for your confirmation"),
        "awaiting_transfer": N_("Waiting for the transfer"),
        "succeeded": N_("Paid"),
        "failed": N_("Declined"),
        "cancelled": N_("Cancelled"),
        "refunded": N_("Refunded"),
    },
    "invoice_status": {
        "paid": N_("Paid"),
        "unpaid": N_("To pay"),
        "issued": N_("To pay"),
        "open": N_("To pay"),
        "overdue": N_("Overdue"),
        "cancelled": N_("Cancelled"),
        "credited": N_("Credited"),
    },
    "service_kind": {
        subscription_rules.KIND_SIP_LINE: N_("SIP line"),
        subscription_rules.KIND_SIP_TRUNK: N_("SIP trunk"),
        subscription_rules.KIND_ALIAS_NUMBER: N_("Alias number"),
        subscription_rules.KIND_FAX_LINE: N_("Fax line"),
        subscription_rules.KIND_OPTION: N_("Option"),
        "pool": N_("Pool of alias numbers"),
    },
    "offer": {
        catalogue_rules.SIP_DECOUVERTE: N_("Découverte"),
        catalogue_rules.SIP_ENTREPRISE: N_("Entreprise"),
        catalogue_rules.SIP_TRUNK: N_("Trunk"),
        catalogue_rules.ALIAS_NUMBER: N_("Alias number"),
        "alias": N_("Alias number"),
        catalogue_rules.FAX_LINE: N_("Fax line"),
    },
    "renewal_mode": {"automatic": N_("Automatic renewal"), "manual": N_("Manual renewal")},
    "contact_change": dict(subscription_rules.CONTACT_CHANGE_LABELS),
    # Numbering areas by their E.164 prefix, as a reader names them (an operator's own area
    # without a label here shows the name it was given).
    "area": {
        "+331": N_("Paris / Île-de-France (01)"),
        "+332": N_("North-West (02)"),
        "+333": N_("North-East (03)"),
        "+334": N_("South-East (04)"),
        "+335": N_("South-West (05)"),
        "+339": N_("Non-geographic (09)"),
        "+322": N_("Brussels (02)"),
        "+323": N_("Antwerp (03)"),
        "+324": N_("Liège (04)"),
        "+4121": N_("Lausanne (021)"),
        "+4122": N_("Geneva (022)"),
        "+4144": N_("Zurich (044)"),
        "+1514": N_("Montreal (514)"),
        "+1418": N_("Quebec City (418)"),
    },
}

# The tone of each code: how a badge looks (never the only carrier of meaning: the label says it).
TONES: dict[str, dict[str, str]] = {
    "order_state": {
        order_rules.NOT_PAID: "action",
        order_rules.VALIDATION: "wait",
        order_rules.DELIVERING: "wait",
        order_rules.DELIVERED: "ok",
        order_rules.EXPIRED: "muted",
        order_rules.CANCELLED: "muted",
    },
    "service_state": {
        subscription_rules.ACTIVE: "ok",
        subscription_rules.TO_RENEW: "action",
        subscription_rules.SUSPENDED: "danger",
        subscription_rules.TERMINATED: "muted",
        subscription_rules.DELETED: "muted",
    },
    "procedure_state": {
        validation_rules.TODO: "wait",
        validation_rules.WAITING_FOR_CUSTOMER: "action",
        validation_rules.DOING: "wait",
        validation_rules.DONE: "ok",
        validation_rules.CANCELLED: "muted",
    },
    "document_status": {
        validation_rules.RECEIVED: "wait",
        validation_rules.VALID: "ok",
        validation_rules.INVALID: "danger",
    },
    "payment_status": {
        "pending": "wait",
        "requires_confirmation": "action",
        "awaiting_transfer": "action",
        "succeeded": "ok",
        "failed": "danger",
        "cancelled": "muted",
        "refunded": "muted",
    },
    "invoice_status": {
        "paid": "ok",
        "unpaid": "action",
        "issued": "action",
        "open": "action",
        "overdue": "danger",
    },
    "change": {},
    "renewal_mode": {"automatic": "ok", "manual": "action"},
}


def register(family: str, labels: dict[str, str], tones: dict[str, str] | None = None) -> None:
    """Adds (or completes) a family of labels: English message ids, translated when shown."""
    LABELS.setdefault(family, {}).update(labels)
    TONES.setdefault(family, {}).update(tones or {})


class Family:
    """The labels of one family in one language, translated when read; an unknown code reads
    "—", never the code itself."""

    def __init__(self, language: str, labels: dict[str, str]) -> None:
        self.language = language
        self.labels = labels

    def __getitem__(self, code: str | None) -> str:
        message = self.labels.get(code or "")
        return gettext(self.language, message) if message else "—"

    get = __getitem__

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def items(self) -> list[tuple[str, str]]:
        return [(code, self[code]) for code in self.labels]


class Labels:
    """`labels.order_state[code]` or `labels["order_state"][code]` in templates."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __getitem__(self, family: str) -> Family:
        return Family(self.language, LABELS.get(family, {}))

    def __getattr__(self, family: str) -> Family:
        if family.startswith("_"):
            raise AttributeError(family)
        return self[family]


def translated_labels(language: str) -> Labels:
    return Labels(language)


def label_or(language: str, family: str, code: str | None, default: str) -> str:
    """The label of `code`, or `default` (data named by the operator) when the family has none."""
    family_labels = LABELS.get(family, {})
    return gettext(language, family_labels[code]) if code in family_labels else default


def label(language: str, family: str, code: str | None) -> str:
    return Labels(language)[family][code]


def tone(family: str, code: str | None) -> str:
    return TONES.get(family, {}).get(code or "", "neutral")
