"""The REST API: one NinjaAPI, one error shape, bearer-token authentication for staff.

Every error answers `{"detail": "...", "errors": [{"field": ..., "message": ...}]}`:
422 invalid input (including malformed JSON), 409 an action not allowed now, 404 unknown,
401 no or bad token, 403 the role may not, 413 body too large, 429 too many requests.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kesu.api_support import MalformedBody, StrictJSONParser, UnicodeJSONRenderer
from kesu.complaints.api import router as complaints_router
from kesu.errors import KesuError, RateLimited
from kesu.intake.api import router as intake_router
from kesu.intake.channel_api import router as channel_router
from kesu.replies.api import router as replies_router
from kesu.reports.api import router as reports_router
from kesu.triage.api import router as triage_router

api = NinjaAPI(
    title="Kesu API",
    version="1",
    description=(
        "Complaint intake, tracking and handling. Staff endpoints take "
        "`Authorization: Bearer <token>` (`make token USER=<username>`). "
        "Errors answer `{detail, errors: [{field, message}]}`."
    ),
    urls_namespace="api",
    parser=StrictJSONParser(),
    renderer=UnicodeJSONRenderer(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest,
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(KesuError)
def _kesu_error(request: HttpRequest, exc: KesuError) -> HttpResponse:
    errors = [{"field": e.field, "message": e.message} for e in getattr(exc, "errors", [])]
    response = error_response(request, exc.status, exc.detail, errors)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    # ninja reports ("body", "payload", "phone") or ("query", "page"): keep what a client sent.
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_of(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return error_response(request, 422, detail or _("Invalid input."), errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, _("Authentication required: send Authorization: Bearer <token>.")
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedBody):
        message = str(exc.__cause__)
        return error_response(request, 422, message, [{"field": "body", "message": message}])
    if isinstance(exc.__cause__, RequestDataTooBig):
        return error_response(request, 413, _("The request body is too large."))
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, str(exc) or _("Not found."))


@api.exception_handler(ObjectDoesNotExist)
def _does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return error_response(request, 404, _("Not found."))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, _("The request body is too large."))


api.add_router("/public", intake_router)
api.add_router("/intake", channel_router)
api.add_router("/", complaints_router)
api.add_router("/", triage_router)
api.add_router("/", replies_router)
api.add_router("/", reports_router)
