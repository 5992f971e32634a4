"""Purchase orders: carts and their pricing, the order state machine, paying an order (through the
payments area), delivery (on the event `orders.ready_for_delivery`), invoices, expiry."""
