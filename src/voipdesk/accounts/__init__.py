"""Customers and staff: sign-up, profile, login, 2FA, API tokens, security log, service e-mails."""
