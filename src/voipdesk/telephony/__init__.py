"""Telephony settings: what each line and number does, set from the pages, the API, the phone."""
