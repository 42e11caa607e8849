"""Deadlines of a complaint: fixed defaults until SLA policies replace them (issue: SLA clocks).

DOMAIN L3: acknowledge at once, contact the customer within 24 h; L9: close within the limit
(15 days, the regulatory default for complaints in China's financial sector).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACKNOWLEDGE_WITHIN = timedelta(0)
FIRST_CONTACT_WITHIN = timedelta(hours=24)
RESOLVE_WITHIN = timedelta(days=15)


@dataclass(frozen=True)
class Deadlines:
    ack_due: datetime
    first_contact_due: datetime
    resolve_due: datetime


def initial(received_at: datetime) -> Deadlines:
    return Deadlines(
        ack_due=received_at + ACKNOWLEDGE_WITHIN,
        first_contact_due=received_at + FIRST_CONTACT_WITHIN,
        resolve_due=received_at + RESOLVE_WITHIN,
    )


def after_reopen(reopened_at: datetime) -> datetime:
    """A reopened complaint gets a fresh resolution limit from the moment it reopens."""
    return reopened_at + RESOLVE_WITHIN
