"""The order e-mails (payment received, delivered, expiring, expired), rendered with the order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.orders.models import PurchaseOrder

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


def _email(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    kind: str,
    template: str,
    *,
    attach_order: bool = False,
    extra: dict[str, Any] | None = None,
) -> None:
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.orders.documents import order_context, render_purchase_order

    account = session.get(Account, order.account_id)
    assert account is not None
    language = account.language
    context = order_context(session, platform, order, language)
    context.update(extra or {})
    attachments: list[tuple[str, str, bytes]] = []
    if attach_order:
        html = render_purchase_order(session, platform, order, language)
        attachments.append((f"{order.number}.html", "text/html", html.encode()))
    send_service_email(
        session,
        platform,
        account=account,
        kind=kind,
        template=f"orders/{template}",
        context=context,
        attachments=attachments,
    )
