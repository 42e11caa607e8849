"""Helpers for the knowledge base tests: articles and resolved complaints, made through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kesu.accounts.models import User
from kesu.complaints.models import Complaint
from kesu.knowledge import services
from kesu.knowledge.models import Article, ArticleVersion
from tests.conftest import walk

ArticleMaker = Callable[..., Article]


def current(article: Article) -> ArticleVersion:
    """The article's current version (every saved article has one)."""
    assert article.current is not None
    return article.current


@pytest.fixture
def write(people: dict[str, User]) -> ArticleMaker:
    """An article written by 李经理 through the services, published unless told otherwise."""

    def make(
        title: str = "电水壶漏水的标准答复",
        body: str = "先致歉，再确认购买日期；七天内漏水可直接退货。",
        *,
        kind: str = "script",
        language: str = "zh-hans",
        categories: tuple[str, ...] = ("quality_defect",),
        status: str = "published",
        actor: str = "li",
    ) -> Article:
        article = services.create_article(
            actor=people[actor], title=title, body=body, kind=kind, language=language,
            categories=categories, change_note="初稿",
        )  # fmt: skip
        if status != "draft":
            article = services.set_status(article=article, actor=people[actor], status=status)
        return article

    return make


def resolve(
    complaint: Complaint,
    handler: User,
    *,
    remedy_type: str = "refund",
    amount: str = "100",
    remedy: str = "退还货款，三个工作日内到账。",
    root_cause: str = "出厂密封圈缺陷",
    corrective_action: str = "通知质量部排查同批次",
    satisfaction: int | None = None,
) -> Complaint:
    """Walk an assigned complaint to resolved (and closed, if a satisfaction is given)."""
    steps: list[tuple[str, User, dict[str, Any]]] = [
        ("investigate", handler, {}),
        ("propose_remedy", handler,
         {"remedy_type": remedy_type, "remedy_amount": amount, "remedy_description": remedy}),
        ("customer_accept", handler, {}),
        ("resolve", handler, {"responsibility": "ours", "root_cause": root_cause,
                              "corrective_action": corrective_action}),
    ]  # fmt: skip
    if satisfaction is not None:
        steps.append(("close", handler, {"satisfaction": satisfaction}))
    walk(complaint, steps)
    complaint.refresh_from_db()
    return complaint
