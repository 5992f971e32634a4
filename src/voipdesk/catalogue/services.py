"""What other areas do with the catalogue: reserve, assign and release numbers, count a promotion.

The orders area reserves numbers for a cart, assigns them once the order is paid and releases them
when it expires or is cancelled; prices and offers are read through `catalogue.queries`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from voipdesk.catalogue.actions import (
    assign_order_numbers,
    hold_order_numbers_again,
    release_order_numbers,
    reserve_any,
    reserve_numbers,
)
from voipdesk.catalogue.models import (
    PRICE_DEPOSIT,
    PRICE_EXTRA_CALL,
    PRICE_MONTHLY,
    PRICE_SETUP,
    PromotionCode,
)
from voipdesk.catalogue.queries import count_held_numbers

__all__ = [
    "PRICE_DEPOSIT",
    "PRICE_EXTRA_CALL",
    "PRICE_MONTHLY",
    "PRICE_SETUP",
    "PromotionCode",
    "assign_order_numbers",
    "count_held_numbers",
    "count_promotion_use",
    "hold_order_numbers_again",
    "number_in_inventory",
    "record_ported_numbers",
    "release_order_numbers",
    "reserve_any",
    "reserve_numbers",
]


def number_in_inventory(session: Session, number: str) -> bool:
    """The operator already has this number (free, reserved or assigned): nothing to port."""
    from voipdesk.catalogue.models import InventoryNumber

    return session.get(InventoryNumber, number) is not None


def record_ported_numbers(
    session: Session, numbers: list[str], account_id: str, country: str
) -> None:
    """Numbers ported in from another operator join the inventory, taken by the account (a
    number already there is marked taken by it)."""
    from voipdesk.catalogue.models import NUMBER_ASSIGNED, InventoryNumber
    from voipdesk.catalogue.queries import numbering_region

    for number in numbers:
        row = session.get(InventoryNumber, number, with_for_update=True)
        if row is None:
            row = InventoryNumber(
                number_e164=number,
                region=numbering_region(country),
                area_prefix=number[:4],
                area_name="ported in",
            )
            session.add(row)
        row.status = NUMBER_ASSIGNED
        row.reserved_order_id = None
        row.reserved_until = None
        row.assigned_account_id = account_id
    session.flush()


def count_promotion_use(session: Session, code: str) -> None:
    """One more paid order used this promotion code (its row locked; an unknown code is ignored)."""
    promotion = session.get(PromotionCode, code, with_for_update=True)
    if promotion is not None:
        promotion.used_count += 1
