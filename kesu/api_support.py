"""Pieces the API routers share: bearer-token authentication and strict JSON parsing."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import Schema
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from kesu.accounts.models import User
from kesu.accounts.services import user_for_token


class MalformedBody(ValueError):
    pass


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedBody(f"the body is not UTF-8 ({error.reason})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise MalformedBody(
                f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}"
            ) from None


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """The one error shape of the API (kesu.api)."""

    detail: str
    errors: list[ErrorItem]


class UnicodeJSONRenderer(JSONRenderer):
    """JSON with Chinese written as itself (UTF-8), not as \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}
