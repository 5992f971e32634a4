"""The media service: voicemail (deposit and 123), conference rooms. A SIP user agent of its own
(asyncio UDP) that the switch hands calls to; it reads and writes voipdesk's data through the
telephony area's public rooms."""
