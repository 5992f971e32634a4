"""Consumption: rating the call records, the lines' call logs, monthly statements, the
spending cap fed live."""
