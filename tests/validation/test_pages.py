"""The procedure's pages (TestClient): the customer's procedure page and the staff's review."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.validation.helpers import GOOD_BIC, GOOD_IBAN, count_procedures, load, pdf_text
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules

web = pytest.importorskip("tests.web.conftest")
PASSWORD = "Correct-Horse-Battery-42!"


@pytest.fixture
def browser(seeded: Platform) -> Iterator[Callable[[Account], TestClient]]:
    from voipdesk.app import create_app

    app = create_app(seeded)
    opened: list[TestClient] = []

    def logged_in(account: Account) -> TestClient:
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        opened.append(client)
        response = web.login(client, account.email, PASSWORD)
        assert response.status_code == 303, response.text
        return client

    yield logged_in
    for client in opened:
        client.__exit__(None, None, None)


def form_post(client: TestClient, page_path: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = web.csrf_from(client.get(page_path).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_customer_starts_downloads_and_cancels_a_procedure(
    seeded: Platform, browser: Callable[[Account], TestClient], customer: Account
) -> None:
    client = browser(customer)
    page = client.get("/voip-procedure")
    assert page.status_code == 200
    assert "Dater et signer l&#39;autorisation de prélèvement." in page.text
    assert "Anticiper et procéder à la validation de votre compte téléphonie" in page.text
    refused = form_post(
        client,
        "/voip-procedure",
        "/voip-procedure",
        {
            "holder_name": "Camille Martin",
            "holder_address": "12 rue des Lilas",
            "iban": "FR7630006000011234567890188",
            "bic": GOOD_BIC,
        },
    )
    assert refused.status_code == 422 and "Not a valid IBAN." not in refused.text
    assert 'id="f-iban-error"' in refused.text and count_procedures(seeded) == 0
    done = form_post(
        client,
        "/voip-procedure",
        "/voip-procedure",
        {
            "holder_name": "Camille Martin",
            "holder_address": "12 rue des Lilas, 69003 Lyon",
            "iban": GOOD_IBAN,
            "bic": GOOD_BIC,
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/voip-procedure"
    page = client.get("/voip-procedure").text
    assert "En attente de vos documents" in page
    assert "1 rue de la Paix, 75002 Paris, France" in page
    with seeded.session() as session:
        procedure = actions.open_procedure_of(session, customer.id)
        assert procedure is not None
    pdf = client.get(f"/voip-procedure/{procedure.id}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert procedure.mandate_reference in pdf_text(pdf.content)
    cancelled = form_post(client, "/voip-procedure", f"/voip-procedure/{procedure.id}/cancel", {})
    assert cancelled.status_code == 303
    assert load(seeded, procedure.id).status == rules.CANCELLED


def test_a_post_without_csrf_token_changes_nothing(
    seeded: Platform, browser: Callable[[Account], TestClient], customer: Account
) -> None:
    client = browser(customer)
    response = client.post(
        "/voip-procedure",
        data={
            "holder_name": "Camille Martin",
            "holder_address": "12 rue des Lilas",
            "iban": GOOD_IBAN,
            "bic": GOOD_BIC,
        },
    )
    assert response.status_code == 403
    assert count_procedures(seeded) == 0


def test_staff_review_in_the_back_office(
    seeded: Platform,
    browser: Callable[[Account], TestClient],
    customer_factory: Callable[..., Account],
    staff: Account,
) -> None:
    from tests.validation.helpers import request

    customer = customer_factory(kind="company")
    procedure = request(seeded, customer)
    # A customer cannot open the back office.
    customer_client = browser(customer)
    assert customer_client.get("/backoffice/procedures").status_code == 403
    assert customer_client.get(f"/backoffice/procedures/{procedure.id}").status_code == 403
    client = browser(staff)
    listing = client.get("/backoffice/procedures")
    assert listing.status_code == 200 and customer.handle in listing.text
    detail_path = f"/backoffice/procedures/{procedure.id}"
    refused = form_post(client, detail_path, f"{detail_path}/approve", {})
    assert refused.status_code == 409 and "ne peut pas être" in refused.text
    for code in rules.document_codes("company", "FR"):
        answer = form_post(
            client,
            detail_path,
            f"{detail_path}/documents",
            {"code": code, "status": "valid", "note": ""},
        )
        assert answer.status_code == 303
    approved = form_post(client, detail_path, f"{detail_path}/approve", {})
    assert approved.status_code == 303
    page = client.get(detail_path).text
    assert "Validée" in page and staff.display_name in page
    with seeded.session() as session:
        assert actions.is_validated(session, customer.id)
    assert "Votre compte est validé pour la VoIP" in customer_client.get("/voip-procedure").text


def test_staff_record_every_document_in_one_form(
    seeded: Platform,
    browser: Callable[[Account], TestClient],
    customer_factory: Callable[..., Account],
    staff: Account,
) -> None:
    """The procedure page records the documents in one form (one submit, one transaction): the
    statuses chosen are recorded, those left "not recorded" stay so; a refused row (invalid
    without a note) records none of them and names its field."""
    from tests.validation.helpers import request

    customer = customer_factory(kind="company")
    procedure = request(seeded, customer)
    client = browser(staff)
    detail_path = f"/backoffice/procedures/{procedure.id}"
    page = client.get(detail_path).text
    assert page.count('id="documents-form"') == 1 and page.count('id="record-documents"') == 1
    codes = rules.document_codes("company", "FR")
    assert len(codes) >= 3
    first, second, *rest = codes
    refused = form_post(
        client, detail_path, f"{detail_path}/documents",
        {f"status:{first}": "valid", f"status:{second}": "invalid", f"note:{second}": ""},
    )  # fmt: skip
    assert refused.status_code == 422
    assert load(seeded, procedure.id).documents == []
    data = {f"status:{code}": "valid" for code in [first, *rest]}
    data[f"status:{second}"] = ""
    done = form_post(client, detail_path, f"{detail_path}/documents", data)
    assert done.status_code == 303
    recorded = {row.code: row.status for row in load(seeded, procedure.id).documents}
    assert recorded == {code: "valid" for code in [first, *rest]}


def test_staff_procedures_sort_oldest_or_newest_first_within_a_state(  # type: ignore[no-untyped-def]
    browser, seeded: Platform, customer_factory, staff: Account, clock
) -> None:
    from datetime import timedelta

    from tests.validation.helpers import request

    first = request(seeded, customer_factory(first_name="Early"))
    clock.advance(timedelta(hours=2))
    second = request(seeded, customer_factory(first_name="Later"))
    client = browser(staff)

    def listed(query: str) -> list[str]:
        page = client.get(f"/backoffice/procedures?{query}").text
        table = page.split('id="procedures"', 1)[1].split("</table>", 1)[0]
        ids = (first.id, second.id)
        return [
            pid for pid in re.findall(r"/backoffice/procedures/([0-9a-f]{32})", table) if pid in ids
        ]

    assert listed("status=waiting_for_customer") == [first.id, second.id]
    assert listed("status=waiting_for_customer&sort=-date") == [second.id, first.id]
    newest = client.get("/backoffice/procedures?status=waiting_for_customer&sort=-date").text
    assert "/backoffice/procedures?status=waiting_for_customer&amp;sort=date" in newest
    assert 'href="/backoffice/procedures?sort=-date"' in newest  # the state tabs keep the sort
    with seeded.session() as session:  # the pages follow the sort: newest first, one by one
        page_one, cursor = actions.list_procedures(session, None, 1, None, "-date")
        page_two, _ = actions.list_procedures(session, None, 1, cursor, "-date")
    assert [p.id for p in page_one + page_two] == [second.id, first.id]
