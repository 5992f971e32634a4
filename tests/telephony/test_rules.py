"""Telephony rules: forwarding (itself, loops through the group, numbers, delays), lists and
addresses, PINs, greetings, star codes, routing records. Unit and property tests."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.telephony import rules
from voipdesk.telephony.rules import Refusal

LINES = [f"+3319000000{i}" for i in range(6)]


def _forward(**overrides):
    values = {
        "line_number": LINES[0],
        "condition": rules.BUSY,
        "target": rules.TARGET_EXTERNAL,
        "number": "+33612345678",
        "delay": None,
        "group_lines": LINES,
        "forwards": {},
        "country": "FR",
    }
    values.update(overrides)
    return rules.check_forward(**values)


def _refused(rule, **overrides):
    with pytest.raises(Refusal) as caught:
        _forward(**overrides)
    assert caught.value.rule == rule
    return caught.value


def test_external_forward_is_stored_as_e164():
    forward = _forward(number="06 12 34 56 78")
    assert forward == rules.Forward(rules.BUSY, rules.TARGET_EXTERNAL, "+33612345678", None)


def test_a_number_of_the_group_is_a_line_forward():
    assert _forward(number=LINES[1]).target == rules.TARGET_LINE


def test_forward_to_itself_is_refused_even_written_nationally():
    _refused("forward-to-itself", number=LINES[0])
    _refused("forward-to-itself", number="0" + LINES[0][3:])


def test_invalid_numbers_are_refused():
    for bad in ("12", "abc", "+33 1", "+999123"):
        assert _refused("invalid-number", number=bad).field == "number"


def test_line_target_outside_the_group_is_refused():
    _refused("forward-line-not-in-group", target=rules.TARGET_LINE, number="+33612345678")


def test_no_answer_delay_is_5_to_60_seconds_default_20():
    assert _forward(condition=rules.NO_ANSWER).delay == 20
    assert _forward(condition=rules.NO_ANSWER, delay=5).delay == 5
    assert _forward(condition=rules.NO_ANSWER, delay=60).delay == 60
    for delay in (4, 61, 0, -1):
        _refused("forward-delay-out-of-range", condition=rules.NO_ANSWER, delay=delay)
    assert _forward(condition=rules.BUSY, delay=99).delay is None  # no delay but on no answer


def test_voicemail_forward_needs_the_voicemail_on():
    assert _forward(target=rules.TARGET_VOICEMAIL, number=None).number is None
    _refused("voicemail-off", target=rules.TARGET_VOICEMAIL, voicemail_enabled=False)


def test_a_loop_through_the_group_is_refused_with_its_chain():
    forwards = {
        LINES[1]: {rules.BUSY: {"target": "line", "number": LINES[2]}},
        LINES[2]: {rules.NO_ANSWER: {"target": "line", "number": LINES[0]}},
    }
    refusal = _refused("forward-loop", number=LINES[1], forwards=forwards)
    assert refusal.values["chain"] == " → ".join([LINES[0], LINES[1], LINES[2], LINES[0]])
    # The line's own current forwards do not count: they are the ones being replaced.
    own = {**forwards, LINES[0]: {rules.BUSY: {"target": "line", "number": LINES[3]}}}
    assert _forward(number=LINES[3], forwards=own).number == LINES[3]


def test_external_forwards_do_not_make_loops():
    forwards = {LINES[1]: {rules.BUSY: {"target": "external", "number": LINES[0]}}}
    assert _forward(number=LINES[1], forwards=forwards).target == rules.TARGET_LINE


# Property: a forward is accepted exactly when no chain of line forwards leads back.
def _reaches(graph, start, goal):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node in seen:
            continue
        seen.add(node)
        todo.extend(graph.get(node, ()))
    return False


edges = st.lists(
    st.tuples(
        st.sampled_from(LINES[1:]),
        st.sampled_from(rules.CONDITIONS),
        st.sampled_from(LINES),
    ),
    max_size=12,
)


@given(edges, st.sampled_from(LINES))
def test_property_loops_refused_exactly_when_the_chain_comes_back(edge_list, target):
    forwards: dict[str, dict[str, dict[str, object]]] = {}
    for source, condition, destination in edge_list:
        if destination != source:
            forwards.setdefault(source, {})[condition] = {"target": "line", "number": destination}
    graph = rules.forward_graph(forwards)
    start = LINES[0]
    try:
        forward = _forward(number=target, target=rules.TARGET_LINE, forwards=forwards)
    except Refusal as refusal:
        assert refusal.rule in ("forward-loop", "forward-to-itself")
        assert target == start or _reaches(graph, target, start)
        if refusal.rule == "forward-loop":
            chain = refusal.values["chain"].split(" → ")
            assert chain[0] == chain[-1] == start and chain[1] == target
            for a, b in itertools.pairwise(chain):  # every step is a real forward
                assert a == start or b in graph[a]
    else:
        assert forward.number == target
        assert not _reaches(graph, target, start)
        # Stored, the group still has no loop through the line.
        graph[start] = {target}
        assert not _reaches(graph, target, start)


@given(st.text(max_size=20))
def test_property_forward_numbers_are_e164_or_refused(text):
    try:
        forward = _forward(number=text)
    except Refusal as refusal:
        assert refusal.rule in ("invalid-number", "forward-number-missing", "forward-to-itself",
                                "forward-loop")  # fmt: skip
    else:
        assert forward.number is not None and forward.number.startswith("+")
        assert forward.number[1:].isdigit()


def test_number_lists_read_national_prefixes_in_the_country():
    assert rules.normalise_number_list(["0899", "+41 900", "00 44 20", "089 9"], "FR") == [
        "+33899",
        "+41900",
        "+4420",
    ]
    assert rules.normalise_number_list(["0900"], "BE") == ["+32900"]
    with pytest.raises(Refusal) as caught:
        rules.normalise_number_list(["+33 abc"], "FR")
    assert caught.value.rule == "invalid-number-prefix"
    with pytest.raises(Refusal):
        rules.normalise_number_list(["+331"] * 101, "FR")


def test_allowed_addresses_and_networks():
    assert rules.normalise_allowed_ips(["203.0.113.7", "198.51.100.9/24", "2001:db8::/32"]) == [
        "203.0.113.7",
        "198.51.100.0/24",
        "2001:db8::/32",
    ]
    for bad, rule in (("300.1.1.1", "invalid-address"), ("0.0.0.0/0", "address-range-too-wide")):
        with pytest.raises(Refusal) as caught:
            rules.normalise_allowed_ips([bad])
        assert caught.value.rule == rule
    assert rules.ip_allowed("198.51.100.77", ["198.51.100.0/24"])
    assert not rules.ip_allowed("198.51.101.1", ["198.51.100.0/24", "203.0.113.7"])
    assert rules.ip_allowed("192.0.2.1", [])


@given(st.ip_addresses(v=4), st.integers(min_value=8, max_value=32))
def test_property_a_network_allows_its_own_addresses(address, prefix):
    (network,) = rules.normalise_allowed_ips([f"{address}/{prefix}"])
    assert rules.ip_allowed(str(address), [network])


def test_pins():
    for good in ("2580", "19472", "73914682"):
        assert rules.check_pin(good, "+33190000000") == good
    for bad in ("123", "123456789", "12a4", ""):
        with pytest.raises(Refusal) as caught:
            rules.check_pin(bad)
        assert caught.value.rule == "voicemail-pin-format"
    for trivial in ("0000", "1234", "98765", "1212", "123123", "0000000"):
        with pytest.raises(Refusal) as caught:
            rules.check_pin(trivial)
        assert caught.value.rule == "voicemail-pin-trivial"
    with pytest.raises(Refusal):
        rules.check_pin("4567", "+33190004567")  # the end of the line's own number


@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_property_accepted_pins_are_not_runs_or_repeats(pin):
    try:
        rules.check_pin(pin)
    except Refusal:
        return
    assert len(set(pin)) > 1 and pin not in "0123456789" and pin not in "9876543210"


def test_greeting_formats():
    assert rules.greeting_format("audio/mpeg", "x", 10) == "mp3"
    assert rules.greeting_format("application/octet-stream", "hello.WAV", 10) == "wav"
    with pytest.raises(Refusal) as caught:
        rules.greeting_format("audio/ogg", "a.ogg", 10)
    assert caught.value.rule == "greeting-format-unsupported"
    with pytest.raises(Refusal) as caught:
        rules.greeting_format("audio/wav", "a.wav", rules.GREETING_MAX_BYTES + 1)
    assert caught.value.rule == "greeting-too-large"


def test_star_codes_table_and_parser():
    patterns = [code.pattern for code in rules.STAR_CODES]
    for expected in ("*21*N#", "#21#", "*67*N#", "#67#", "*61*N#", "#61#", "*62*N#", "#62#",
                     "*26#", "#26#", "*31#N"):  # fmt: skip
        assert expected in patterns
    parse = rules.parse_star_code
    assert parse("*21*0612345678#") == rules.DialledCode(
        "forward_on", "unconditional", "0612345678"
    )
    assert parse("#21#") == rules.DialledCode("forward_off", "unconditional")
    assert parse("*67*+33612345678#").condition == "busy"
    assert parse("*61*0612345678*30#") == rules.DialledCode(
        "forward_on", "no_answer", "0612345678", 30
    )
    assert parse("*62*0612345678#").condition == "unreachable"
    assert parse("*26#").action == "dnd_on" and parse("#26#").action == "dnd_off"
    assert parse("*31#0612345678") == rules.DialledCode("hide_caller_id_once", None, "0612345678")
    for not_a_code in ("0612345678", "*21*#", "*99#", "*67*061234*30#", "#21", ""):
        assert parse(not_a_code) is None
    # Every code of the table is parsed to the action the table says.
    for code in rules.STAR_CODES:
        dialled = code.pattern.replace("N", "0612345678")
        parsed = parse(dialled)
        assert parsed is not None and parsed.action == code.action
        assert parsed.condition == code.condition


def _facts(**overrides):
    values = {
        "number": LINES[0],
        "kind": "sip_line",
        "state": "active",
        "billing_group_id": "g",
        "sip_username": LINES[0][1:],
        "sip_ha1": "0" * 32,
        "offer": "sip-entreprise",
        "simultaneous_calls": 4,
        "outgoing_calls": True,
    }
    values.update(overrides)
    return rules.LineFacts(**values)


def test_routing_record_of_a_line():
    record = rules.compile_record(
        _facts(
            settings={
                "caller_id": "hidden",
                "block_outgoing": True,
                "forwards": {"busy": {"target": "voicemail", "number": None, "delay": None}},
            }
        ),
        "sip.example",
    )
    assert record["sip"] == {"username": LINES[0][1:], "realm": "sip.example",
                             "ha1": "0" * 32, "allowed_ips": []}  # fmt: skip
    assert record["caller_id"] == {"mode": "hidden", "number": None}
    assert record["limits"]["outgoing_calls"] is False
    assert record["limits"]["simultaneous_calls"] == 4
    assert record["forwards"]["busy"]["target"] == "voicemail"
    assert record["accepts_calls"] is True
    suspended = rules.compile_record(_facts(state="suspended"), "sip.example")
    assert suspended["accepts_calls"] is False and suspended["limits"]["outgoing_calls"] is False


def test_routing_record_of_a_number_has_room_for_its_alias_configuration():
    number = rules.compile_record(_facts(kind="alias_number", sip_username=None), "r")
    assert number["alias_configuration"] is None and "sip" not in number
    configured = rules.compile_record(
        _facts(kind="alias_number", alias_configuration={"type": "queue", "version": 3}), "r"
    )
    assert configured["alias_configuration"] == {"type": "queue", "version": 3}
