"""Portability (port-in) of numbers from another operator: France, Belgium, Switzerland."""
