"""Demo data of the validation area: procedures at different stages for the back office."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules

# A valid test IBAN (schwifty-checked) of the demo customer who validates in advance.
DEMO_BANK = {"CH": ("CH93 0076 2011 6238 5295 7", "UBSWCHZH80A")}


def seed(session: Session, platform: Platform, accounts: Sequence[Account]) -> None:
    """The Swiss association validates in advance: its procedure is under review with one document
    received, for the back office to show. The others start with none: the Belgian company's
    first order of VoIP services opens its procedure, as the README's walk-through shows."""
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
        if staff is not None:
            first_document = rules.document_codes(account.kind, account.country)[0]
            actions.record_document(
                session, platform, staff, procedure.id, first_document, rules.RECEIVED
            )
