"""What other areas (the switch, the media service, star codes) ask of alias configurations."""

from __future__ import annotations

from voipdesk.telephony.aliases.actions import agent_star_code, store_call_recording
from voipdesk.telephony.aliases.queries import CompiledConfiguration, compiled_configuration
from voipdesk.telephony.aliases.rules import AGENT_STAR_CODES, is_open

__all__ = [
    "AGENT_STAR_CODES",
    "CompiledConfiguration",
    "agent_star_code",
    "compiled_configuration",
    "is_open",
    "store_call_recording",
]
