"""Purchase orders: carts, totals, payments (cards, SEPA direct debit, bank transfer), delivery."""
