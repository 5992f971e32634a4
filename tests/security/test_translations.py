"""Every refusal and text added by the security work reads in French too."""

from __future__ import annotations

from voipdesk.accounts.errors import AccountLocked
from voipdesk.core.i18n import gettext
from voipdesk.core.limits import TOO_LARGE_DETAIL, TOO_LARGE_TITLE
from voipdesk.orders.errors import OrderNumbersGone, TooManyReservedNumbers
from voipdesk.payments.errors import PaymentEventMismatch, PaymentProviderUnavailable


def test_the_new_refusals_are_translated() -> None:
    texts = [
        AccountLocked.message,
        OrderNumbersGone.message,
        TooManyReservedNumbers.message,
        PaymentEventMismatch.message,
        PaymentProviderUnavailable.message,
        TOO_LARGE_TITLE,
        TOO_LARGE_DETAIL,
    ]
    from voipdesk.app import HTTP_ERRORS

    texts += [text for _code, title, detail in HTTP_ERRORS.values() for text in (title, detail)]
    missing = [text for text in texts if gettext("fr", text) == text]
    assert missing == []
