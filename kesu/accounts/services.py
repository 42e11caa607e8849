"""Use cases for people and the organisation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kesu.accounts.models import ApiToken, Department, Role, RolePolicy, User

TOKEN_PREFIX = "ks_"  # noqa: S105 - a prefix, not a secret
# A token's last use is written at most this often, so that API reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_user(
    *,
    username: str,
    role: Role,
    password: str | None,
    display_name: str = "",
    email: str = "",
    departments: Iterable[Department] = (),
    language: str = "zh-hans",
) -> User:
    """Create a staff user with one role; administrators also get the Django admin."""
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            display_name=display_name,
            email=email,
            language=language,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        user.departments.set(list(departments))
    return user


def remedy_authority(role: str) -> Decimal | None:
    """The largest remedy amount a role may propose alone; None means no limit (DOMAIN L7)."""
    policy = RolePolicy.objects.filter(role=role).first()
    if policy is None:
        # A role without a row may not commit money alone: safe default.
        return Decimal("0")
    return policy.remedy_authority


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(*, user: User, name: str = "") -> str:
    """Create an API token for the user and return it; it is shown once and stored hashed."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=raw[:10], key_hash=_hash(raw))
    return raw


def revoke_token(*, token: ApiToken) -> None:
    """Stop a token from working."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown or revoked token."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    try:
        token = ApiToken.objects.select_related("user").get(
            key_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True
        )
    except ApiToken.DoesNotExist:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
