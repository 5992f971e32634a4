"""Error codes of the accounts area (stable `type` values of the API's problem+json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voipdesk.core.errors import Conflict, DomainError, InvalidInput, NotAuthenticated, NotFound
from voipdesk.core.i18n import gettext

if TYPE_CHECKING:
    from voipdesk.accounts.rules import PasswordVerdict


class EmailAlreadyUsed(Conflict):
    code = "email-already-used"
    message = "This e-mail address is already used by another account."


class WeakPassword(InvalidInput):
    """Names its reason in the caller's language; zxcvbn's own hint only exists in English."""

    code = "weak-password"
    message = "This password is too weak: %(reason)s"

    def __init__(
        self,
        reason: str = "it is too easy to guess. Use a longer passphrase of unrelated words.",
        reason_values: dict[str, Any] | None = None,
        warning: str = "",
        field: str = "password",
    ) -> None:
        self.reason = reason
        self.reason_values = reason_values or {}
        self.warning = warning
        super().__init__(fields={field: reason}, reason=reason % self.reason_values)

    @classmethod
    def from_verdict(cls, verdict: PasswordVerdict, field: str = "password") -> WeakPassword:
        assert verdict.reason is not None
        return cls(verdict.reason, dict(verdict.values), verdict.warning, field)

    def reason_text(self, language: str) -> str:
        text = gettext(language, self.reason, **self.reason_values)
        if self.warning and language == "en":
            text = f"{text} {self.warning}"
        return text

    def detail(self, language: str) -> str:
        return gettext(language, self.message, reason=self.reason_text(language))

    def field_errors(self, language: str) -> list[dict[str, str]]:
        return [{"field": name, "message": self.reason_text(language)} for name in self.fields]


class InvalidCredentials(NotAuthenticated):
    code = "invalid-credentials"
    message = "The login or the password is not correct."


class LoginThrottled(DomainError):
    code = "login-throttled"
    status = 429
    message = "Too many failed logins. Please try again in %(minutes)s minutes."


class AccountLocked(DomainError):
    code = "account-locked"
    status = 429
    message = "Too many failed logins on this account from several places: log in with your second factor, or choose a new password with the link we e-mailed to the account."  # noqa: E501


class SecondFactorRequired(NotAuthenticated):
    code = "second-factor-required"
    message = "Two-factor authentication is on: give the code from your app or a recovery code."


class InvalidSecondFactor(NotAuthenticated):
    code = "invalid-second-factor"
    message = "This two-factor code is not valid, or was already used."


class WrongPassword(InvalidInput):
    code = "wrong-password"
    message = "The current password is not correct."


class ResetLinkInvalid(NotFound):
    code = "reset-link-invalid"
    message = "This password reset link is not valid, or was already used."


class EmailLinkInvalid(NotFound):
    code = "email-link-invalid"
    message = "This confirmation link is not valid: it may be for an older e-mail address."


class EmailNotVerified(DomainError):
    code = "email-not-verified"
    status = 403
    message = "Confirm your e-mail address first: open the link we sent you by e-mail."


class ResetLinkUsed(DomainError):
    code = "reset-link-used"
    status = 410
    message = "This password reset link was already used. Please ask for a new one."


class ResetLinkExpired(DomainError):
    code = "reset-link-expired"
    status = 410
    message = "This password reset link has expired. Please ask for a new one."


class InvalidTotpCode(InvalidInput):
    """A wrong code while turning 2FA on or off (the caller is logged in: not a 401)."""

    code = "invalid-second-factor"
    message = "This two-factor code is not valid, or was already used."


class TotpAlreadyOn(Conflict):
    code = "totp-already-on"
    message = "Two-factor authentication is already on."


class TotpNotStarted(Conflict):
    code = "totp-not-started"
    message = "Start the two-factor enrolment first."


class TotpNotOn(Conflict):
    code = "totp-not-on"
    message = "Two-factor authentication is not on."


class InvalidToken(NotAuthenticated):
    code = "invalid-token"
    message = "This API token is not valid, has expired or was revoked."


class AccountClosed(NotAuthenticated):
    code = "account-closed"
    message = "This account is closed."


class ClosureLinkInvalid(NotFound):
    code = "closure-link-invalid"
    message = (
        "This closure confirmation link is not valid, has expired or was already used. "
        "Ask to close the account again."
    )


class ClosureRefused(Conflict):
    """Lists every blocking reason in `extra["reasons"]` (translated when raised)."""

    code = "closure-refused"
    message = "The account cannot be closed yet, for the reasons listed."
