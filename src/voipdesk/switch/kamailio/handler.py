"""voipdesk's routing for Kamailio (KEMI, app_python3): registrations, calls by the customers'
settings, limits, records. Kamailio calls the `ksr_*` methods; the decisions are in
`voipdesk.switch.rules`, this module only reads the request and applies them.

Runs in Kamailio's embedded interpreter: standard library, psycopg2 and voipdesk.switch only.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from voipdesk.switch import rules
from voipdesk.switch.kamailio import reporter
from voipdesk.switch.kamailio.store import RecordStore, StoreUnavailable, store_for

try:  # only inside Kamailio
    import KSR  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - imported by the tests and the CLI outside Kamailio
    KSR = None

log = logging.getLogger("voipdesk.switch")

LINE_PROFILE = "line_calls"  # dialog profile: calls in progress per line (its E.164 number)
TRUNK_PROFILE = "trunk_calls"  # dialog profile: calls in progress through the trunk
STATE_AVP = "$avp(vd_state)"  # the call's plan, carried to its failure route
CALL_VAR = "$dlg_var(vd_call)"  # the call record's facts, carried to the dialog's events
ANSWERED_VAR = "$dlg_var(vd_answered)"
FAILURE_REASONS = {486: "busy", 408: "no answer", 480: "not registered", 487: "no answer"}
UNAVAILABLE_ROUTING = rules.Refusal(503, "Service Unavailable", "routing data unavailable")
UNAVAILABLE_STAR_CODES = rules.Refusal(503, "Service Unavailable", "star codes unavailable")


def pv(name: str) -> str:
    value = KSR.pv.get(name)
    return "" if value is None else str(value)


class Handler:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.realm = settings["domain"]
        trunk = settings.get("trunk") or {}
        self.trunk_host = trunk.get("host")
        self.trunk_port = int(trunk.get("port") or 5060)
        self.trunk_max_calls = trunk.get("max_calls")
        self.ban_failures = int(settings.get("ban_failures", 10))
        self.media_uri = settings.get("media_uri")
        self.api_url = settings.get("api_url")
        self.switch_token = settings.get("switch_token")
        self.reporter_port = int(settings["reporter_port"])
        self._store: RecordStore | None = None
        self._sender: reporter.Sender | None = None
        self._writer: reporter.Writer | None = None
        self.from_trunk_peer = False
        self._seen: dict[str, Mapping[str, Any] | None] = {}

    # --- Kamailio entry points -----------------------------------------------------------------
    def child_init(self, rank: int) -> int:
        return 0

    @property
    def store(self) -> RecordStore:
        if self._store is None:
            self._store = store_for(self.settings["database_url"])
        return self._store

    @property
    def sender(self) -> reporter.Sender:
        if self._sender is None:
            self._sender = reporter.Sender(self.reporter_port)
        return self._sender

    def ksr_request_route(self, msg: Any) -> int:
        self._seen = {}
        if KSR.maxfwd.process_maxfwd(10) < 0:
            KSR.sl.send_reply(483, "Too Many Hops")
            return 1
        source = pv("$si")
        self.from_trunk_peer = source == self.trunk_host and pv("$sp") == str(self.trunk_port)
        if not self.from_trunk_peer:
            if KSR.htable.sht_get("vd_ban", source) is not None:
                return 1  # banned: dropped without an answer
            if KSR.pike.pike_check_req() < 0:
                self.security("flood", source, None, "request rate over the limit")
                return 1
        if KSR.is_CANCEL():
            if KSR.tm.t_check_trans() > 0:
                KSR.tm.t_relay()
            return 1
        if KSR.siputils.has_totag() > 0:
            return self.in_dialog()
        if KSR.is_ACK():
            if KSR.tm.t_check_trans() > 0:
                KSR.tm.t_relay()
            return 1
        if KSR.is_OPTIONS() and not pv("$rU"):
            KSR.sl.send_reply(200, "OK")
            return 1
        if KSR.is_REGISTER():
            return self.register(source)
        if KSR.is_INVITE():
            # No transaction yet: the challenge and early refusals are answered statelessly
            # (a retransmitted INVITE is simply answered again); t_relay makes it when the
            # call really goes somewhere.
            return self.invite(source)
        if KSR.is_NOTIFY():
            return self.message_summary()
        KSR.sl.send_reply(405, "Method Not Allowed")
        return 1

    def message_summary(self) -> int:
        """voipdesk's message-waiting indication (an unsolicited NOTIFY, event message-summary)
        for a line's registered phone. Only voipdesk may send one: it carries the switch token,
        which is removed before the phone sees the request."""
        token = KSR.hdr.get("X-Voipdesk-Token") or ""
        if not self.switch_token or not hmac.compare_digest(token, str(self.switch_token)):
            return self.reply(403, "Forbidden", "only voipdesk sends message summaries")
        if (KSR.hdr.get("Event") or "").strip().lower() != "message-summary":
            return self.reply(489, "Bad Event", "only message-summary is relayed")
        KSR.hdr.remove("X-Voipdesk-Token")
        KSR.pv.sets("$ru", f"sip:{pv('$rU')}@{self.realm}")
        if KSR.registrar.lookup("location") < 0:
            return self.reply(404, "Not Found", "no phone registered on that line")
        KSR.tm.t_relay()
        return 1

    def in_dialog(self) -> int:
        if KSR.rr.loose_route() > 0:
            KSR.tm.t_relay()
            return 1
        if KSR.is_ACK():
            if KSR.tm.t_check_trans() > 0:
                KSR.tm.t_relay()
            return 1
        KSR.sl.send_reply(404, "Not Here")
        return 1

    # --- Registration --------------------------------------------------------------------------
    def register(self, source: str) -> int:
        # Challenged before anything is looked up: an unknown name is not told apart from a
        # known one until credentials come (no enumeration of lines), and it costs no lookup.
        if KSR.auth.has_credentials(self.realm) < 0:
            KSR.auth.auth_challenge(self.realm, 1)
            return 1
        user = pv("$au") or pv("$tU")
        try:
            record = self.store.by_user(user)
        except StoreUnavailable:
            return self.reply(503, "Service Unavailable", "routing data unavailable")
        refusal = rules.registration_refusal(record, source)
        if refusal is not None:
            self.security("refused", source, user, refusal.text)
            return self.reply(refusal.code, refusal.phrase, refusal.text)
        assert record is not None
        if pv("$tU") != user:
            return self.reply(403, "Forbidden", "a line registers only itself")
        if not self.check_digest(record, source, user):
            return 1
        # One device per line: a new registration replaces the previous binding.
        if KSR.registrar.save("location", 4) < 0:
            KSR.sl.sl_reply_error()
            return 1
        now = time.time()
        expires = self.expires()
        self.sender.send(
            "registration",
            {
                "number": record["number"],
                "sip_username": user,
                "registered_at": now,
                "expires_at": now + expires,
                "ip": source,
                "port": int(pv("$sp") or 0),
                "transport": pv("$proto") or "udp",
                "user_agent": pv("$ua")[:200] or None,
                "contact": pv("$ct")[:300] or None,
            },
        )
        return 1

    def check_digest(self, record: Mapping[str, Any], source: str, user: str) -> bool:
        """The request's digest against the line's HA1; a failure is counted (a ban after too
        many) and challenged again."""
        if KSR.auth.pv_auth_check(self.realm, record["sip"]["ha1"] or "", 1, 1) < 0:
            self.failed_authentication(source, user)
            KSR.auth.auth_challenge(self.realm, 1)
            return False
        KSR.auth.consume_credentials()
        return True

    def expires(self) -> int:
        contact = pv("$ct")
        if "expires=" in contact:
            value = contact.split("expires=", 1)[1].split(";", 1)[0].split(">", 1)[0]
            if value.strip().isdigit():
                return int(value)
        header = pv("$hdr(Expires)")
        return int(header) if header.strip().isdigit() else 3600

    def failed_authentication(self, source: str, user: str) -> None:
        failures = self.increment("vd_authfail", source)
        if failures >= self.ban_failures:
            KSR.htable.sht_seti("vd_ban", source, 1)
            self.security("banned", source, user, f"{failures} failed authentications")
        else:
            self.security("auth_failed", source, user, None)

    @staticmethod
    def increment(table: str, key: str) -> int:
        """A shared counter (an htable item: seen by every worker, expiring with its table)."""
        value = int(KSR.htable.sht_get(table, key) or 0) + 1
        KSR.htable.sht_seti(table, key, value)
        return value

    def security(self, kind: str, ip: str, user: str | None, detail: str | None) -> None:
        log.warning("voipdesk switch: %s from %s (%s) %s", kind, ip, user or "-", detail or "")
        self.sender.send(
            "security",
            {"at": time.time(), "kind": kind, "ip": ip, "sip_username": user, "detail": detail},
        )

    # --- Calls ---------------------------------------------------------------------------------
    def invite(self, source: str) -> int:
        KSR.rr.record_route()
        if self.from_trunk_peer:
            return self.from_trunk()
        return self.from_line(source)

    def from_trunk(self) -> int:
        called = rules.normalise_dialled(pv("$rU"), None) or pv("$rU")
        # The carrier's caller in E.164 (a national "06..." read in the called number's country).
        caller = rules.normalise_dialled(pv("$fU"), called) or pv("$fU")
        call = self.new_call(caller, called, rules.DIRECTION_INCOMING)
        try:
            callee = self.number_record(called)
        except StoreUnavailable:
            return self.refuse(call, UNAVAILABLE_ROUTING)
        if callee is None:
            return self.refuse(call, rules.Refusal(404, "Not Found", "number not in service"))
        call.update(line_number=callee["number"], billing_group_id=callee.get("billing_group_id"))
        anonymous = rules.is_anonymous(caller, pv("$hdr(Privacy)"))
        return self.to_callee(call, callee, anonymous)

    def from_line(self, source: str) -> int:
        if KSR.auth.has_credentials(self.realm) < 0:
            KSR.auth.auth_challenge(self.realm, 1)
            return 1
        user = pv("$au") or pv("$fU")
        dialled = unquote(pv("$rU"))  # phones escape "#" (%23) in the request URI
        try:
            caller = self.store.by_user(user)
        except StoreUnavailable:
            return self.reply(503, "Service Unavailable", "routing data unavailable")
        if caller is None or not caller.get("sip"):
            self.security("refused", source, user, "unknown line")
            return self.reply(403, "Forbidden", "unknown line")
        if not self.check_digest(caller, source, user):
            return 1
        hide_once = False
        if dialled.startswith("*31#"):
            hide_once, dialled = True, dialled[4:]
        call = self.new_call(caller["number"], dialled, rules.DIRECTION_OUTGOING)
        call.update(line_number=caller["number"], billing_group_id=caller.get("billing_group_id"))
        if dialled[:1] in ("*", "#"):
            return self.star_code(call, caller, dialled)
        if dialled == rules.VOICEMAIL_SHORT_CODE:
            call["route"] = rules.ROUTE_MEDIA
            return self.to_media(call, f"voicemail-access:{caller['number']}")
        number = self.dialled_number(caller, dialled)
        if number is None:
            return self.refuse(call, rules.Refusal(484, "Address Incomplete", "not a number"))
        call["callee"] = number
        limit = rules.call_limit_refusal(
            self.calls_of(caller["number"]),
            (caller.get("limits") or {}).get("simultaneous_calls"),
            "the line",
        )
        if limit is not None:
            return self.refuse(call, limit)
        try:
            callee = self.number_record(number)
        except StoreUnavailable:
            return self.refuse(call, UNAVAILABLE_ROUTING)
        self.caller_identity(caller, hide_once)
        if callee is None:
            refusal = rules.outgoing_refusal(caller, number)
            if refusal is not None:
                return self.refuse(call, refusal)
            outside = rules.Destination(kind="external", number=number)
            plan = rules.Plan(route=rules.ROUTE_DIRECT, destinations=(outside,))
            return self.relay(call, plan, caller_line=caller["number"])
        refusal = rules.internal_refusal(caller)
        if refusal is not None:
            return self.refuse(call, refusal)
        call["direction"] = rules.DIRECTION_INTERNAL
        hidden = rules.presented_identity(caller, hide_once)[1]
        return self.to_callee(call, callee, hidden, caller_line=caller["number"])

    def dialled_number(self, caller: Mapping[str, Any], dialled: str) -> str | None:
        if dialled.isdigit() and 2 <= len(dialled) <= 4 and not rules.is_emergency(dialled):
            try:
                found = self.store.abbreviated(
                    caller.get("billing_group_id") or "", caller["number"], dialled
                )
            except StoreUnavailable:
                found = None
            if found:
                return found
        if rules.is_emergency(dialled):
            return dialled
        return rules.normalise_dialled(dialled, caller.get("number"))

    def to_callee(
        self,
        call: dict[str, Any],
        callee: Mapping[str, Any],
        anonymous: bool,
        caller_line: str | None = None,
    ) -> int:
        refusal = rules.incoming_refusal(callee, anonymous, call.get("caller"))
        if refusal is not None:
            return self.refuse(call, refusal)
        if callee.get("sip"):
            plan = rules.plan_for_line(callee, self.lookup)
        else:
            rotation = self.increment("vd_rotation", callee["number"])
            plan = rules.plan_for_alias(
                callee, self.lookup, member_available=self.available, rotation=rotation
            )
            if plan.presented_number:
                self.present(plan.presented_number, hidden=False)
        if plan.refusal is not None:
            return self.refuse(call, plan.refusal)
        if plan.route != rules.ROUTE_DIRECT:
            call["route"] = plan.route
        if plan.destinations and plan.destinations[0].kind == "media":
            return self.to_media(call, plan.destinations[0].number)
        return self.relay(call, plan, callee, caller_line=caller_line)

    def number_record(self, number: str) -> Mapping[str, Any] | None:
        """A number's record, read once per request (a call looks at the callee several times)."""
        if number not in self._seen:
            self._seen[number] = self.store.by_number(number)
        return self._seen[number]

    def lookup(self, number: str) -> Mapping[str, Any] | None:
        try:
            return self.number_record(number)
        except StoreUnavailable:
            return None

    def available(self, record: Mapping[str, Any]) -> bool:
        """A queue member rings when registered and under its simultaneous-call limit."""
        user = (record.get("sip") or {}).get("username")
        if not user or KSR.registrar.registered_uri("location", f"sip:{user}@{self.realm}") < 0:
            return False
        limit = (record.get("limits") or {}).get("simultaneous_calls")
        return rules.call_limit_refusal(self.calls_of(record["number"]), limit, "") is None

    def calls_of(self, number: str) -> int:
        KSR.dialog.get_profile_size(LINE_PROFILE, number, "$var(vd_size)")
        value = KSR.pv.get("$var(vd_size)")
        return int(value or 0)

    def caller_identity(self, caller: Mapping[str, Any], hide_once: bool) -> None:
        number, hidden = rules.presented_identity(caller, hide_once)
        self.present(number, hidden)

    def present(self, number: str | None, hidden: bool) -> None:
        KSR.hdr.remove("P-Asserted-Identity")
        KSR.hdr.remove("Privacy")
        if number:
            KSR.hdr.append(f"P-Asserted-Identity: <sip:{number}@{self.realm}>\r\n")
        if hidden:
            KSR.hdr.append("Privacy: id\r\n")
            KSR.pv.sets("$fu", f"sip:anonymous@{self.realm}")
            KSR.pv.sets("$fn", "Anonymous")

    # --- Relaying ------------------------------------------------------------------------------
    def relay(
        self,
        call: dict[str, Any],
        plan: rules.Plan,
        callee: Mapping[str, Any] | None = None,
        caller_line: str | None = None,
    ) -> int:
        """Rings the plan's destinations: all at once, or the first now and the others from the
        failure route. The state needed there (what is left, whose forwards apply) rides along
        in an AVP of the transaction."""
        destinations = [self.flat(d) for d in plan.destinations]
        state: dict[str, Any] = {
            "call": call,
            "rest": [] if plan.parallel else destinations[1:],
            "timeout": plan.ring_timeout,
            "features": plan.line_number if callee is not None and callee.get("sip") else None,
            "caller_line": caller_line,
        }
        first = destinations if plan.parallel else destinations[:1]
        ringing: list[dict[str, Any]] = []
        failure = 480
        for item in first:
            outcome = self.set_target(item, append=bool(ringing))
            if outcome == 0:
                ringing.append(item)
            else:
                failure = outcome
        if not ringing:
            return self.next_or_fail(state, failure, in_failure_route=False)
        state["ringing"] = ringing
        return self.send(state)

    @staticmethod
    def flat(destination: rules.Destination) -> dict[str, Any]:
        return {
            "kind": destination.kind,
            "number": destination.number,
            "sip_user": destination.sip_user,
        }

    def set_target(self, item: Mapping[str, Any], append: bool) -> int:
        """Points the request (or a new branch) at one destination: 0 when it rings, else the
        answer it stands for (486 a line over its limit, 480 one not registered)."""
        if item["kind"] == "external":
            if not self.trunk_host:
                return 480
            uri = f"sip:{item['number']}@{self.trunk_host}:{self.trunk_port}"
            if append:
                KSR.corex.append_branch_uri(uri)
            else:
                KSR.pv.sets("$ru", uri)
            return 0
        record = self.lookup(item["number"])
        if record is None:
            return 480
        limit = (record.get("limits") or {}).get("simultaneous_calls")
        if rules.call_limit_refusal(self.calls_of(record["number"]), limit, "") is not None:
            return 486
        aor = f"sip:{item['sip_user']}@{self.realm}"
        if append:
            return 0 if KSR.registrar.lookup_to_dset("location", aor) > 0 else 480
        KSR.pv.sets("$ru", aor)
        return 0 if KSR.registrar.lookup("location") > 0 else 480

    def send(self, state: dict[str, Any]) -> int:
        call = state["call"]
        external = [d for d in state["ringing"] if d["kind"] == "external"]
        if external and self.trunk_max_calls is not None:
            KSR.dialog.get_profile_size(TRUNK_PROFILE, "trunk", "$var(vd_size)")
            busy = rules.call_limit_refusal(
                int(KSR.pv.get("$var(vd_size)") or 0), int(self.trunk_max_calls), "the trunk"
            )
            if busy is not None:
                return self.refuse(call, busy)
        call["target"] = ",".join(d["number"] for d in state["ringing"])[:64]
        if not state.get("managed"):
            KSR.dialog.dlg_manage()
            state["managed"] = True
            lines = {d["number"] for d in state["ringing"] if d["kind"] == "line"}
            if state.get("caller_line"):
                lines.add(state["caller_line"])
            for number in sorted(lines):
                KSR.dialog.set_dlg_profile(LINE_PROFILE, number)
            if external:
                KSR.dialog.set_dlg_profile(TRUNK_PROFILE, "trunk")
        KSR.pv.sets(CALL_VAR, json.dumps(call, separators=(",", ":")))
        KSR.pv.sets(STATE_AVP, json.dumps(state, separators=(",", ":")))
        timeout = state.get("timeout")
        if timeout:
            KSR.tm.t_set_fr(int(timeout) * 1000, 4000)
        KSR.tm.t_on_failure("ksr_failure_route")
        self.sender.send("active", self.active(call))
        if KSR.tm.t_relay() < 0:
            KSR.sl.sl_reply_error()
        return 1

    def ksr_failure_route(self, msg: Any) -> int:
        self._seen = {}
        state = json.loads(pv(STATE_AVP) or "{}")
        if not state:
            return 1
        if KSR.tm.t_is_canceled() > 0:
            self.record(state["call"], 487, "caller hung up")
            return 1
        return self.next_or_fail(state, int(pv("$T_reply_code") or 500), in_failure_route=True)

    def next_or_fail(self, state: dict[str, Any], code: int, *, in_failure_route: bool) -> int:
        """After a destination failed: the next one of a serial plan, else the called line's
        forward for that failure, else the failure itself (in the failure route Kamailio then
        relays the best answer received)."""
        call = state["call"]
        while state["rest"]:
            item = state["rest"].pop(0)
            outcome = self.set_target(item, append=False)
            if outcome == 0:
                state["ringing"] = [item]
                return self.send(state)
            code = outcome if code not in (486,) else code
        features = state.get("features")
        if features and not state.get("forwarded"):
            callee = self.lookup(features)
            plan = (
                None
                if callee is None
                else rules.plan_on_failure(callee, rules.failure_condition(code), self.lookup)
            )
            if plan is not None:
                call["route"] = rules.ROUTE_FORWARDED
                target = plan.destinations[0]
                if target.kind == "media":
                    return self.to_media(call, target.number)
                state.update(rest=[], timeout=None, forwarded=True, features=None)
                item = self.flat(target)
                if self.set_target(item, append=False) == 0:
                    state["ringing"] = [item]
                    return self.send(state)
        reason = FAILURE_REASONS.get(code, f"final answer {code}")
        if in_failure_route:
            self.record(call, code, reason)
            return 1
        phrase = "Busy Here" if code == 486 else "Temporarily Unavailable"
        return self.refuse(call, rules.Refusal(code, phrase, reason))

    def to_media(self, call: dict[str, Any], target: str) -> int:
        """Voicemail, IVR, queue waiting room, conference: the media service's, named in the
        request URI ("voicemail-33612345678@media")."""
        call["route"] = rules.ROUTE_MEDIA
        call["target"] = target[:64]
        if not self.media_uri:
            return self.refuse(
                call, rules.Refusal(480, "Temporarily Unavailable", "media service not available")
            )
        kind, _, number = target.partition(":")
        KSR.pv.sets("$ru", f"sip:{kind}-{number.lstrip('+')}@{self.media_uri}")
        state = {
            "call": call,
            "rest": [],
            "timeout": None,
            "features": None,
            "ringing": [{"kind": "media", "number": target, "sip_user": None}],
        }
        return self.send(state)

    # --- Star codes ----------------------------------------------------------------------------
    def star_code(self, call: dict[str, Any], caller: Mapping[str, Any], dialled: str) -> int:
        """Applied by voipdesk's own use case (the pages' one) over its internal API; the call's
        final answer says what happened (later an announcement of the media service)."""
        call["route"] = rules.ROUTE_STAR_CODE
        KSR.tm.t_newtran()  # a retransmitted INVITE meets this transaction, not a second call
        if not self.api_url:
            return self.refuse(call, UNAVAILABLE_STAR_CODES)
        request = urllib.request.Request(
            f"{self.api_url}/api/v1/switch/star-codes",
            data=json.dumps({"sip_user": caller["sip"]["username"], "dialled": dialled}).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept-Language": "en",
                "Authorization": f"Bearer {self.switch_token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=3) as response:
                outcome = json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read()).get("detail", "refused")
            except ValueError:
                detail = "refused"
            return self.refuse(call, rules.Refusal(403, "Forbidden", str(detail)[:150]))
        except (OSError, ValueError):
            return self.refuse(call, UNAVAILABLE_STAR_CODES)
        text = str(outcome.get("summary") or "star code applied")[:150].replace('"', "'")
        KSR.hdr.append_to_reply(f'Reason: SIP;cause=200;text="{text}"\r\n')
        KSR.sl.send_reply(480, "Star Code Applied")
        self.record(call, 480, text, disposition=rules.DISPOSITION_SERVICE)
        return 1

    # --- Answers and records -------------------------------------------------------------------
    def reply(self, code: int, phrase: str, text: str) -> int:
        KSR.hdr.append_to_reply(f'Reason: SIP;cause={code};text="{text}"\r\n')
        KSR.sl.send_reply(code, phrase)
        return 1

    def refuse(self, call: dict[str, Any], refusal: rules.Refusal) -> int:
        KSR.hdr.append_to_reply(f'Reason: SIP;cause={refusal.code};text="{refusal.text}"\r\n')
        KSR.sl.send_reply(refusal.code, refusal.phrase)
        if call.get("route") in (None, rules.ROUTE_DIRECT):
            call["route"] = rules.ROUTE_REFUSED
        self.record(call, refusal.code, refusal.text)
        return 1

    def new_call(self, caller: str, callee: str, direction: str) -> dict[str, Any]:
        return {
            "call_key": pv("$ci")[:200],
            "caller": (caller or "anonymous")[:64],
            "callee": callee[:64],
            "direction": direction,
            "line_number": None,
            "billing_group_id": None,
            "route": rules.ROUTE_DIRECT,
            "target": None,
            "started_at": time.time(),
        }

    @staticmethod
    def active(call: Mapping[str, Any]) -> dict[str, Any]:
        return {name: call.get(name) for name in reporter.ACTIVE_COLUMNS}

    def record(
        self,
        call: Mapping[str, Any],
        code: int,
        reason: str | None,
        *,
        answered_at: float | None = None,
        ended_at: float | None = None,
        disposition: str | None = None,
    ) -> None:
        ended = ended_at or time.time()
        values = {name: call.get(name) for name in reporter.CALL_COLUMNS}
        values.update(
            answered_at=answered_at,
            ended_at=ended,
            duration_seconds=round(ended - answered_at) if answered_at else 0,
            disposition=disposition or rules.disposition(code),
            sip_code=code,
            reason=(reason or None) and str(reason)[:200],
            source="switch",
        )
        self.sender.send("call", values)

    def ksr_dialog_event(self, msg: Any, event: str) -> int:
        facts = pv(CALL_VAR)
        if not facts:
            return 1
        call = json.loads(facts)
        if event == "dialog:start":
            now = time.time()
            KSR.pv.sets(ANSWERED_VAR, repr(now))
            self.sender.send("active", {**self.active(call), "answered_at": now})
        elif event in ("dialog:end", "dialog:timeout"):
            answered = pv(ANSWERED_VAR)
            reason = "hung up" if event == "dialog:end" else "dialog timed out"
            self.record(call, 200, reason, answered_at=float(answered) if answered else None)
        return 1

    # --- The writer (a timer process of its own) -----------------------------------------------
    def ksr_flush_events(self, msg: Any, name: str | None = None) -> int:
        if self._writer is None:
            url = self.settings["database_url"]
            dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
            self._writer = reporter.Writer(
                self.reporter_port, self.store.writer_connection, dialect
            )
        self._writer.flush()
        return 1
