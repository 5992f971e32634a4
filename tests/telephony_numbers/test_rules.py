"""Rules of alias configurations and abbreviated numbers: unit and property tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.telephony.abbreviated import errors as abbreviated_errors
from voipdesk.telephony.abbreviated import rules as abbreviated
from voipdesk.telephony.aliases import errors, rules

LINE = "+33190000001"
OTHER_LINE = "+33190000002"
ALIAS = "+33190000009"
CONTEXT = rules.Context(ALIAS, frozenset({LINE, OTHER_LINE}))


# --- Types and confirmation --------------------------------------------------------------------
def test_changing_type_needs_confirmation_only_when_something_is_deleted():
    assert rules.needs_confirmation(rules.REDIRECT, rules.QUEUE)
    assert not rules.needs_confirmation(rules.NONE, rules.QUEUE)
    assert not rules.needs_confirmation(rules.QUEUE, rules.QUEUE)  # same type: an edit
    assert rules.needs_confirmation(rules.IVR, rules.NONE)


# --- Numbers, redirects, PIN -------------------------------------------------------------------
def test_numbers_are_read_as_e164_or_national():
    assert rules.normalise_number("04 78 12 34 56", "FR") == "+33478123456"
    assert rules.normalise_number("+32 2 555 12 12", "FR") == "+3225551212"
    for bad in ("", "12", "hello", "+33 0000"):
        with pytest.raises(errors.InvalidNumber):
            rules.normalise_number(bad, "FR")


def test_redirect_chain_finds_loops_through_other_aliases():
    assert rules.redirect_chain("A", {"A": "B", "B": LINE}) is None
    assert rules.redirect_chain("A", {"A": "B", "B": "C", "C": "A"}) == ["A", "B", "C", "A"]
    assert rules.redirect_chain("A", {"A": "B", "B": "B"}) == ["A", "B", "B"]


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from("ABCDEF"), st.sampled_from("ABCDEFxy"), max_size=6))
def test_a_redirect_chain_is_reported_exactly_when_following_it_never_ends(redirects):
    chain = rules.redirect_chain("A", redirects)
    # Oracle: follow at most len+1 steps; a chain that has not ended by then loops.
    current, steps = "A", 0
    while current in redirects and steps <= len(redirects):
        current, steps = redirects[current], steps + 1
    loops = current in redirects
    assert (chain is not None) == loops
    if chain is not None:
        assert chain[-1] in chain[:-1]


def test_conference_pin_refuses_trivial_ones():
    for trivial in ("1111", "1234", "98765", "00000000"):
        with pytest.raises(errors.TrivialPin):
            rules.check_pin(trivial)
    rules.check_pin("4821")
    rules.check_pin(None)


def test_redirect_to_itself_and_loops_are_refused():
    with pytest.raises(errors.DestinationIsThisNumber):
        rules.check_configuration(rules.REDIRECT, {"destination": ALIAS}, CONTEXT)
    looping = rules.Context(ALIAS, frozenset({LINE}), redirects={"+33190000008": ALIAS})
    with pytest.raises(errors.RedirectLoop):
        rules.check_configuration(rules.REDIRECT, {"destination": "+33190000008"}, looping)
    rules.check_configuration(rules.REDIRECT, {"destination": LINE}, CONTEXT)


# --- Queues ------------------------------------------------------------------------------------
def _queue(*members: tuple[str, str], **extra):  # type: ignore[no-untyped-def]
    return {
        "id": "q",
        "name": "Q",
        "members": [{"kind": k, "number": n} for k, n in members],
    } | extra


def test_a_queue_needs_members_of_the_group_once_each():
    with pytest.raises(errors.QueueWithoutMembers):
        rules.check_queue(_queue(), CONTEXT)
    with pytest.raises(errors.NotALineOfTheGroup):
        rules.check_queue(_queue(("line", "+33478123456")), CONTEXT)
    with pytest.raises(errors.QueueMemberTwice):
        rules.check_queue(_queue(("line", LINE), ("line", LINE)), CONTEXT)
    with pytest.raises(errors.DestinationIsThisNumber):
        rules.check_queue(_queue(("number", ALIAS)), CONTEXT)
    rules.check_queue(_queue(("line", LINE), ("number", "+33478123456")), CONTEXT)


def test_queue_overflow_and_closed_routes_need_their_target():
    with pytest.raises(errors.DestinationIncomplete) as refused:
        rules.check_queue(_queue(("line", LINE), overflow={"action": "voicemail"}), CONTEXT)
    assert refused.value.detail("fr").startswith("Quand la file déborde")
    with pytest.raises(errors.DestinationIncomplete):
        rules.check_queue(_queue(("line", LINE), closed={"action": "message"}), CONTEXT)
    rules.check_queue(
        _queue(("line", LINE), overflow={"action": "message", "message": {"text": "Rappelez"}}),
        CONTEXT,
    )


# --- Opening hours ------------------------------------------------------------------------------
HOURS = {
    "timezone": "Europe/Paris",
    "periods": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}],
    "holidays_country": "FR",
}


def test_opening_hours_follow_local_time_weekdays_and_public_holidays():
    assert rules.is_open(HOURS, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # Monday 09:00 Paris
    assert not rules.is_open(HOURS, datetime(2026, 3, 2, 7, 59, tzinfo=UTC))  # 08:59
    assert not rules.is_open(HOURS, datetime(2026, 3, 2, 17, 0, tzinfo=UTC))  # 18:00: closed
    assert not rules.is_open(HOURS, datetime(2026, 3, 7, 10, 0, tzinfo=UTC))  # Saturday
    assert not rules.is_open(HOURS, datetime(2026, 7, 14, 10, 0, tzinfo=UTC))  # Bastille Day
    belgian = dict(HOURS, holidays_country="BE")
    assert rules.is_open(belgian, datetime(2026, 7, 14, 10, 0, tzinfo=UTC))
    assert not rules.is_open(belgian, datetime(2026, 7, 21, 10, 0, tzinfo=UTC))  # fête nationale
    assert rules.is_open(None, datetime(2026, 7, 14, 3, 0, tzinfo=UTC))  # no hours: always open
    quebec = dict(HOURS, holidays_country="CA", timezone="America/Toronto")
    assert not rules.is_open(quebec, datetime(2026, 6, 24, 15, 0, tzinfo=UTC))  # Saint-Jean


def test_bad_opening_hours_are_refused():
    with pytest.raises(errors.InvalidOpeningHours):
        rules.check_opening_hours(
            {"periods": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]}
        )
    with pytest.raises(errors.UnknownTimezone):
        rules.check_opening_hours({"timezone": "Mars/Olympus", "periods": []})


# --- IVR trees ----------------------------------------------------------------------------------
def _menu(menu_id: str, *keys: tuple[str, str, str | None]):  # type: ignore[no-untyped-def]
    return {
        "id": menu_id,
        "name": menu_id.title(),
        "keys": [{"key": k, "action": a, "target": t} for k, a, t in keys],
    }


def test_ivr_rules_name_the_broken_menu():
    good = [
        _menu("main", ("1", "line", LINE), ("2", "submenu", "sub")),
        _menu("sub", ("*", "submenu", "main")),
    ]
    assert rules.check_menus(good, "main", frozenset()) == ["main", "sub"]
    with pytest.raises(errors.IvrKeyUsedTwice) as twice:
        rules.check_menus(
            [_menu("main", ("1", "line", LINE), ("1", "number", LINE))], "main", frozenset()
        )
    assert twice.value.values == {"key": "1", "menu": "Main"}
    with pytest.raises(errors.IvrMenuWithoutWayOut) as stuck:
        rules.check_menus(
            [_menu("main", ("1", "submenu", "sub")), _menu("sub", ("1", "submenu", "main"))],
            "main",
            frozenset(),
        )
    assert stuck.value.values == {"menu": "Main"}
    with pytest.raises(errors.IvrMenuWithoutWayOut):
        rules.check_menus([_menu("main")], "main", frozenset())
    with pytest.raises(errors.IvrUnknownMenu):
        rules.check_menus([_menu("main", ("1", "submenu", "nowhere"))], "main", frozenset())
    with pytest.raises(errors.IvrUnknownQueue):
        rules.check_menus([_menu("main", ("1", "queue", "q"))], "main", frozenset())
    with pytest.raises(errors.IvrMenuUnreachable):
        rules.check_menus(
            [_menu("main", ("1", "line", LINE)), _menu("lost", ("1", "line", LINE))],
            "main",
            frozenset(),
        )
    with pytest.raises(errors.IvrNoMenu):
        rules.check_menus([_menu("other", ("1", "line", LINE))], "main", frozenset())
    with pytest.raises(errors.IvrDuplicateMenu):
        rules.check_menus([_menu("main", ("1", "line", LINE)), _menu("main")], "main", frozenset())


KEY = st.sampled_from(rules.KEYS)
ACTION = st.sampled_from(rules.ACTIONS)


@st.composite
def menu_graphs(draw):  # type: ignore[no-untyped-def]
    """Any set of menus: each key leads out or to some menu (possibly itself, or a cycle)."""
    count = draw(st.integers(1, 6))
    ids = ["main", *(f"m{i}" for i in range(1, count))]
    menus = []
    for menu_id in ids:
        keys = []
        for key in draw(st.lists(KEY, max_size=5)):  # duplicates possible
            action = draw(ACTION)
            if action == rules.TO_SUBMENU:
                target = draw(st.sampled_from(ids))
            elif action == rules.TO_QUEUE:
                target = "q"
            else:
                target = LINE
            keys.append((key, action, target))
        menus.append(_menu(menu_id, *keys))
    return menus


def _oracle(menus):  # type: ignore[no-untyped-def]
    """An independent reading of the rules: which error, if any, a tree deserves."""
    by_id = {m["id"]: m for m in menus}
    for m in menus:
        keys = [k["key"] for k in m["keys"]]
        if len(keys) != len(set(keys)):
            return errors.IvrKeyUsedTwice
    reachable, frontier = {"main"}, ["main"]
    while frontier:
        for k in by_id[frontier.pop()]["keys"]:
            if k["action"] == "submenu" and k["target"] not in reachable:
                reachable.add(k["target"])
                frontier.append(k["target"])
    if reachable != set(by_id):
        return errors.IvrMenuUnreachable

    def escapes(menu_id, seen):  # type: ignore[no-untyped-def]
        for k in by_id[menu_id]["keys"]:
            if k["action"] != "submenu":
                return True
            if k["target"] not in seen and escapes(k["target"], seen | {k["target"]}):
                return True
        return False

    if not all(escapes(m, {m}) for m in by_id):
        return errors.IvrMenuWithoutWayOut
    return None


@settings(max_examples=300, deadline=None)
@given(menu_graphs())
def test_ivr_trees_are_accepted_exactly_when_the_rules_hold(menus):
    expected = _oracle(menus)
    if expected is None:
        order = rules.check_menus(menus, "main", frozenset({"q"}))
        assert order[0] == "main" and sorted(order) == sorted(m["id"] for m in menus)
        compiled = rules.compile_configuration(
            ALIAS, rules.IVR, {"menus": menus, "root": "main", "queues": []}, 1, year=2026
        )
        # A caller can follow the compiled tree: every submenu key leads to a compiled menu.
        for menu in compiled["menus"].values():
            for choice in menu["keys"].values():
                if choice["action"] == "submenu":
                    assert choice["target"] in compiled["menus"]
    else:
        with pytest.raises(expected):
            rules.check_menus(menus, "main", frozenset({"q"}))


@settings(deadline=None)
@given(menu_graphs(), KEY)
def test_a_key_used_twice_in_any_menu_is_always_refused(menus, key):
    menus[-1]["keys"] += [
        {"key": key, "action": "line", "target": LINE},
        {"key": key, "action": "number", "target": LINE},
    ]
    with pytest.raises(errors.IvrKeyUsedTwice):
        rules.check_menus(menus, "main", frozenset({"q"}))


@settings(deadline=None)
@given(menu_graphs())
def test_without_any_leaving_key_no_tree_is_accepted(menus):
    for menu in menus:
        menu["keys"] = [k for k in menu["keys"] if k["action"] == "submenu"]
    with pytest.raises(
        (errors.IvrMenuWithoutWayOut, errors.IvrKeyUsedTwice, errors.IvrMenuUnreachable)
    ):
        rules.check_menus(menus, "main", frozenset())


def test_contact_center_agents_are_the_line_members_of_its_queues():
    settings_ = {
        "queues": [
            _queue(("line", LINE), ("number", "+33478123456")),
            _queue(("line", OTHER_LINE), ("line", LINE)),
        ]
    }
    assert rules.agents_of(rules.CONTACT_CENTER, settings_) == [LINE, OTHER_LINE]
    assert rules.agents_of(rules.IVR, settings_) == []


def test_audio_formats_are_recognised_by_their_first_bytes():
    assert rules.audio_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "wav"
    assert rules.audio_format(b"ID3\x04\x00") == "mp3"
    assert rules.audio_format(b"\xff\xfb\x90\x00") == "mp3"
    assert rules.audio_format(b"%PDF-1.7") is None
    assert rules.audio_format(b"") is None


# --- Abbreviated numbers ------------------------------------------------------------------------
def test_abbreviated_ranges_and_the_three_digit_warning():
    assert abbreviated.check_code("group", "7001") == []
    assert abbreviated.check_code("group", "701") == [abbreviated.THREE_DIGITS_WARNING]
    assert abbreviated.check_code("line", "2001") == []
    for scope, code in [
        ("group", "2001"),
        ("line", "7001"),
        ("group", "70"),
        ("group", "70011"),
        ("group", "7a01"),
    ]:
        with pytest.raises(abbreviated_errors.AbbreviatedOutOfRange):
            abbreviated.check_code(scope, code)


@settings(deadline=None)
@given(st.sampled_from(["group", "line"]), st.text(alphabet="0123456789a", max_size=6))
def test_an_abbreviated_number_is_accepted_iff_it_has_3_or_4_digits_with_its_prefix(scope, code):
    valid = code.isdigit() and len(code) in (3, 4) and code[0] == abbreviated.PREFIXES[scope]
    if valid:
        assert abbreviated.check_code(scope, code) == (
            [abbreviated.THREE_DIGITS_WARNING] if len(code) == 3 else []
        )
    else:
        with pytest.raises(abbreviated_errors.AbbreviatedOutOfRange):
            abbreviated.check_code(scope, code)


def test_decouverte_lines_have_no_abbreviated_numbers():
    assert not abbreviated.line_may_have_abbreviated_numbers("sip-decouverte")
    assert abbreviated.line_may_have_abbreviated_numbers("sip-entreprise")
