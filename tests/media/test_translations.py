"""Every prompt the media service speaks and every text of the new-message e-mail has its French
translation; the e-mail renders in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from voipdesk.accounts.emails import render_email
from voipdesk.core.i18n import translations
from voipdesk.media import rules

SRC = Path(__file__).resolve().parents[2] / "src" / "voipdesk"
TEMPLATE = SRC / "telephony" / "emails" / "voicemail_message.jinja"


def prompts() -> set[str]:
    return {
        value
        for name, value in vars(rules).items()
        if name.isupper() and isinstance(value, str) and value.endswith(".") and " " in value
    } | {rules.ACCESS_HIDDEN_CALLER}


def template_texts() -> set[str]:
    return set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', TEMPLATE.read_text(encoding="utf-8")))


def test_every_prompt_and_email_text_is_in_french() -> None:
    french = translations("fr")
    texts = prompts() | template_texts()
    assert len(texts) > 20
    assert sorted(t for t in texts if french.gettext(t) == t) == []


def test_new_message_email_in_both_languages() -> None:
    when = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    context = {
        "number": "+33412345678",
        "caller": None,
        "received_at": when,
        "seconds": 12,
        "with_audio": True,
        "url": "https://example/telephony/x",
    }
    subject, text, _html = render_email("telephony/voicemail_message", context, "fr")
    assert subject == "Nouveau message vocal sur le +33412345678"
    assert "numéro masqué" in text and "12 s" in text and "pièce jointe" in text
    subject, text, _html = render_email("telephony/voicemail_message", context, "en")
    assert subject == "New voicemail message on +33412345678"


def test_greeting_in_the_customer_language() -> None:
    assert rules.greeting_text("fr", "standard", "+33412345678", None) == (
        "Vous êtes bien sur la messagerie du 0 4 1 2 3 4 5 6 7 8. "
        "Laissez votre message après le bip."
    )
    assert "of Alice Martin" in rules.greeting_text("en", "name", "+33412345678", "Alice Martin")
