"""The catalogue: offers, options, numbers, fax, hardware, prices, tax and payment-method rules."""
