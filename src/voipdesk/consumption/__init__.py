"""Consumption: rating call records, call logs, monthly statements, the spending cap."""
