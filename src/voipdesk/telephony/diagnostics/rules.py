"""Rules of a line's diagnostics (no I/O): from what the platform knows (the line's state, its
compiled routing record, the registrations the switch reported, its Plug & Phone), the findings,
each with what to do. It says only what it knows: the customer's network and the phone's own
settings are not visible from here, and the page says so.

Registered: the newest registration row has not expired (`expires_at` after now) and is not an
unregistration (`expires_at` equal to `registered_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voipdesk.core.i18n import N_

OK = "ok"
INFO = "info"
WARNING = "warning"
PROBLEM = "problem"
SEVERITIES = (PROBLEM, WARNING, INFO, OK)


@dataclass(frozen=True)
class Registration:
    registered_at: datetime
    expires_at: datetime
    ip: str
    port: int
    transport: str
    user_agent: str | None

    @property
    def is_unregistration(self) -> bool:
        return self.expires_at <= self.registered_at


@dataclass(frozen=True)
class Facts:
    number: str
    state: str  # the service's state (active, to_renew, suspended...)
    record: Mapping[str, Any] | None  # the compiled routing record (None: none yet)
    registrations: list[Registration]  # newest first
    now: datetime
    phone_model: str | None = None  # the attached Plug & Phone
    phone_provisioned_at: datetime | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    text: str  # English msgid
    what_to_do: str | None  # English msgid
    values: dict[str, Any] = field(default_factory=dict)


TEXTS = {
    "registered": N_(
        "A phone is registered on this line since %(since)s, from %(ip)s (%(device)s); the "
        "registration runs until %(until)s."
    ),
    "never_registered": N_("No phone has ever registered on this line."),
    "registration_expired": N_(
        "No phone is registered now: the last registration, from %(ip)s (%(device)s), ended at "
        "%(until)s."
    ),
    "unregistered": N_("No phone is registered now: the phone unregistered at %(at)s."),
    "suspended": N_("The line is suspended: no call passes, in or out."),
    "not_live": N_("The line is not active (%(state)s): no call passes."),
    "no_record": N_("The switch has no routing record for this line yet."),
    "forward_unconditional": N_(
        "Every call is forwarded to %(destination)s: the phone never rings."
    ),
    "forward_conditional": N_("Calls are forwarded to %(destination)s %(condition)s."),
    "do_not_disturb": N_("Do not disturb is on: incoming calls do not ring."),
    "outgoing_blocked": N_("Outgoing calls are blocked on this line."),
    "spending_cap_reached": N_(
        "The spending cap of the billing group is reached: calls beyond the plan are blocked "
        "until it is raised or the month ends."
    ),
    "reject_anonymous": N_("Calls from hidden numbers are rejected."),
    "phone_never_provisioned": N_(
        "The Plug & Phone %(model)s attached to this line has not fetched its configuration yet."
    ),
    "all_clear": N_(
        "Nothing on our side stops calls to this line. What we cannot see from here: your "
        "network and the phone's own settings."
    ),
}
WHAT_TO_DO = {
    "registered": None,
    "never_registered": N_(
        "Plug the phone in and wait a minute. With your own phone or a softphone, enter the SIP "
        "username, password and server shown in Calls management."
    ),
    "registration_expired": N_(
        "Unplug the phone and plug it back in; check that it reaches the Internet (network "
        "cable, router). Then reload this page."
    ),
    "unregistered": N_(
        "Turn the phone back on, or check that nothing else (another phone, a softphone) uses "
        "this line's SIP account."
    ),
    "suspended": N_("Pay the unpaid renewal invoice: the line comes back at once."),
    "not_live": N_("See the line's subscription."),
    "no_record": N_("Contact our support: this line's settings did not reach the switch."),
    "forward_unconditional": N_(
        "Turn the forward off in Calls management, or dial #21# from the line."
    ),
    "forward_conditional": None,
    "do_not_disturb": N_("Turn do not disturb off in Calls management."),
    "outgoing_blocked": N_(
        "Allow outgoing calls in Calls management (restrictions); a line converted to an alias "
        "number makes no outgoing calls."
    ),
    "spending_cap_reached": N_("Raise the spending cap of the billing group."),
    "reject_anonymous": N_("Turn it off in Calls management if those callers must get through."),
    "phone_never_provisioned": N_(
        "Unplug the phone and plug it back in: it fetches its configuration when it starts."
    ),
    "all_clear": N_(
        "Unplug the phone and plug it back in; if calls still do not ring, contact our support."
    ),
}
CONDITION_WORDS = {
    "busy": N_("when the line is busy"),
    "no_answer": N_("when nobody answers"),
    "unreachable": N_("when the phone is unreachable"),
}
LIVE_STATES = ("active", "to_renew")


def _finding(code: str, severity: str, **values: Any) -> Finding:
    return Finding(code, severity, TEXTS[code], WHAT_TO_DO[code], values)


def _destination(forward: Mapping[str, Any]) -> str:
    if forward.get("target") == "voicemail":
        return "voicemail"
    return str(forward.get("number") or "—")


def registration_findings(registrations: list[Registration], now: datetime) -> Finding:
    if not registrations:
        return _finding("never_registered", PROBLEM)
    last = registrations[0]
    device = last.user_agent or "?"
    if last.is_unregistration:
        return _finding("unregistered", PROBLEM, at=last.registered_at)
    if last.expires_at <= now:
        return _finding(
            "registration_expired", PROBLEM, ip=last.ip, device=device, until=last.expires_at
        )
    # The current binding started at the oldest row of the unbroken run of refreshes.
    since = last.registered_at
    for earlier in registrations[1:]:
        if earlier.is_unregistration or earlier.expires_at < since or earlier.ip != last.ip:
            break
        since = earlier.registered_at
    return _finding("registered", OK, since=since, ip=last.ip, device=device, until=last.expires_at)


def diagnose(facts: Facts) -> list[Finding]:
    """The findings, most serious first."""
    findings: list[Finding] = []
    if facts.state == "suspended":
        findings.append(_finding("suspended", PROBLEM))
    elif facts.state not in LIVE_STATES:
        findings.append(_finding("not_live", PROBLEM, state=facts.state))
    findings.append(registration_findings(facts.registrations, facts.now))
    record = facts.record
    if record is None:
        findings.append(_finding("no_record", PROBLEM))
    else:
        forwards = record.get("forwards") or {}
        for condition, forward in sorted(forwards.items()):
            if condition == "unconditional":
                findings.append(
                    _finding("forward_unconditional", WARNING, destination=_destination(forward))
                )
            else:
                findings.append(
                    _finding(
                        "forward_conditional",
                        INFO,
                        destination=_destination(forward),
                        condition=condition,
                    )
                )
        if record.get("do_not_disturb"):
            findings.append(_finding("do_not_disturb", WARNING))
        limits = record.get("limits") or {}
        if facts.state in LIVE_STATES and limits.get("outgoing_calls") is False:
            findings.append(_finding("outgoing_blocked", WARNING))
        if limits.get("spending_cap_reached", False):
            findings.append(_finding("spending_cap_reached", WARNING))
        if record.get("reject_anonymous"):
            findings.append(_finding("reject_anonymous", INFO))
    if facts.phone_model and facts.phone_provisioned_at is None:
        findings.append(_finding("phone_never_provisioned", WARNING, model=facts.phone_model))
    if not any(f.severity in (PROBLEM, WARNING) for f in findings):
        findings.append(_finding("all_clear", OK))
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))
