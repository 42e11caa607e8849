"""The knowledge base pages: list and search, article, editor, history, and who may do what."""

from __future__ import annotations

import pytest

from kesu.knowledge.models import Article, Status
from tests.knowledge.conftest import current

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client, people):
    client.force_login(people["zhao"])
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def editor(client, people):
    client.force_login(people["li"])
    client.cookies["django_language"] = "en"
    return client


def test_list_shows_published_articles_to_a_handler(reader, write) -> None:
    shown = write("电水壶漏水的标准答复")
    hidden = write("漏水话术草稿", status="draft")
    page = reader.get("/work/kb/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'href="/work/kb/{shown.pk}/"' in text and "Quality defect" in text
    assert current(hidden).title not in text
    assert 'data-testid="new-article"' not in text  # handlers only read


def test_search_page_finds_by_words_and_filters(reader, write) -> None:
    kettle = write("电水壶质量问题的处理话术", "顾客反映电水壶用了两天就漏水时，先真诚致歉。")
    courier = write("快递延误答复", "物流延迟三天以上，主动告知新的送达时间。", kind="faq",
                    categories=("late_delivery",))  # fmt: skip
    text = reader.get("/work/kb/", {"q": "漏水"}).content.decode()
    assert f"/work/kb/{kettle.pk}/" in text and f"/work/kb/{courier.pk}/" not in text
    text = reader.get("/work/kb/", {"kind": "faq", "category": "late_delivery"}).content.decode()
    assert f"/work/kb/{courier.pk}/" in text and f"/work/kb/{kettle.pk}/" not in text
    text = reader.get("/work/kb/", {"category": "no_such"}).content.decode()
    assert "No articles match." in text and "Category:" in text


def test_list_page_queries_do_not_grow_with_articles(reader, write, django_assert_max_num_queries):
    for number in range(12):
        write(f"话术{number}", categories=("quality_defect", "wrong_item"))
    with django_assert_max_num_queries(10):
        assert reader.get("/work/kb/").status_code == 200


def test_article_page_shows_the_text_with_its_line_breaks(reader, write) -> None:
    article = write(
        "退货政策", "第一条：七天无理由。\n第二条：<b>质量问题</b>十五天包换。", kind="policy"
    )
    text = reader.get(f"/work/kb/{article.pk}/").content.decode()
    assert "第一条：七天无理由。\n第二条：" in text and 'class="description"' in text
    assert "&lt;b&gt;" in text  # text, never HTML
    assert f"/work/kb/{article.pk}/edit/" not in text


def test_a_draft_is_not_found_by_a_handler(reader, write) -> None:
    draft = write(status="draft")
    assert reader.get(f"/work/kb/{draft.pk}/").status_code == 404
    assert reader.get(f"/work/kb/{draft.pk}/history/").status_code == 404
    assert reader.get("/work/kb/999999/").status_code == 404


def test_a_handler_may_not_write(reader, write) -> None:
    article = write()
    assert reader.get("/work/kb/new/").status_code == 403
    assert reader.post("/work/kb/new/", {"title": "t", "body": "b", "kind": "faq",
                                         "language": "en"}).status_code == 403  # fmt: skip
    assert reader.get(f"/work/kb/{article.pk}/edit/").status_code == 403
    assert reader.post(f"/work/kb/{article.pk}/edit/", {"title": "改"}).status_code == 403
    assert reader.post(f"/work/kb/{article.pk}/status/", {"status": "archived"}).status_code == 403
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED and article.versions.count() == 1


def test_a_manager_creates_an_article(editor, people) -> None:
    assert editor.get("/work/kb/new/").status_code == 200
    response = editor.post("/work/kb/new/", {
        "title": "物流延误话术", "kind": "script", "language": "zh-hans",
        "categories": ["late_delivery", "long_wait"], "body": "先致歉。\n再告知新的送达时间。",
        "change_note": "新建",
    })  # fmt: skip
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work/kb/{article.pk}/"
    assert article.status == Status.DRAFT and current(article).author == people["li"]
    assert set(article.category_links.values_list("category__code", flat=True)) == {
        "late_delivery", "long_wait",
    }  # fmt: skip


def test_the_form_says_which_field_is_wrong(editor) -> None:
    response = editor.post("/work/kb/new/", {"title": "", "kind": "memo", "language": "en",
                                             "body": "正文"})  # fmt: skip
    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="title"' in text and 'data-field="kind"' in text
    assert 'data-field="body"' not in text
    assert not Article.objects.exists()


def test_a_manager_edits_and_the_history_keeps_every_version(editor, write, people) -> None:
    article = write("电水壶漏水的标准答复", "七天内可退货。")
    form = editor.get(f"/work/kb/{article.pk}/edit/").content.decode()
    assert "七天内可退货。" in form and 'name="base_version"' in form
    response = editor.post(f"/work/kb/{article.pk}/edit/", {
        "title": "电水壶漏水的标准答复", "kind": "script", "language": "zh-hans",
        "categories": ["quality_defect"], "body": "十五天内可换新。", "change_note": "新规定",
        "base_version": "1",
    })  # fmt: skip
    assert response.status_code == 302
    article.refresh_from_db()
    assert current(article).number == 2 and current(article).body == "十五天内可换新。"
    history = editor.get(f"/work/kb/{article.pk}/history/").content.decode()
    assert "v1" in history and "v2" in history and "新规定" in history
    old = editor.get(f"/work/kb/{article.pk}/v/1/").content.decode()
    assert "七天内可退货。" in old and "An earlier version" in old
    assert editor.get(f"/work/kb/{article.pk}/v/9/").status_code == 404
    # A stale form does not overwrite the newer version.
    stale = editor.post(f"/work/kb/{article.pk}/edit/", {
        "title": "旧标题", "kind": "script", "language": "zh-hans", "body": "旧正文",
        "base_version": "1",
    })  # fmt: skip
    assert stale.status_code == 200 and "Someone saved version 2" in stale.content.decode()
    assert article.versions.count() == 2


def test_a_manager_publishes_and_archives(editor, write) -> None:
    article = write(status="draft")
    editor.post(f"/work/kb/{article.pk}/status/", {"status": "published"})
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    editor.post(f"/work/kb/{article.pk}/status/", {"status": "archived"})
    article.refresh_from_db()
    assert article.status == Status.ARCHIVED
    response = editor.post(f"/work/kb/{article.pk}/status/", {"status": "gone"}, follow=True)
    assert "Choose draft, published or archived." in response.content.decode()


def test_the_pages_speak_chinese(client, people, write) -> None:
    write()
    client.force_login(people["zhao"])
    page = client.get("/work/kb/")
    assert page.status_code == 200 and "质量缺陷" in page.content.decode()


def test_admin_lists_articles_read_only(client, people, write) -> None:
    article = write()
    client.force_login(people["admin"])
    assert client.get("/admin/knowledge/article/").status_code == 200
    assert client.get(f"/admin/knowledge/article/{article.pk}/change/").status_code == 200
    assert client.get("/admin/knowledge/articleversion/").status_code == 200
    assert client.get("/admin/knowledge/article/add/").status_code == 403
