"""Subscriptions: billing groups, their services (lines, trunks, numbers, fax), pending changes,
conversions, terminations and hardware returns."""
