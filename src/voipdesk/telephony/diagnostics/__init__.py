"""Diagnostics of a line ("my phone does not ring"): findings, each with what to do."""
