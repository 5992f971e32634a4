"""The pages around the line (TestClient, both databases): the line's phone and assistance tabs,
the group's portabilities (request, refusal shown with its rule, cancel) and lent phones, and the
staff's portabilities (to failure, then success), returns and service SMS."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.accounts.factories import PASSWORD, make_account
from tests.telephony_line.helpers import PORTED, SIREN, rio_for, setup
from tests.web.conftest import csrf_from, login
from voipdesk.accounts.models import ServiceSms
from voipdesk.subscriptions.models import Service
from voipdesk.telephony.models import Registration
from voipdesk.telephony.portability.models import Portability


@pytest.fixture(autouse=True)
def _no_redirects(client):  # type: ignore[no-untyped-def]
    """A page POST answers 303 to where it shows what happened: the tests look at both."""
    client.follow_redirects = False


def _customer(client, language="en", phones=False):  # type: ignore[no-untyped-def]
    platform, customer, group, numbers = setup(client, phones=phones, language=language)
    login(client, customer.email, PASSWORD)
    return platform, customer, group, numbers


def test_the_line_tabs_phone_and_assistance(client):
    platform, _who, group, (line, _other) = _customer(client, phones=True)
    base = f"/telephony/{group}/lines/{quote(line)}"
    calls = client.get(f"{base}/calls")
    assert f'href="{base}/phone"' in calls.text and f'href="{base}/diagnostics"' in calls.text
    phone = client.get(f"{base}/phone")
    assert phone.status_code == 200 and "Yealink SIP-T46U" in phone.text
    made = client.post(
        f"{base}/phone", data={"csrf_token": csrf_from(phone.text), "mac": "00:15:65:AB:CD:EF"}
    )
    assert made.status_code == 303
    after = client.get(f"{base}/phone")
    assert "00:15:65:AB:CD:EF" in after.text and "attached to this line" in after.text
    assert "/provisioning/001565abcdef.cfg" in after.text
    bad = client.post(f"{base}/phone", data={"csrf_token": csrf_from(after.text), "mac": "zz"})
    # The line has a phone with a MAC now: the form is gone, the refusal names the rule.
    assert bad.status_code == 422 and "is not a MAC address" in bad.text

    never = client.get(f"{base}/diagnostics")
    assert never.status_code == 200
    assert 'data-code="never_registered"' in never.text and "What to do:" in never.text
    now = platform.now()
    with platform.transaction() as session:
        session.add(
            Registration(
                number=line, sip_username=line.lstrip("+"), registered_at=now,
                expires_at=now + timedelta(minutes=10), ip="203.0.113.9", port=5062,
                transport="udp", user_agent="Yealink SIP-T46U 66.86", contact=None,
            )
        )  # fmt: skip
    seen = client.get(f"{base}/diagnostics")
    assert 'data-code="registered"' in seen.text and "203.0.113.9:5062" in seen.text
    # A phone attached but never provisioned is said too.
    assert 'data-code="phone_never_provisioned"' in seen.text


def test_portabilities_of_the_group_request_refusal_cancel(client):
    platform, _c, group, (line, _other) = _customer(client, language="fr")
    page = client.get(f"/telephony/{group}/portabilities")
    assert page.status_code == 200 and "Demander une portabilité" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "country": "FR",
        "numbers": "01 45 67 89 01\n01 45 67 89 02",
        "current_operator": "Orange",
        "rio": "02P123ABCXXX",
        "holder_kind": "company",
        "holder_name": "Martin Télécom SARL",
        "registration_number": SIREN,
        "desired_date": "",
        "destination": f"line:{line}",
    }
    refused = client.post(f"/telephony/{group}/portabilities", data=form)
    assert refused.status_code == 422
    assert "ne correspond pas" in refused.text and "3179" in refused.text
    assert 'value="Orange"' in refused.text  # what was typed is kept
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(Portability)) == 0
    made = client.post(
        f"/telephony/{group}/portabilities", data={**form, "rio": rio_for(PORTED[0])}
    )
    assert made.status_code == 303
    listed = client.get(f"/telephony/{group}/portabilities")
    assert "Portabilités en cours" in listed.text and "01 45 67 89 01" in listed.text
    group_page = client.get(f"/telephony/{group}")
    assert 'id="ongoing-portabilities"' in group_page.text and "(1)" in group_page.text
    with platform.session() as session:
        pid = session.scalar(select(Portability.id))
    detail = client.get(f"/telephony/{group}/portabilities/{pid}")
    assert "Formulaire envoyé" in detail.text and "Annuler la portabilité" in detail.text
    cancelled = client.post(
        f"/telephony/{group}/portabilities/{pid}/cancel",
        data={"csrf_token": csrf_from(detail.text)},
    )
    assert cancelled.status_code == 303
    assert "Annulée" in client.get(f"/telephony/{group}/portabilities/{pid}").text


def test_staff_take_a_portability_to_failure_then_success(client):
    platform, customer, group, (_line, _other) = setup(client)
    with platform.transaction() as session:
        from voipdesk.telephony.portability import actions

        actions.request_portability(
            session, platform, customer.id, group,
            actions.PortabilityRequest(
                country="FR", numbers=PORTED, current_operator="SFR", holder_kind="individual",
                holder_name="Camille Martin", rio=rio_for(PORTED[1]),
            ),
            f"account:{customer.id}",
        )  # fmt: skip
        pid = session.scalar(select(Portability.id))
    staff = make_account(platform, is_staff=True, language="en")
    login(client, staff.email, PASSWORD)
    home = client.get("/backoffice")
    assert 'data-queue="portabilities"' in home.text
    page = client.get("/backoffice/portabilities")
    assert page.status_code == 200 and "SFR" in page.text
    assert "failure-form" in page.text
    token = csrf_from(page.text)
    for to in ("received", "validated"):
        moved = client.post(
            f"/backoffice/portabilities/{pid}/steps", data={"csrf_token": token, "to": to}
        )
        assert moved.status_code == 303
    failed = client.post(
        f"/backoffice/portabilities/{pid}/failure",
        data={"csrf_token": token, "reason": "holder_mismatch", "details": ""},
    )
    assert failed.status_code == 303
    sms_page = client.get("/backoffice/sms")
    assert "No SMS gateway is configured" in sms_page.text
    with platform.session() as session:
        sms = session.scalars(select(ServiceSms)).one()
    assert sms.body in sms_page.text.replace("&#39;", "'")
    for to in (
        "received",
        "validated",
        "sent_to_operator",
        "acknowledged",
        "final_report",
        "activated",
    ):
        moved = client.post(
            f"/backoffice/portabilities/{pid}/steps", data={"csrf_token": token, "to": to}
        )
        assert moved.status_code == 303, (to, moved.text[:300])
    wrong = client.post(
        f"/backoffice/portabilities/{pid}/steps", data={"csrf_token": token, "to": "received"}
    )
    assert wrong.status_code == 409 and "cannot go to" in wrong.text
    with platform.session() as session:
        numbers = session.scalars(
            select(Service.number_e164).where(
                Service.billing_group_id == group, Service.kind == "alias_number"
            )
        ).all()
    assert sorted(numbers) == PORTED


def test_lent_phones_page_and_staff_returns(client):
    platform, _who, group, (_line, _other) = _customer(client, phones=True)
    page = client.get(f"/telephony/{group}/phones")
    assert page.status_code == 200 and page.text.count('data-state="lent"') == 2
    with platform.session() as session:
        from voipdesk.subscriptions.models import PhoneLoan

        loan_id = session.scalars(select(PhoneLoan.id).order_by(PhoneLoan.id)).first()
    sent = client.post(
        f"/telephony/{group}/phones/{loan_id}/return", data={"csrf_token": csrf_from(page.text)}
    )
    assert sent.status_code == 303
    after = client.get(f"/telephony/{group}/phones")
    assert (
        "Return expected" in after.text and platform.settings.operator_postal_address in after.text
    )
    # The dashboard asks for it, with a way to the group's phones.
    board = client.get("/")
    assert 'data-todo="hardware_return"' in board.text
    assert f'href="/telephony/{group}/phones"' in board.text
    staff = make_account(platform, is_staff=True, language="en")
    client.cookies.clear()  # the customer leaves; staff log in
    login(client, staff.email, PASSWORD)
    returns = client.get("/backoffice/phone-returns")
    assert f'data-phone="{loan_id}"' in returns.text
    token = csrf_from(returns.text)
    empty = client.post(
        f"/backoffice/phone-returns/{loan_id}/refuse", data={"csrf_token": token, "reason": " "}
    )
    assert empty.status_code == 422 and "Say why the return is refused" in empty.text
    received = client.post(
        f"/backoffice/phone-returns/{loan_id}/receive", data={"csrf_token": token}
    )
    assert received.status_code == 303
    assert f'data-phone="{loan_id}"' in client.get("/backoffice/phone-returns?state=received").text


def test_the_dashboard_shows_ongoing_portabilities_and_a_failed_one_as_a_thing_to_do(client):
    from voipdesk.telephony.portability import actions

    platform, customer, group, _lines = _customer(client)
    with platform.transaction() as session:
        made = actions.request_portability(
            session, platform, customer.id, group,
            actions.PortabilityRequest(
                country="FR", numbers=PORTED, current_operator="SFR", holder_kind="individual",
                holder_name="Camille Martin", rio=rio_for(PORTED[1]),
            ),
            f"account:{customer.id}",
        )  # fmt: skip
    board = client.get("/")
    assert 'id="dashboard-portabilities"' in board.text and made.reference in board.text
    assert "Form sent" in board.text
    assert 'data-todo="portability_failed"' not in board.text
    with platform.transaction() as session:
        actions.advance(session, platform, made.id, "received", "staff:x")
        actions.fail(session, platform, made.id, "holder_mismatch", None, "staff:x")
    board = client.get("/")
    assert 'data-todo="portability_failed"' in board.text
    assert f"The portability {made.reference} failed" in board.text
    assert f'href="/telephony/{group}/portabilities/{made.id}"' in board.text
    assert 'id="dashboard-portabilities"' not in board.text  # it waits for the customer now
