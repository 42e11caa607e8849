"""Normalising, validating and masking phone numbers and email addresses."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

DEFAULT_REGION = "CN"


def normalise_phone(raw: str) -> str:
    """Return the number in E.164 (+8613800138000); raise ValueError naming what is wrong."""
    text = raw.strip()
    if not text:
        raise ValueError("empty")
    if any(ch.isalpha() for ch in text):
        raise ValueError("contains letters")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Return the address lower-cased; raise ValueError if it is not an email address."""
    text = raw.strip().lower()
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError("not a valid email address") from None
    return text


def national_digits(e164: str) -> str:
    """+8613800138000 → 13800138000: the digits people type when they search."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164.lstrip("+")
    return str(number.national_number)


def mask_phone(e164: str) -> str:
    """Keep the first three and last four digits: 138****8000."""
    digits = national_digits(e164) if e164 else ""
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(email: str) -> str:
    """Keep the first character of the mailbox and the domain: z***@example.com."""
    if "@" not in email:
        return "*" * len(email)
    local, domain = email.split("@", 1)
    return (local[:1] + "***@" + domain) if local else "***@" + domain
