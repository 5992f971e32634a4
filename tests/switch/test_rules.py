"""The switch's decisions as pure rules (what Kamailio's module applies to each call)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voipdesk.switch import rules


def line(number: str, **overrides) -> dict:  # type: ignore[no-untyped-def]
    record = {
        "number": number,
        "kind": "sip_line",
        "state": "active",
        "accepts_calls": True,
        "sip": {"username": number.lstrip("+"), "allowed_ips": []},
        "limits": {
            "simultaneous_calls": 2,
            "outgoing_calls": True,
            "international": True,
            "premium_rate": True,
            "premium_prefixes": ["+3389"],
            "number_list_mode": "none",
            "number_list": [],
            "spending_cap_reached": False,
        },
        "forwards": {},
        "do_not_disturb": False,
        "reject_anonymous": False,
        "caller_id": {"mode": "line", "number": number},
    }
    for key, value in overrides.items():
        if key in record["limits"]:
            record["limits"][key] = value
        else:
            record[key] = value
    return record


def lookup_of(*records):  # type: ignore[no-untyped-def]
    table = {r["number"]: r for r in records}
    return table.get


@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True))
def test_a_national_number_becomes_e164_in_the_callers_country(national):
    assert rules.normalise_dialled(national, "+33412345678") == "+33" + national[1:]
    assert rules.normalise_dialled(national, "+3221234567") == "+32" + national[1:]
    assert rules.normalise_dialled("00" + national[1:], "+33412345678") == "+" + national[1:]


def test_star_codes_and_short_codes_are_not_numbers():
    assert rules.normalise_dialled("*21*0612345678#", "+33412345678") is None
    assert rules.normalise_dialled("123", "+33412345678") is None
    assert (
        rules.country_prefix("+41221234567") == "41" and rules.country_prefix("+15145551234") == "1"
    )


def test_outgoing_restrictions_each_name_their_rule():
    caller = line("+33412345678")
    assert rules.outgoing_refusal(caller, "+33612345678") is None
    assert (
        "international"
        in rules.outgoing_refusal(line("+33412345678", international=False), "+41221234567").text
    )
    assert (
        "premium"
        in rules.outgoing_refusal(line("+33412345678", premium_rate=False), "+33891234567").text
    )
    blocked = line("+33412345678", number_list_mode="block", number_list=["+336"])
    assert "block-list" in rules.outgoing_refusal(blocked, "+33612345678").text
    allowed = line("+33412345678", number_list_mode="allow", number_list=["+334"])
    assert "allow-list" in rules.outgoing_refusal(allowed, "+33612345678").text
    assert rules.outgoing_refusal(allowed, "+33498765432") is None


def test_a_reached_spending_cap_or_a_barred_line_stops_calls_but_not_emergency_numbers():
    capped = line("+33412345678", spending_cap_reached=True)
    assert rules.outgoing_refusal(capped, "+33612345678").text == "spending cap reached"
    assert rules.outgoing_refusal(capped, "112") is None
    assert rules.outgoing_refusal(capped, "+33800123456") is None  # toll-free
    barred = line("+33412345678", outgoing_calls=False)
    assert rules.outgoing_refusal(barred, "+33612345678").code == 403
    assert rules.internal_refusal(barred).code == 403


@given(st.integers(0, 10), st.integers(1, 10))
def test_the_call_over_the_limit_is_busy(in_progress, limit):
    refusal = rules.call_limit_refusal(in_progress, limit, "the line")
    assert (refusal is not None) == (in_progress >= limit)
    if refusal is not None:
        assert refusal.code == 486 and str(limit) in refusal.text


def test_registration_is_refused_for_unknown_suspended_lines_and_foreign_addresses():
    assert rules.registration_refusal(None, "127.0.0.1").text == "unknown line"
    assert (
        "suspended"
        in rules.registration_refusal(
            line("+33412345678", state="suspended", accepts_calls=False), "127.0.0.1"
        ).text
    )
    restricted = line("+33412345678")
    restricted["sip"]["allowed_ips"] = ["192.0.2.0/24", "2001:db8::1"]
    assert rules.registration_refusal(restricted, "192.0.2.77") is None
    assert rules.registration_refusal(restricted, "2001:db8::1") is None
    assert rules.registration_refusal(restricted, "198.51.100.1").code == 403


def test_unconditional_forward_to_a_line_follows_that_lines_own_forward_but_not_forever():
    a = line(
        "+33400000001", forwards={"unconditional": {"target": "line", "number": "+33400000002"}}
    )
    b = line(
        "+33400000002", forwards={"unconditional": {"target": "line", "number": "+33400000001"}}
    )
    plan = rules.plan_for_line(a, lookup_of(a, b))
    assert plan.route == rules.ROUTE_FORWARDED and len(plan.destinations) == 1
    outside = line(
        "+33400000003", forwards={"unconditional": {"target": "external", "number": "+33612345678"}}
    )
    plan = rules.plan_for_line(outside, lookup_of(outside))
    assert plan.destinations[0].kind == "external" and plan.destinations[0].number == "+33612345678"


def test_do_not_disturb_is_busy_or_the_busy_forward():
    quiet = line("+33400000001", do_not_disturb=True)
    assert rules.plan_for_line(quiet, lookup_of(quiet)).refusal.code == 486
    quiet["forwards"] = {"busy": {"target": "voicemail"}}
    plan = rules.plan_for_line(quiet, lookup_of(quiet))
    assert plan.destinations[0].kind == "media" and plan.destinations[0].number.startswith(
        "voicemail:"
    )


def test_no_answer_forward_sets_how_long_the_line_rings():
    ringing = line(
        "+33400000001",
        forwards={"no_answer": {"target": "line", "number": "+33400000002", "delay": 7}},
    )
    assert rules.plan_for_line(ringing, lookup_of(ringing)).ring_timeout == 7
    assert rules.plan_for_line(line("+33400000001"), lookup_of()).ring_timeout is None
    assert rules.failure_condition(486) == "busy" and rules.failure_condition(408) == "no_answer"


def _queue(strategy, members):  # type: ignore[no-untyped-def]
    return {
        "number": "+33400000099",
        "accepts_calls": True,
        "alias_configuration": {
            "type": "queue",
            "queue": {
                "strategy": strategy,
                "ring_timeout": 15,
                "members": [{"kind": "line", "number": m, "status": "available"} for m in members],
            },
        },
    }


@given(st.integers(0, 20))
def test_round_robin_starts_one_further_each_call_and_skips_members_not_available(rotation):
    members = [line(f"+3340000001{i}") for i in range(3)]
    members[1]["do_not_disturb"] = True
    alias = _queue("round_robin", [m["number"] for m in members])
    plan = rules.plan_for_alias(
        alias, lookup_of(*members), member_available=lambda r: True, rotation=rotation
    )
    numbers = [d.number for d in plan.destinations]
    assert sorted(numbers) == [members[0]["number"], members[2]["number"]]
    assert numbers[0] == [members[0]["number"], members[2]["number"]][rotation % 2]
    assert not plan.parallel and plan.ring_timeout == 15


def test_ring_all_forks_and_an_empty_queue_says_so():
    members = [line("+33400000011"), line("+33400000012")]
    alias = _queue("ring_all", [m["number"] for m in members])
    plan = rules.plan_for_alias(alias, lookup_of(*members), member_available=lambda r: True)
    assert plan.parallel and len(plan.destinations) == 2
    none = rules.plan_for_alias(alias, lookup_of(*members), member_available=lambda r: False)
    assert none.refusal.code == 480 and "no queue member" in none.refusal.text


def test_media_configurations_go_to_the_media_service_and_unconfigured_numbers_are_refused():
    for kind in ("ivr", "contact_center", "conference"):
        alias = {"number": "+33400000099", "alias_configuration": {"type": kind}}
        plan = rules.plan_for_alias(alias, lookup_of(), member_available=lambda r: True)
        assert plan.destinations[0].number == f"{kind}:+33400000099"
    bare = {"number": "+33400000099", "alias_configuration": None}
    assert (
        rules.plan_for_alias(bare, lookup_of(), member_available=lambda r: True).refusal.code == 480
    )


def test_redirect_presents_the_alias_when_asked():
    target = line("+33400000001")
    alias = {
        "number": "+33400000099",
        "alias_configuration": {
            "type": "redirect",
            "redirect": {"number": target["number"], "present_alias": True},
        },
    }
    plan = rules.plan_for_alias(alias, lookup_of(target), member_available=lambda r: True)
    assert plan.presented_number == "+33400000099" and plan.destinations[0].kind == "line"


@given(st.integers(100, 699))
def test_every_final_answer_has_a_disposition(code):
    assert rules.disposition(code) in {
        rules.DISPOSITION_ANSWERED,
        rules.DISPOSITION_BUSY,
        rules.DISPOSITION_NO_ANSWER,
        rules.DISPOSITION_REFUSED,
        rules.DISPOSITION_FAILED,
    }


def test_anonymous_callers_and_hidden_identity():
    assert rules.is_anonymous("anonymous") and rules.is_anonymous("+3361", "id")
    assert not rules.is_anonymous("+33612345678", "none")
    hidden = line("+33400000001", caller_id={"mode": "hidden", "number": None})
    assert rules.presented_identity(hidden) == ("+33400000001", True)
    assert rules.presented_identity(line("+33400000001"), hide_once=True)[1] is True


def test_blocked_callers_are_declined_by_prefix_and_anonymous_ones_are_not_matched():
    callee = line("+33400000001", blocked_callers=["+3361", "+33498765432"])
    assert rules.incoming_refusal(callee, False, "+33612345678").code == 603
    assert rules.incoming_refusal(callee, False, "+33498765432").code == 603
    assert rules.incoming_refusal(callee, False, "+33712345678") is None
    assert rules.incoming_refusal(callee, True, "anonymous") is None
