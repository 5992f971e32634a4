"""What customers and staff do with accounts, one module per use case (each public function is one
action: one transaction, the platform's clock, e-mails through the outbox):

- `signup` — sign-up; `staff` — operator accounts; `profile` — reading and changing the profile;
- `security` — login and its throttling, second factor, password change and reset, TOTP and
  recovery codes, the security log; `tokens` — API tokens and bearer authentication;
- `service_emails` — the e-mails kept for the customer; `closing` — closing the account
  (the registry of closure blockers other areas fill is `voipdesk.accounts.closure`);
- `common` — input schemas and helpers shared by the modules above.

This package re-exports the public names, for the accounts API, the web pages, the CLI and the
demo; other areas never import it.
"""

from voipdesk.accounts.actions.closing import (
    CLOSURE_LINK_VALID,
    ClosureReason,
    ClosureRequested,
    check_closure_token,
    closure_reasons,
    confirm_closure,
    request_closure,
)
from voipdesk.accounts.actions.common import (
    PROFILE_FIELDS,
    REQUIRED_PROFILE_FIELDS,
    Country,
    Kind,
    Language,
    Page,
    ProfileUpdate,
    SignUpData,
    check_password_policy,
    hash_secret,
    password_hasher,
    verify_secret,
)
from voipdesk.accounts.actions.profile import get_profile, update_profile
from voipdesk.accounts.actions.security import (
    RESET_REQUEST_PERIOD,
    RESET_REQUESTS_PER_PERIOD,
    TotpEnrolment,
    change_password,
    check_credentials,
    check_reset_token,
    confirm_totp,
    disable_totp,
    list_security_events,
    qr_svg,
    record_login,
    remaining_recovery_codes,
    request_password_reset,
    reset_password,
    start_totp,
    verify_second_factor,
)
from voipdesk.accounts.actions.service_emails import (
    get_email_attachment,
    get_service_email,
    list_service_emails,
)
from voipdesk.accounts.actions.signup import sign_up
from voipdesk.accounts.actions.staff import create_staff
from voipdesk.accounts.actions.tokens import (
    LAST_USED_RESOLUTION,
    authenticate_token,
    authenticate_token_async,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from voipdesk.accounts.actions.verification import (
    email_verified,
    is_email_verified,
    send_verification_link,
    verification_url,
    verify_email,
)

__all__ = [
    "CLOSURE_LINK_VALID",
    "LAST_USED_RESOLUTION",
    "PROFILE_FIELDS",
    "REQUIRED_PROFILE_FIELDS",
    "RESET_REQUESTS_PER_PERIOD",
    "RESET_REQUEST_PERIOD",
    "ClosureReason",
    "ClosureRequested",
    "Country",
    "Kind",
    "Language",
    "Page",
    "ProfileUpdate",
    "SignUpData",
    "TotpEnrolment",
    "authenticate_token",
    "authenticate_token_async",
    "change_password",
    "check_closure_token",
    "check_credentials",
    "check_password_policy",
    "check_reset_token",
    "closure_reasons",
    "confirm_closure",
    "confirm_totp",
    "create_api_token",
    "create_staff",
    "disable_totp",
    "email_verified",
    "get_email_attachment",
    "get_profile",
    "get_service_email",
    "hash_secret",
    "is_email_verified",
    "list_api_tokens",
    "list_security_events",
    "list_service_emails",
    "password_hasher",
    "qr_svg",
    "record_login",
    "remaining_recovery_codes",
    "request_closure",
    "request_password_reset",
    "reset_password",
    "revoke_api_token",
    "send_verification_link",
    "sign_up",
    "start_totp",
    "update_profile",
    "verification_url",
    "verify_email",
    "verify_second_factor",
    "verify_secret",
]
