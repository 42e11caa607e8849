"""Errors that services raise and that pages and the API turn into clear answers.

Each maps to one HTTP status (see kesu.api): InvalidInput 422, NotAllowed 409, Forbidden 403,
NotFound 404, RateLimited 429.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class KesuError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(KesuError):
    """The input is wrong; `errors` names each field and what is wrong with it."""

    status = 422

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        if detail is None:
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid input"
        super().__init__(detail)
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldError(field, message)])


class NotAllowed(KesuError):
    """The action is not allowed in the complaint's current state or circumstances."""

    status = 409


class Forbidden(KesuError):
    """The actor's role does not allow this."""

    status = 403


class NotFound(KesuError):
    status = 404


class RateLimited(KesuError):
    status = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
