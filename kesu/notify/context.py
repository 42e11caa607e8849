"""The bell's unread count on every staff page (one indexed count)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kesu.accounts.models import User
from kesu.notify.selectors import unread_count


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    # Lazy: pages that do not show the bell (the public ones) never count.
    return {"unread_notifications": lambda: unread_count(user)}
