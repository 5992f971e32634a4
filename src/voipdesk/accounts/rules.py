"""Rules of the accounts area, as plain functions: no database, no clock of their own.

Handles, password policy, TOTP time steps, registration numbers per country, phone numbers,
recovery codes. Each refusal is a msgid (English) that callers translate.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
import pyotp
from email_validator import EmailNotValidError, validate_email
from zxcvbn import zxcvbn

from voipdesk.core.i18n import N_

KINDS = ("individual", "company", "association")
COUNTRIES = ("FR", "BE", "CH", "CA-QC")
LANGUAGES = ("fr", "en")

# --- handles ----------------------------------------------------------------------------------
HANDLE_DIGITS = 5


def initials(first_name: str, last_name: str) -> str:
    """Lower-case ASCII initials ("Élodie" -> "e"); "x" stands in for a name without letters."""

    def first_letter(name: str) -> str:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        letters = [c for c in ascii_name if "a" <= c <= "z"]
        return letters[0] if letters else "x"

    return first_letter(first_name) + first_letter(last_name)


def make_handle(first_name: str, last_name: str, suffix: str, digits: str | None = None) -> str:
    """A handle like `ab12345-vd`: initials, 5 random digits, the operator's suffix."""
    if digits is None:
        digits = "".join(secrets.choice("0123456789") for _ in range(HANDLE_DIGITS))
    return f"{initials(first_name, last_name)}{digits}-{suffix}"


def handle_pattern(suffix: str) -> re.Pattern[str]:
    return re.compile(rf"^[a-z]{{2}}[0-9]{{{HANDLE_DIGITS}}}-{re.escape(suffix)}$")


def looks_like_handle(identifier: str) -> bool:
    return "@" not in identifier


# --- e-mail addresses ------------------------------------------------------------------------
def normalise_email(value: str) -> str:
    """The address as stored: trimmed and lower-case. Raises ValueError(msgid) when malformed."""
    value = value.strip()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(N_("This is not a valid e-mail address.")) from error
    return checked.normalized.lower()


# --- passwords --------------------------------------------------------------------------------
PASSWORD_MIN_LENGTH = 10
PASSWORD_MIN_SCORE = 3  # zxcvbn's scale 0..4; 3 = "safely unguessable"
PASSWORD_MAX_LENGTH = 200  # zxcvbn is slow on very long inputs; 200 characters is plenty

TOO_SHORT = N_("it must have at least %(minimum)s characters.")
TOO_LONG = N_("it must have at most %(maximum)s characters.")
TOO_EASY = N_("it is too easy to guess. Use a longer passphrase of unrelated words.")


@dataclass(frozen=True)
class PasswordVerdict:
    """`reason` is None when the password is accepted; else a msgid with `values`."""

    reason: str | None
    values: dict[str, object]
    warning: str = ""  # zxcvbn's own explanation, in English

    @property
    def accepted(self) -> bool:
        return self.reason is None


def check_password(password: str, user_inputs: Iterable[str] = ()) -> PasswordVerdict:
    """Length first (cheap and clear), then zxcvbn's estimate, penalising the user's own data."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return PasswordVerdict(TOO_SHORT, {"minimum": PASSWORD_MIN_LENGTH})
    if len(password) > PASSWORD_MAX_LENGTH:
        return PasswordVerdict(TOO_LONG, {"maximum": PASSWORD_MAX_LENGTH})
    inputs = [value for value in user_inputs if value]
    # The parts of an e-mail address are guessable too.
    for value in list(inputs):
        if "@" in value:
            inputs.extend(re.split(r"[@.+_-]", value))
    estimate = zxcvbn(password, user_inputs=[value for value in inputs if value])
    if estimate["score"] < PASSWORD_MIN_SCORE:
        return PasswordVerdict(TOO_EASY, {}, estimate["feedback"].get("warning") or "")
    return PasswordVerdict(None, {})


# --- TOTP -------------------------------------------------------------------------------------
# --- login throttling ---------------------------------------------------------------------------
def pair_delay_seconds(failures: int, free: int, base: int, cap: int) -> int:
    """The wait after `failures` failed tries in a row from one address on one account: the
    first `free` cost nothing, then the wait doubles from `base` seconds up to `cap`."""
    if failures <= free:
        return 0
    return min(cap, base * 2 ** min(failures - free - 1, 32))


TOTP_INTERVAL = 30
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # one step either side of now: tolerates clocks 30 s apart


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_step(instant: datetime) -> int:
    return int(instant.timestamp()) // TOTP_INTERVAL


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).at(step * TOTP_INTERVAL)


def is_totp_format(code: str) -> bool:
    return bool(re.fullmatch(rf"[0-9]{{{TOTP_DIGITS}}}", code))


def matching_totp_step(
    secret: str, code: str, instant: datetime, last_step: int | None, window: int = TOTP_WINDOW
) -> int | None:
    """The time step whose code is `code`, within `window` steps of `instant` and strictly later
    than the last accepted one (a code is never accepted twice); None otherwise."""
    code = code.strip().replace(" ", "")
    if not is_totp_format(code):
        return None
    current = totp_step(instant)
    for step in range(current - window, current + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None


def otpauth_uri(secret: str, label: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=label, issuer_name=issuer
    )


# --- recovery codes ---------------------------------------------------------------------------
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
RECOVERY_GROUP = 5


def new_recovery_code() -> str:
    """Like `k7m2p-x9q4r`: 10 characters from an unambiguous alphabet (about 49 bits)."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_GROUP))
    return f"{raw[:RECOVERY_GROUP]}-{raw[RECOVERY_GROUP:]}"


def normalise_recovery_code(code: str) -> str:
    """What a person types back: any case, spaces or dashes anywhere."""
    raw = re.sub(r"[\s-]", "", code).lower()
    return (
        f"{raw[:RECOVERY_GROUP]}-{raw[RECOVERY_GROUP:]}" if len(raw) == 2 * RECOVERY_GROUP else raw
    )


def is_recovery_code_format(code: str) -> bool:
    return bool(
        re.fullmatch(
            rf"[{RECOVERY_ALPHABET}]{{{RECOVERY_GROUP}}}-[{RECOVERY_ALPHABET}]{{{RECOVERY_GROUP}}}",
            normalise_recovery_code(code),
        )
    )


# --- secrets stored as hashes -----------------------------------------------------------------
def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token_secret() -> str:
    return "vd_" + secrets.token_urlsafe(32)


def new_reset_token() -> str:
    return secrets.token_urlsafe(32)


# --- phone numbers ----------------------------------------------------------------------------
PHONE_REGION = {"FR": "FR", "BE": "BE", "CH": "CH", "CA-QC": "CA"}
INVALID_PHONE = N_("This is not a valid phone number.")
NOT_A_MOBILE = N_("This is not a mobile phone number.")

# Postal codes as each served country writes them (Québec: "A1A 1A1", letters D F I O Q U never
# in it, W and Z never first).
POSTAL_CODE_PATTERNS = {
    "FR": re.compile(r"\d{5}"),
    "BE": re.compile(r"[1-9]\d{3}"),
    "CH": re.compile(r"[1-9]\d{3}"),
    "CA-QC": re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d"),
}
POSTAL_CODE_RULES = {
    "FR": N_("A French postal code has 5 digits, e.g. 69003."),
    "BE": N_("A Belgian postal code has 4 digits, e.g. 1000."),
    "CH": N_("A Swiss postal code has 4 digits, e.g. 1003."),
    "CA-QC": N_("A Canadian postal code looks like H2X 1Y4."),
}


def normalise_postal_code(value: str, country: str) -> str:
    """The postal code as the country writes it; ValueError (the rule, a msgid) if it is not one."""
    text = re.sub(r"\s+", " ", value.strip().upper())
    pattern = POSTAL_CODE_PATTERNS.get(country)
    if pattern is None:
        return text
    if not pattern.fullmatch(text):
        raise ValueError(POSTAL_CODE_RULES[country])
    if country == "CA-QC" and " " not in text:
        text = f"{text[:3]} {text[3:]}"
    return text


def normalise_mobile(value: str, country: str) -> str:
    """E.164 (`+33612345678`) of a number typed nationally or internationally for `country`.
    Raises ValueError(msgid). Fixed lines are refused: the mobile receives security SMS."""
    region = PHONE_REGION.get(country, "FR")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(INVALID_PHONE) from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError(INVALID_PHONE)
    kind = phonenumbers.number_type(number)
    # North American numbers do not say whether they are mobile.
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError(NOT_A_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- registration numbers ---------------------------------------------------------------------
REGISTRATION_REQUIRED = N_("A registration number is required for a company.")
REGISTRATION_INVALID = {
    "FR": N_("This is not a valid SIREN (9 digits) or SIRET (14 digits) number."),
    "BE": N_("This is not a valid Belgian enterprise number (10 digits, like 0403.170.701)."),
    "CH": N_("This is not a valid Swiss UID (like CHE-109.322.551)."),
    "CA-QC": N_("This is not a valid Québec enterprise number (NEQ, 10 digits)."),
}


def normalise_registration_number(value: str, country: str) -> str:
    """The number in its usual printed form, checked with its country's rule.
    Raises ValueError(msgid)."""
    from stdnum.be import vat as be_vat
    from stdnum.ch import uid as ch_uid
    from stdnum.exceptions import ValidationError
    from stdnum.fr import siren, siret

    raw = value.strip()
    try:
        if country == "FR":
            digits = re.sub(r"[\s.]", "", raw)
            if len(digits) == 14:
                return siret.format(siret.validate(digits))
            return siren.format(siren.validate(digits))
        if country == "BE":
            # The enterprise number (BCE/KBO) is the VAT number without "BE".
            number = be_vat.validate(raw)
            return f"{number[:4]}.{number[4:7]}.{number[7:]}"
        if country == "CH":
            return ch_uid.format(ch_uid.validate(raw))
        if country == "CA-QC":
            # The NEQ has no published check digit and python-stdnum has no validator for it:
            # the rule is its format, exactly 10 digits (spaces allowed when typed).
            digits = re.sub(r"\s", "", raw)
            if re.fullmatch(r"[0-9]{10}", digits):
                return digits
            raise ValueError(REGISTRATION_INVALID["CA-QC"])
    except ValidationError as error:
        raise ValueError(REGISTRATION_INVALID[country]) from error
    raise ValueError(N_("This country is not served."))


def registration_required(kind: str) -> bool:
    """Companies must give theirs; associations may (not all are registered)."""
    return kind == "company"


def security_addresses(email: str | None, backup_email: str | None) -> list[str]:
    """Where access recovery and security notices go (the guide's backup address): the main
    address and the backup one, once each. The backup is the mailbox an intruder who took the
    main one does not read, and the way back in when the main one is lost."""
    return list(dict.fromkeys(address for address in (email, backup_email) if address))
