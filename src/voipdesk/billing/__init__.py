"""Billing: invoices, the monthly renewal run, collections (SEPA direct debit, cards), reminders."""
