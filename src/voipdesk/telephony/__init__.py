"""Telephony: what each line and number does when called or calling (SIP credentials, forwarding,
restrictions, caller ID, star codes, voicemail, alias configurations, abbreviated numbers), and the
compiled routing record the switch reads per call."""
