"""A fixed-window request limit per client address, kept in the cache (Redis when configured)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from kesu.errors import RateLimited

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    if settings.KESU_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded).split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def check(request: HttpRequest, bucket: str) -> None:
    """Count one request from this address; raise RateLimited past the configured limit."""
    limit = settings.KESU_PUBLIC_RATE_LIMIT
    if limit <= 0:
        return
    window = int(time.time()) // WINDOW_SECONDS
    key = f"kesu:rl:{bucket}:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count > limit:
        retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
        raise RateLimited(
            _("Too many requests from your address; try again in %(seconds)s seconds.")
            % {"seconds": retry_after},
            retry_after=retry_after,
        )
