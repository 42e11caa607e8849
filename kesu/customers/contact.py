"""Normalising, validating and masking phone numbers, email addresses and ID numbers."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_noop

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


# GB 11643-1999: the 18th character checks the first 17 (weights 2^(17-i) mod 11).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_id_card(raw: str) -> str:
    """A mainland resident ID number as 18 characters; raise ValueError naming what is wrong.

    Old 15-digit numbers are widened to 18 (century 19, check character added), so that the
    same person matches whichever form they give.
    """
    text = raw.strip().upper().replace(" ", "")
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        return (
            body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
        )
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        # In English here; intake shows them translated (marked for the catalogue).
        raise ValueError(gettext_noop("not 18 characters (17 digits and a digit or X)"))
    if (
        _ID_CHECK[sum(int(c) * w for c, w in zip(text[:17], _ID_WEIGHTS, strict=True)) % 11]
        != text[17]
    ):
        raise ValueError(gettext_noop("the check character does not match"))
    return text


def id_card_key(normalised: str) -> str:
    """A keyed hash of an ID number: finds the customer again without storing the number.

    The key is KESU_ID_HASH_KEY (settings); without the key, a stolen database cannot be
    matched against the small space of possible ID numbers.
    """
    key = settings.KESU_ID_HASH_KEY.encode("utf-8")
    return hmac.new(key, normalised.encode("ascii"), hashlib.sha256).hexdigest()
