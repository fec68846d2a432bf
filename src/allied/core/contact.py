"""Contact details, checked one way at every door (API, CSV, pages and the store connectors to come).

Phone numbers are parsed with Google's libphonenumber rules (the `phonenumbers` library) in the
partner's default country, so a local `0300 1112233` and an international `+92 300 1112233` are
the same number, stored in E.164 (`+923001112233`). E-mail addresses pass Django's validator.
An invalid value raises `ValidationFailed` naming the field the caller gave.
"""

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic_core import PydanticCustomError

from allied.core.errors import FieldError, ValidationFailed

# The countries a default country may be: those libphonenumber knows the numbering plan of.
COUNTRY_CODES = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", errors=[FieldError(field, message, code)])


def phone_normalize(value: str, *, default_country: str, field: str) -> str:
    """`value` in E.164, read as a number of `default_country` unless it starts with + (or 00)."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, default_country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _invalid(
            field,
            f"{text!r} is not a valid phone number. Use the international form (+92 300 1112233) "
            f"or a number of {default_country} as it is dialled there.",
            "invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_check(value: str, *, field: str) -> str:
    """`value` stripped, or ValidationFailed when it is not an e-mail address. Empty stays empty:
    whether one is required is the caller's rule."""
    text = value.strip()
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise _invalid(field, f"{text!r} is not a valid e-mail address.", "invalid_email") from None
    return text


def email_text(value: str) -> str:
    """`email_check` for a schema field (pydantic names the field itself): an order's e-mail
    address is refused with the request, before an order with the same id could answer for it."""
    try:
        return email_check(value, field="")
    except ValidationFailed as invalid:
        raise PydanticCustomError("invalid_email", invalid.errors[0].message) from None


def country_check(value: str, *, field: str) -> str:
    """An ISO 3166 alpha-2 country code whose phone numbers Allied can read."""
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise _invalid(field, f"{value!r} is not a two-letter ISO 3166 country code, such as PK.", "invalid_country")
    return code


def contact_errors(*, phone: str, email: str, default_country: str, prefix: str) -> tuple[str, str, list[FieldError]]:
    """A phone and an e-mail address checked together: their normal forms and every problem, so a
    caller that collects all of a record's problems before raising once can add these."""
    errors: list[FieldError] = []
    try:
        phone = phone_normalize(phone, default_country=default_country, field=f"{prefix}.phone")
    except ValidationFailed as invalid:
        errors += invalid.errors
    try:
        email = email_check(email, field=f"{prefix}.email")
    except ValidationFailed as invalid:
        errors += invalid.errors
    return phone, email, errors
