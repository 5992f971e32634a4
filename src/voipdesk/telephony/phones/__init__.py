"""Plug & Phone: phones lent against a deposit, attached to lines, provisioned by their MAC
address, and their returns."""
