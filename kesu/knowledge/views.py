"""The knowledge base pages: list and search, an article, its editor and history; promote a case."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kesu.accounts.models import User
from kesu.complaints.models import Complaint
from kesu.complaints.selectors import get_complaint_for_user
from kesu.errors import InvalidInput, KesuError
from kesu.knowledge import selectors, services
from kesu.knowledge.forms import ArticleForm, SearchForm
from kesu.knowledge.models import Article, ArticleVersion, Status
from kesu.triage.selectors import taxonomy

PAGE_SIZE = 25


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _writer(request: HttpRequest) -> User:
    user = _staff(request)
    if not selectors.can_write(user):
        raise PermissionDenied(_("Only managers, experts and administrators edit articles."))
    return user


def _get(request: HttpRequest, pk: int) -> Article:
    try:
        return selectors.get_article_for_user(_staff(request), pk)
    except Article.DoesNotExist:
        raise Http404(_("No such article.")) from None


def _labels(codes: list[str]) -> list[str]:
    tree = taxonomy()
    return [tree.label(code) for code in codes]


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = SearchForm(request.GET, can_write=selectors.can_write(user))
    if form.is_valid():
        filters = dict(form.cleaned_data)
        found = selectors.search_articles(user, query=filters.pop("q"), **filters)
    else:
        found = Article.objects.none()
    paginator = Paginator(found.prefetch_related("category_links"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [(a, _labels([str(link.category_id) for link in a.category_links.all()])) for a in page]
    context = {"form": form, "page": page, "rows": rows, "can_write": selectors.can_write(user)}
    return render(request, "knowledge/list.html", context)


@login_required
def article(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    found = _get(request, pk)
    codes = list(found.category_links.values_list("category__code", flat=True))
    context = {"article": found, "version": found.current, "categories": _labels(codes),
               "can_write": selectors.can_write(user), "statuses": Status.choices}  # fmt: skip
    return render(request, "knowledge/article.html", context)


def _save(form: ArticleForm, save: Any) -> Article | None:
    """Call the service with the form's data; its refusals become the form's errors."""
    if not form.is_valid():
        return None
    try:
        result: Article = save(**form.cleaned_data)
    except InvalidInput as error:
        for item in error.errors:
            form.add_error(item.field if item.field in form.fields else None, item.message)
        return None
    except KesuError as error:
        form.add_error(None, error.detail)
        return None
    return result


@login_required
def create(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    form = ArticleForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})

    def save(base_version: int | None, **data: Any) -> Article:
        return services.create_article(actor=user, **data)

    saved = _save(form, save) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("Article saved as a draft."))
        return redirect("knowledge:article", pk=saved.pk)
    return render(request, "knowledge/edit.html", {"form": form, "article": None})


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _writer(request)
    found = _get(request, pk)
    current = found.current
    initial = {"kind": found.kind, "language": found.language,
               "categories": list(found.category_links.values_list("category__code", flat=True)),
               "title": current.title if current else "", "body": current.body if current else "",
               "base_version": current.number if current else None}  # fmt: skip
    form = ArticleForm(request.POST or None, initial=initial)

    def save(**data: Any) -> Article:
        return services.revise_article(article=found, actor=user, **data)

    saved = _save(form, save) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("Saved."))
        return redirect("knowledge:article", pk=saved.pk)
    return render(request, "knowledge/edit.html", {"form": form, "article": found})


@login_required
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _writer(request)
    found = _get(request, pk)
    try:
        found = services.set_status(
            article=found, actor=user, status=request.POST.get("status", "")
        )
    except InvalidInput as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Status: %(status)s.") % {"status": found.get_status_display()})
    return redirect("knowledge:article", pk=found.pk)


@login_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    found = _get(request, pk)
    context = {"article": found, "versions": selectors.versions(found)}
    return render(request, "knowledge/history.html", context)


@login_required
def version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    found = _get(request, pk)
    try:
        shown = selectors.get_version(found, number)
    except ArticleVersion.DoesNotExist:
        raise Http404(_("No such version.")) from None
    context = {"article": found, "version": shown, "categories": _labels(shown.categories)}
    return render(request, "knowledge/version.html", context)


@login_required
@require_POST
def promote(request: HttpRequest, reference: str) -> HttpResponse:
    user = _writer(request)
    try:
        complaint = get_complaint_for_user(user, reference)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None
    try:
        case = services.promote_to_case(complaint=complaint, actor=user)
    except KesuError as error:
        messages.error(request, error.detail)
        return redirect("complaints:case", reference=complaint.reference)
    messages.success(request, _("Draft case written; check it before publishing."))
    return redirect("knowledge:edit", pk=case.pk)
