"""Triage's periodic work."""

from __future__ import annotations

from kesu.triage import risk


def rescore_risks() -> int:
    """Score again the open complaints whose deadline passed since their last score (E3)."""
    return risk.rescore_overdue()
