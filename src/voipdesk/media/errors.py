"""Why the media service refuses a call before answering it."""

from __future__ import annotations


class MediaRefusal(Exception):
    """Answered with this SIP code, before any 200."""

    code = 500
    phrase = "Server Internal Error"

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class TargetNotFound(MediaRefusal):
    code = 404
    phrase = "Not Found"


class DataUnavailable(MediaRefusal):
    code = 503
    phrase = "Service Unavailable"


class NoCommonCodec(MediaRefusal):
    code = 488
    phrase = "Not Acceptable Here"
