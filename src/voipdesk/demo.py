"""Demo data: the operator's catalogue, a staff login and customers of each type and country.

Loading twice changes nothing: an e-mail already present is skipped.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy import select

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform

DEMO_PASSWORD = "Demo-Voipdesk-2026!"

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {
        "kind": "individual",
        "country": "FR",
        "language": "fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "address_line1": "12 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
        "email": "camille@demo.voipdesk.example",
        "mobile": "+33612345678",
    },
    {
        "kind": "company",
        "country": "FR",
        "language": "fr",
        "first_name": "Hugo",
        "last_name": "Bernard",
        "organisation_name": "Bernard Plomberie SARL",
        "registration_number": "732829320",
        "address_line1": "3 avenue Foch",
        "postal_code": "75016",
        "city": "Paris",
        "email": "hugo@demo.voipdesk.example",
        "mobile": "+33612345679",
    },
    {
        "kind": "company",
        "country": "BE",
        "language": "fr",
        "first_name": "Lucie",
        "last_name": "Peeters",
        "organisation_name": "Peeters & Fils SRL",
        "registration_number": "0403170701",
        "address_line1": "Rue Neuve 25",
        "postal_code": "1000",
        "city": "Bruxelles",
        "email": "lucie@demo.voipdesk.example",
        "mobile": "+32470123456",
    },
    {
        "kind": "association",
        "country": "CH",
        "language": "fr",
        "first_name": "Marc",
        "last_name": "Favre",
        "organisation_name": "Chœur de Lausanne",
        "registration_number": "CHE-109.322.551",
        "address_line1": "Avenue de la Gare 8",
        "postal_code": "1003",
        "city": "Lausanne",
        "email": "marc@demo.voipdesk.example",
        "mobile": "+41791234567",
    },
    {
        "kind": "individual",
        "country": "CA-QC",
        "language": "en",
        "first_name": "Olivia",
        "last_name": "Tremblay",
        "address_line1": "1200 rue Sherbrooke O",
        "postal_code": "H3A 1H6",
        "city": "Montréal",
        "email": "olivia@demo.voipdesk.example",
        "mobile": "+15148721111",
    },
]

STAFF = {"email": "staff@demo.voipdesk.example", "first_name": "Sam", "last_name": "Operator"}


def _seed_areas(platform: Platform, customers: list[Account]) -> None:
    """Each area may seed its own demo data (catalogue first: orders need it)."""
    for module_name, function_name in (
        ("voipdesk.catalogue.demo", "seed_catalogue"),
        ("voipdesk.validation.demo", "seed"),
        ("voipdesk.subscriptions.demo", "seed"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        seed = getattr(module, function_name, None)
        if seed is None:
            continue
        with platform.transaction() as session:
            if function_name == "seed_catalogue":
                seed(session, platform)
            else:
                seed(session, platform, customers)


def load_demo(platform: Platform) -> list[tuple[str, str, str]]:
    """Loads the demo; returns (role, login, password) for the people who can log in."""
    from voipdesk.accounts.actions import SignUpData, create_staff, sign_up

    with platform.session() as session:
        existing = set(session.scalars(select(Account.email)))
    first_load = STAFF["email"] not in existing
    if first_load:
        create_staff(platform, password=DEMO_PASSWORD, **STAFF)
    customers: list[Account] = []
    for data in DEMO_CUSTOMERS:
        if data["email"] in existing:
            continue
        customers.append(sign_up(platform, SignUpData(password=DEMO_PASSWORD, **data)))
    if first_load:
        _seed_areas(platform, customers)
    logins = [("Staff (back office)", STAFF["email"], DEMO_PASSWORD)]
    with platform.session() as session:
        for data in DEMO_CUSTOMERS:
            account = session.scalar(select(Account).where(Account.email == data["email"]))
            if account is not None:
                label = f"{data['kind']}, {data['country']}, {data['language']}"
                logins.append(
                    (f"Customer ({label})", f"{account.email} / {account.handle}", DEMO_PASSWORD)
                )
    return logins
