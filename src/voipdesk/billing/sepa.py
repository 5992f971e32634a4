"""SEPA direct-debit files (pain.008.001.02) for the operator's bank, built with sepaxml."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sepaxml import SepaDD

from voipdesk.core.platform import Platform


def sequence_type(mandate_reference: str | None, used_mandates: frozenset[str]) -> str:
    """SEPA sequence type: FRST for the first debit on a mandate, RCUR for the next ones."""
    return "RCUR" if mandate_reference in used_mandates else "FRST"


def make_pain008(
    platform: Platform,
    collection_date: date,
    rows: Sequence[Any],
    file_id: str,
    used_mandates: frozenset[str] = frozenset(),
) -> str:
    """rows: (collection id, amount in cents, invoice number, IBAN, BIC, holder, mandate reference,
    mandate date); `used_mandates`: the mandates already debited in an earlier file."""
    settings = platform.settings
    debit = SepaDD(
        {
            "name": settings.operator_name,
            "IBAN": settings.operator_iban,
            "BIC": settings.operator_bic,
            "batch": True,
            "creditor_id": settings.operator_sepa_creditor_id,
            "currency": "EUR",
        },
        schema="pain.008.001.02",
        clean=True,
    )
    for collection_id, amount, number, iban, bic, holder, mandate, signed_on in rows:
        if isinstance(signed_on, str):  # raw SQL on SQLite gives dates back as text
            signed_on = date.fromisoformat(signed_on[:10])
        debit.add_payment(
            {
                "name": holder or "Customer",
                "IBAN": iban,
                "BIC": bic or "NOTPROVIDED",
                "amount": int(amount),
                "type": sequence_type(mandate, used_mandates),
                "collection_date": collection_date,
                "mandate_id": mandate or f"VD-{collection_id}",
                "mandate_date": signed_on or collection_date,
                "description": f"{settings.operator_name} {number}",
                "endtoend_id": f"VD{collection_id}",
            }
        )
    return debit.export(validate=False).decode("utf-8")
