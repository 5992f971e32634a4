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
    "release_order_numbers",
    "reserve_any",
    "reserve_numbers",
]


def count_promotion_use(session: Session, code: str) -> None:
    """One more paid order used this promotion code (its row locked; an unknown code is ignored)."""
    promotion = session.get(PromotionCode, code, with_for_update=True)
    if promotion is not None:
        promotion.used_count += 1
