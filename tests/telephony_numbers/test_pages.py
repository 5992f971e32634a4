"""Pages of alias configurations and abbreviated numbers (TestClient, both databases)."""

from __future__ import annotations

from urllib.parse import quote

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.telephony.aliases import queries


def _setup(client, language="en"):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    account = make_account(platform, language=language)
    result = deliver(
        platform, account.id, lines=[("sip-entreprise", 2), ("sip-decouverte", 1)], aliases=1
    )
    with platform.session() as session:
        from voipdesk.subscriptions import queries as subscriptions

        alias = subscriptions.group_services(session, result.billing_group_id, ("alias_number",))[0]
    assert login(client, account.email, PASSWORD).status_code == 303
    lines = [c.number_e164 for c in result.sip_credentials]
    return platform, result.billing_group_id, alias.number, lines


def test_redirect_then_queue_with_confirmation_from_the_page(client):
    platform, group, alias, lines = _setup(client)
    base = f"/telephony/{group}/numbers/{quote(alias)}/configuration"
    number_page = client.get(f"/telephony/{group}/numbers/{quote(alias)}")
    assert base in number_page.text  # the number page links to its configuration
    page = client.get(base)
    assert page.status_code == 200 and "No configuration" in page.text
    editor = client.get(f"{base}?type=redirect")
    token = csrf_from(editor.text)
    saved = client.post(
        f"{base}/save",
        data={
            "csrf_token": token,
            "type": "redirect",
            "destination": lines[0],
            "present_alias": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    with platform.session() as session:
        assert queries.compiled_configuration(session, alias).compiled["redirect"]["present_alias"]
    queue = client.get(f"{base}?type=queue")
    assert 'data-testid="deletion-warning"' in queue.text
    form = {
        "csrf_token": token,
        "type": "queue",
        "queue-0-id": "queue",
        "queue-0-member": lines[:2],
        "queue-0-strategy": "sequential",
        "queue-0-ring_timeout": "15",
        "queue-0-max_wait": "120",
        "queue-0-overflow-action": f"voicemail:{lines[0]}",
    }
    refused = client.post(f"{base}/save", data=form)
    assert refused.status_code == 409 and "Confirm the deletion" in refused.text
    done = client.post(f"{base}/save", data={**form, "confirm_delete": "1"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    with platform.session() as session:
        compiled = queries.compiled_configuration(session, alias).compiled
    assert compiled["type"] == "queue" and compiled["queue"]["strategy"] == "sequential"
    assert compiled["queue"]["overflow"]["action"] == "voicemail"
    # A queue without members is refused by its rule, the form shown again as filled in.
    empty = client.post(
        f"{base}/save", data={**form, "queue-0-member": [], "queue-0-max_wait": "99"}
    )
    assert empty.status_code == 422 and "has no members" in empty.text
    assert 'value="99"' in empty.text
    deleted = client.post(f"{base}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert deleted.status_code == 303
    assert "No configuration" in client.get(base).text


def test_ivr_tree_is_shown_as_a_caller_follows_it(client):
    platform, group, alias, lines = _setup(client, language="fr")
    base = f"/telephony/{group}/numbers/{quote(alias)}/configuration"
    token = csrf_from(client.get(f"{base}?type=ivr").text)
    form = {
        "csrf_token": token,
        "type": "ivr",
        "menus": "2",
        "queues": "0",
        "greeting-text": "Bonjour",
        "menu-0-id": "main",
        "menu-0-name": "Accueil",
        "menu-0-key-1-action": f"line:{lines[0]}",
        "menu-0-key-2-action": "submenu:m1",
        "menu-1-id": "m1",
        "menu-1-name": "Comptabilité",
        "menu-1-key-1-action": "message",
        "menu-1-key-1-text": "Nos bureaux sont fermés",
        "menu-1-key-*-action": "submenu:main",
    }
    added = client.post(f"{base}/save", data={**form, "op": "add_menu"})
    assert added.status_code == 200 and 'data-menu="m2"' in added.text  # nothing stored yet
    with platform.session() as session:
        assert queries.compiled_configuration(session, alias) is None
    saved = client.post(f"{base}/save", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = client.get(base).text
    assert "Serveur vocal interactif" in page
    tree = page.split('class="ivr-tree"', 1)[1]
    assert (
        tree.index("Accueil") < tree.index("Comptabilité") < tree.index("Nos bureaux sont fermés")
    )
    assert "retour à ce menu" in tree
    stuck = client.post(
        f"{base}/save",
        data={**form, "menu-0-key-1-action": "", "menu-1-key-1-action": "submenu:main"},
    )
    assert stuck.status_code == 422 and "n&#39;a pas d&#39;issue" in stuck.text


def test_abbreviated_numbers_page(client):
    _platform, group, _alias, lines = _setup(client)
    url = f"/telephony/{group}/abbreviated-numbers"
    assert url in client.get(f"/telephony/{group}").text
    page = client.get(url)
    assert page.status_code == 200
    assert "not available with the Découverte offer" in page.text
    token = csrf_from(page.text)
    added = client.post(
        f"{url}/add",
        data={"csrf_token": token, "code": "701", "name": "Accueil", "destination": lines[0]},
    )
    assert added.status_code == 200 and "dial timeout" in added.text
    assert 'data-code="701"' in added.text
    used = client.post(
        f"{url}/add",
        data={"csrf_token": token, "code": "701", "name": "Again", "destination": lines[0]},
    )
    assert used.status_code == 409 and "already used" in used.text
    line = client.post(
        f"{url}/add",
        data={
            "csrf_token": token,
            "code": "2001",
            "name": "Maison",
            "destination": "0478123456",
            "line": lines[0],
        },
    )
    assert line.status_code == 200 and 'data-code="2001"' in line.text
    removed = client.post(f"{url}/remove", data={"csrf_token": token, "code": "701"})
    assert removed.status_code == 200 and 'data-code="701"' not in removed.text


def test_contact_center_agents_and_recordings_on_the_page(client):
    platform, group, alias, lines = _setup(client)
    from datetime import timedelta

    from tests.telephony_numbers.helpers import OUTSIDE, ivr_with_queue, tone_wav
    from voipdesk.telephony.aliases import actions, services

    account_id = None
    with platform.session() as session:
        from voipdesk.subscriptions import queries as subscriptions

        account_id = subscriptions.group_by_id(session, group).account_id
    configuration = dict(ivr_with_queue(lines[:2]), type="contact_center", recording=True)
    with platform.transaction() as session:
        actions.save_configuration(
            session, platform, account_id, group, alias, configuration,
            confirm_delete=False, actor="test",
        )  # fmt: skip
        services.store_call_recording(
            session, platform, alias, caller=OUTSIDE, agent_number=lines[0],
            started_at=platform.now() - timedelta(minutes=3), duration_seconds=12,
            content=tone_wav(0.2),
        )  # fmt: skip
    base = f"/telephony/{group}/numbers/{quote(alias)}/configuration"
    page = client.get(base)
    assert page.status_code == 200
    assert f'data-agent="{lines[0]}"' in page.text and "*46#" in page.text
    assert f"{base}/recordings/" in page.text and "<audio controls" in page.text
    recording = page.text.split(f"{base}/recordings/", 1)[1].split('"', 1)[0]
    played = client.get(f"{base}/recordings/{recording}")
    assert played.status_code == 200 and played.content[:4] == b"RIFF"
    changed = client.post(
        f"{base}/agent",
        data={"csrf_token": csrf_from(page.text), "line": lines[0], "status": "on_break"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    with platform.session() as session:
        compiled = queries.compiled_configuration(session, alias)
    assert compiled.compiled["agents"][lines[0]] == "on_break" and compiled.version == 2


def _field(page: str, name: str) -> str:
    """The design system's field block (or fieldset) of the form field `name`."""
    import re

    found = re.search(
        r'<(?:div|fieldset) class="field[^"]*"[^>]*>(?:(?!</(?:div|fieldset)>).)*?name="'
        + re.escape(name)
        + r'".*?</(?:div|fieldset)>',
        page,
        re.S,
    )
    assert found, f"no field {name}"
    return found.group(0)


def test_the_editor_is_built_with_the_design_system_and_puts_errors_beside_their_fields(client):
    import re

    _platform, group, alias, lines = _setup(client, language="fr")
    base = f"/telephony/{group}/numbers/{quote(alias)}/configuration"
    page = client.get(f"{base}?type=queue").text
    # Breadcrumbs down to the number, buttons by kind, every control with its bound label.
    assert 'class="breadcrumbs"' in page and f'href="/telephony/{group}/numbers/' in page
    editor = page.split('class="configuration-editor"', 1)[1].split("</form>", 1)[0]
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert (
        re.findall(r'<button(?![^>]*class="button (?:primary|secondary|destructive))', main) == []
    )
    for control in re.findall(r'<(?:input|select|textarea) [^>]*id="([^"]+)"', editor):
        assert f'for="{control}"' in editor or control.startswith("f-queue-0-member"), control
    assert "En secondes, de 5 à 120." in _field(page, "queue-0-ring_timeout")  # its hint
    token = csrf_from(page)
    form = {
        "csrf_token": token,
        "type": "queue",
        "queue-0-id": "queue",
        "queue-0-member": lines[:2],
        "queue-0-ring_timeout": "vingt",
        "queue-0-max_wait": "120",
    }
    # A value of the wrong kind: the form says what failed, the field says what it wants.
    refused = client.post(f"{base}/save", data=form)
    assert refused.status_code == 422
    ring = _field(refused.text, "queue-0-ring_timeout")
    assert 'aria-invalid="true"' in ring and "Un nombre entier." in ring
    assert 'value="vingt"' in ring  # as it was typed
    assert 'id="form-error"' in refused.text
    assert "aria-invalid" not in _field(refused.text, "queue-0-max_wait")
    # A rule of the queue: no member. The members' fieldset carries it.
    empty = client.post(
        f"{base}/save", data={**form, "queue-0-ring_timeout": "20", "queue-0-member": []}
    )
    assert empty.status_code == 422
    members = _field(empty.text, "queue-0-member")
    assert 'class="field-error"' in members and 'aria-invalid="true"' in members
    # A conference with a PIN too easy to guess: the PIN field says so.
    conference = client.post(
        f"{base}/save", data={"csrf_token": token, "type": "conference", "pin": "1234"}
    )
    assert conference.status_code == 422
    assert 'class="field-error"' in _field(conference.text, "pin")
    # Deleting asks first, in a dialog (the design system's confirmation).
    client.post(
        f"{base}/save",
        data={"csrf_token": token, "type": "redirect", "destination": lines[0]},
        follow_redirects=False,
    )
    saved = client.get(base).text
    assert re.search(r'action="[^"]+/delete" class="action-form" data-confirm="', saved)
