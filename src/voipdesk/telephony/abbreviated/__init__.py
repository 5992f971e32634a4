"""Abbreviated numbers: short codes per billing group (7xx/7xxx) and per line (2xx/2xxx)."""
