"""Writing articles: versions, statuses, who may write, and bad input naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, transaction

from kesu.errors import Forbidden, InvalidInput, NotAllowed
from kesu.knowledge import services
from kesu.knowledge.models import ArticleToken, ArticleVersion, Status
from tests.knowledge.conftest import current

pytestmark = pytest.mark.django_db


def test_create_writes_a_draft_with_its_first_version(people, write) -> None:
    article = write(status="draft", categories=("quality_defect", "wrong_item"))
    assert article.status == Status.DRAFT
    assert current(article).number == 1
    assert current(article).author == people["li"] and current(article).change_note == "初稿"
    assert article.title == "电水壶漏水的标准答复"
    assert set(article.category_links.values_list("category__code", flat=True)) == {
        "quality_defect", "wrong_item",
    }  # fmt: skip
    assert ArticleToken.objects.filter(article=article, token="漏水").exists()


def test_revise_appends_a_version_and_keeps_the_history(people, write) -> None:
    article = write()
    services.revise_article(
        article=article, actor=people["chen"], title="电水壶漏水的答复（新版）",
        body="先致歉；十五天内漏水可换新。", kind="script", language="zh-hans",
        categories=["quality_defect"], change_note="质量部新规定", base_version=1,
    )  # fmt: skip
    article.refresh_from_db()
    assert current(article).number == 2
    assert article.title == "电水壶漏水的答复（新版）"
    assert article.status == Status.PUBLISHED  # an edit does not unpublish
    first, second = ArticleVersion.objects.filter(article=article).order_by("number")
    assert first.body == "先致歉，再确认购买日期；七天内漏水可直接退货。"
    assert first.author == people["li"]
    assert (second.author, second.change_note) == (people["chen"], "质量部新规定")
    # The index follows the current text only.
    tokens = set(ArticleToken.objects.filter(article=article).values_list("token", flat=True))
    assert "换新" in tokens and "退货" not in tokens


def test_a_save_that_changes_nothing_adds_no_version(people, write) -> None:
    article = write()
    services.revise_article(
        article=article, actor=people["li"], title=article.title, body=current(article).body,
        kind="script", language="zh-hans", categories=["quality_defect"],
    )  # fmt: skip
    assert article.versions.count() == 1


def test_a_save_over_a_newer_version_is_refused(people, write) -> None:
    article = write()
    fields: dict[str, Any] = {
        "kind": "script",
        "language": "zh-hans",
        "title": "标题",
        "categories": [],
    }
    services.revise_article(
        article=article, actor=people["li"], body="李经理的修改", base_version=1, **fields
    )
    with pytest.raises(NotAllowed, match="version 2"):
        services.revise_article(article=article, actor=people["chen"], body="陈专家的修改",
                                base_version=1, **fields)  # fmt: skip
    article.refresh_from_db()
    assert current(article).body == "李经理的修改"


def test_status_changes_are_recorded(people, write) -> None:
    article = write(status="draft")
    article = services.set_status(article=article, actor=people["chen"], status="published")
    assert article.status == Status.PUBLISHED
    assert article.status_changed_by == people["chen"] and article.status_changed_at is not None
    article = services.set_status(article=article, actor=people["admin"], status="archived")
    assert article.status == Status.ARCHIVED
    with pytest.raises(InvalidInput) as caught:
        services.set_status(article=article, actor=people["li"], status="deleted")
    assert [e.field for e in caught.value.errors] == ["status"]
    assert article.versions.count() == 1  # statuses are not versions


@pytest.mark.parametrize("who", ["wang", "zhao", "zhang", "sun"])
def test_agents_handlers_and_auditors_only_read(people, write, who) -> None:
    article = write()
    with pytest.raises(Forbidden):
        services.create_article(actor=people[who], title="t", body="b", kind="faq",
                                language="zh-hans")  # fmt: skip
    with pytest.raises(Forbidden):
        services.revise_article(article=article, actor=people[who], title="t", body="b",
                                kind="faq", language="zh-hans", categories=[])  # fmt: skip
    with pytest.raises(Forbidden):
        services.set_status(article=article, actor=people[who], status="archived")
    assert article.versions.count() == 1


@pytest.mark.parametrize("who", ["li", "chen", "admin"])
def test_managers_experts_and_admins_write(people, write, who) -> None:
    article = write(actor=who, status="published")
    assert current(article).author == people[who]


def test_bad_input_names_each_field(people) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.create_article(
            actor=people["li"], title="  ", body="", kind="memo", language="fr",
            categories=["quality_defect", "no_such_category"], change_note="长" * 301,
        )  # fmt: skip
    fields = {e.field: e.message for e in caught.value.errors}
    assert set(fields) == {"title", "body", "kind", "language", "categories", "change_note"}
    assert "no_such_category" in fields["categories"]
    with pytest.raises(InvalidInput) as caught:
        services.create_article(
            actor=people["li"],
            title="长" * 201,
            body="正文",
            kind="faq",
            language="en",
            categories=["product_quality"],
        )  # a nature
    assert {e.field for e in caught.value.errors} == {"title", "categories"}


def test_versions_are_append_only(write) -> None:
    article = write()
    with pytest.raises(DatabaseError), transaction.atomic():
        ArticleVersion.objects.filter(article=article).update(body="悄悄改掉")
    assert article.versions.get().body.startswith("先致歉")
