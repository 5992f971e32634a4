"""Demo data of the validation area: procedures at different stages for the back office."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules

# Valid test IBANs (schwifty-checked) of the demo customers' countries.
DEMO_BANK = {
    "BE": ("BE68 5390 0754 7034", "BBRUBEBB"),
    "CH": ("CH93 0076 2011 6238 5295 7", "UBSWCHZH80A"),
}


def seed(session: Session, platform: Platform, accounts: Sequence[Account]) -> None:
    """The Belgian company's procedure waits for review with one document received; the Swiss
    association's waits for its documents. French customers start with none (first order)."""
    staff = session.scalar(select(Account).where(Account.is_staff.is_(True)).limit(1))
    for listed in accounts:
        account = session.get(Account, listed.id)
        if account is None or account.country not in DEMO_BANK:
            continue
        if actions.open_procedure_of(session, account.id) is not None:
            continue
        iban, bic = DEMO_BANK[account.country]
        address = f"{account.address_line1}, {account.postal_code} {account.city}"
        procedure, _ = actions.request_procedure(
            session,
            platform,
            account,
            actions.ProcedureForm(
                holder_name=account.display_name, holder_address=address, iban=iban, bic=bic
            ),
        )
        if account.kind == rules.COMPANY and staff is not None:
            first_document = rules.document_codes(account.kind, account.country)[0]
            actions.record_document(
                session, platform, staff, procedure.id, first_document, rules.RECEIVED
            )
