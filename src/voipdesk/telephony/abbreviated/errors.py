"""Refusals of abbreviated numbers, each with a stable code naming its rule."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.core.i18n import N_

SCOPE_LABELS = {"group": N_("of a billing group"), "line": N_("of a line")}


class AbbreviatedOutOfRange(InvalidInput):
    code = "abbreviated-number-out-of-range"
    message = (
        "%(abbreviated)s is not a valid abbreviated number %(scope)s: it has 3 or 4 digits and "
        "starts with %(prefix)s (4 digits recommended)."
    )
    labels = {"scope": SCOPE_LABELS}


class AbbreviatedAlreadyUsed(Conflict):
    code = "abbreviated-number-already-used"
    message = (
        "The abbreviated number %(abbreviated)s is already used (%(name)s): choose another one."
    )


class AbbreviatedNotOnOffer(Conflict):
    code = "abbreviated-numbers-not-on-offer"
    message = (
        "The line %(number)s has the %(offer)s offer, which has no abbreviated numbers: change "
        "its offer to Entreprise first."
    )


class AbbreviatedNotFound(NotFound):
    code = "abbreviated-number-not-found"
    message = "No abbreviated number %(abbreviated)s here."
