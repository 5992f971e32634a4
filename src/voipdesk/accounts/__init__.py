"""Customers and staff: sign-up, profile, contacts, login, 2FA, API tokens, security log, service e-mails."""
