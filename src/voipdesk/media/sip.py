"""SIP messages (RFC 3261) as the media service needs them: parsed from and written to UDP
datagrams. Headers keep their order; compact forms are expanded."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

COMPACT = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
}
CANONICAL = {
    name.lower(): name
    for name in (
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Length",
        "Content-Type",
        "Record-Route",
        "Route",
        "Max-Forwards",
        "Reason",
        "Supported",
        "Allow",
    )
}
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
USER_AGENT = "voipdesk-media"


class SipParseError(ValueError):
    pass


@dataclass
class Message:
    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    # --- start line ---
    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        return self.first_line.split(" ", 1)[0] if self.is_request else self.cseq[1]

    @property
    def uri(self) -> str:
        return self.first_line.split(" ")[1]

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ")[1]) if not self.is_request else 0

    # --- headers ---
    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        values: list[str] = []
        for key, value in self.headers:
            if key.lower() == wanted:
                values.extend(split_list(value))
        return values

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SipParseError(f"no {name} header")
        return value

    @property
    def call_id(self) -> str:
        return self["Call-ID"]

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self["CSeq"].partition(" ")
        return int(number), method.strip()

    @property
    def branch(self) -> str:
        return param(self["Via"], "branch") or ""

    def to_bytes(self) -> bytes:
        body = self.body.encode()
        lines = [self.first_line]
        lines += [f"{k}: {v}" for k, v in self.headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def split_list(value: str) -> list[str]:
    """A header's comma-separated values, commas inside <> or quotes kept."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse(data: bytes) -> Message:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    head, separator, body = text.partition("\r\n\r\n")
    if not separator:
        head, _, body = text.partition("\n\n")
    lines = head.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0] or (" " not in lines[0]):
        raise SipParseError("no start line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip()
        name = COMPACT.get(name, CANONICAL.get(name.lower(), name))
        headers.append((name, value.strip()))
    message = Message(lines[0].strip(), headers, body)
    length = message.get("Content-Length")
    if length is not None and length.isdigit():
        message.body = body.encode()[: int(length)].decode(errors="replace")
    for required in ("Via", "From", "To", "Call-ID", "CSeq"):
        if message.get(required) is None:
            raise SipParseError(f"no {required} header")
    return message


def param(header: str, name: str) -> str | None:
    match = re.search(rf";\s*{re.escape(name)}(?:=([^;,>\s]+))?", header, re.I)
    if match is None:
        return None
    return match.group(1) or ""


def tag(header: str) -> str | None:
    # The tag of From/To is a header parameter: after the URI's closing ">" when there is one.
    tail = header.rsplit(">", 1)[-1] if ">" in header else header
    return param(tail, "tag")


def uri_of(header: str) -> str:
    """The URI of a name-addr ("Alice" <sip:a@b>;tag=x) or addr-spec."""
    if "<" in header:
        return header.split("<", 1)[1].split(">", 1)[0]
    return header.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    return rest.split("@", 1)[0] if "@" in rest else ""


def uri_host_port(uri: str) -> tuple[str, int]:
    rest = uri.split(":", 1)[1] if uri.startswith(("sip:", "sips:")) else uri
    rest = rest.split("@", 1)[-1].split(";", 1)[0].split("?", 1)[0]
    host, _, port = rest.partition(":")
    return host, int(port) if port.isdigit() else 5060


def new_tag() -> str:
    return uuid.uuid4().hex[:12]


def new_branch() -> str:
    return "z9hG4bK" + uuid.uuid4().hex[:16]


def response(
    request: Message,
    code: int,
    phrase: str,
    *,
    to_tag: str | None = None,
    contact: str | None = None,
    body: str = "",
    extra: list[tuple[str, str]] | None = None,
) -> Message:
    headers: list[tuple[str, str]] = [(k, v) for k, v in request.headers if k == "Via"]
    to = request["To"]
    if to_tag and tag(to) is None:
        to = f"{to};tag={to_tag}"
    headers += [
        ("From", request["From"]),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", request["CSeq"]),
    ]
    if 100 < code < 300 and request.method == "INVITE":
        headers += [("Record-Route", v) for k, v in request.headers if k == "Record-Route"]
    if contact:
        headers.append(("Contact", contact))
    headers += [("Server", USER_AGENT), ("Allow", ALLOW)]
    headers += extra or []
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return Message(f"SIP/2.0 {code} {phrase}", headers, body)


def request(
    method: str,
    uri: str,
    *,
    via: str,
    from_: str,
    to: str,
    call_id: str,
    cseq: int,
    routes: list[str] | None = None,
    contact: str | None = None,
    body: str = "",
    extra: list[tuple[str, str]] | None = None,
) -> Message:
    headers = [("Via", via), ("Max-Forwards", "70")]
    headers += [("Route", route) for route in routes or []]
    headers += [
        ("From", from_),
        ("To", to),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
    ]
    if contact:
        headers.append(("Contact", contact))
    headers += [("User-Agent", USER_AGENT)]
    headers += extra or []
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return Message(f"{method} {uri} SIP/2.0", headers, body)
