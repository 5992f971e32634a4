"""The payments area: payment methods, the payment provider and how a payment settles."""
