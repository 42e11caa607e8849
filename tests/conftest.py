"""Personas and helpers shared by the suite. Data is made through the services, never by hand.

Personas (STYLE 10): agent 小王 (wang) at the customer-service centre; handler 赵敏 (zhao)
and manager 李经理 (li) in after-sales; expert 陈专家 (chen) in quality; outsider 张三 (zhang),
a handler in logistics; auditor 孙审计 (sun); administrator (admin).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from kesu.accounts.models import Department, Role, Store, User
from kesu.accounts.services import create_user, issue_token
from kesu.complaints.models import Complaint
from kesu.complaints.workflow import perform
from kesu.intake.services import Received, parse_incoming, receive
from kesu.sla import selectors as sla_selectors
from kesu.triage import classifier
from kesu.triage import selectors as triage_selectors

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_and_clean(settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KESU_PUBLIC_RATE_LIMIT = 0
    cache.clear()
    # Triage keeps its rules and model per process; each test starts from its own database.
    triage_selectors.forget()
    classifier.forget()
    sla_selectors.forget()
    # Services called directly speak English here, so that assertions read plainly; requests
    # choose their own language (tests for the Chinese texts say so explicitly).
    with translation.override("en"):
        yield


@pytest.fixture
def departments(db: None) -> dict[str, Department]:
    rows = {
        "customer_service": ("客服中心", "Customer service"),
        "after_sales": ("售后服务部", "After-sales"),
        "quality": ("质量管理部", "Quality"),
        "logistics": ("物流配送部", "Logistics"),
    }
    return {
        code: Department.objects.create(code=code, name_zh=zh, name_en=en)
        for code, (zh, en) in rows.items()
    }


@pytest.fixture
def store(db: None) -> Store:
    return Store.objects.create(
        code="bj-chaoyang", name_zh="北京朝阳门店", name_en="Beijing Chaoyang"
    )


@pytest.fixture
def people(departments: dict[str, Department]) -> dict[str, User]:
    def make(username: str, role: Role, name: str, *codes: str) -> User:
        return create_user(
            username=username,
            role=role,
            password=PASSWORD,
            display_name=name,
            departments=[departments[c] for c in codes],
        )

    return {
        "wang": make("wang", Role.AGENT, "小王", "customer_service"),
        "zhao": make("zhao", Role.HANDLER, "赵敏", "after_sales"),
        "li": make("li", Role.MANAGER, "李经理", "after_sales"),
        "chen": make("chen", Role.EXPERT, "陈专家", "quality"),
        "zhang": make("zhang", Role.HANDLER, "张三", "logistics"),
        "sun": make("sun", Role.AUDITOR, "孙审计"),
        "admin": make("admin", Role.ADMIN, "管理员"),
    }


ComplaintMaker = Callable[..., Complaint]


@pytest.fixture
def make_complaint(people: dict[str, User]) -> ComplaintMaker:
    """A new complaint received through the real intake; `actor=` logs it as staff.

    Each call opens its own complaint, even with the same customer and text (which intake
    would otherwise join to the first: tests of that use receive() or the API directly).
    """

    def make(actor: User | None = None, **fields: Any) -> Complaint:
        raw: dict[str, Any] = {
            "description": "我在门店买的电水壶用了两天就漏水，要求退货。",
            "name": "刘女士",
            "phone": "13800138000",
        }
        if actor is not None:
            raw["channel"] = "hotline"
        raw.update(fields)
        incoming = parse_incoming(raw, staff=actor is not None)
        return receive(incoming, actor=actor, join_repeats=False).complaint

    return make


@pytest.fixture
def receive_public(db: None) -> Callable[..., Received]:
    def make(**fields: Any) -> Received:
        raw = {"description": "快递三天没到，客服不回复。", "email": "kehu@example.com", **fields}
        return receive(parse_incoming(raw, staff=False), actor=None, join_repeats=False)

    return make


def walk(complaint: Complaint, steps: list[tuple[str, User, dict[str, Any]]]) -> Complaint:
    for action, actor, data in steps:
        perform(complaint, action, actor, **data)
    return complaint


@pytest.fixture
def in_department(
    make_complaint: ComplaintMaker, people: dict[str, User]
) -> Callable[..., Complaint]:
    """A complaint acknowledged and assigned to after-sales / 赵敏."""

    def make(**fields: Any) -> Complaint:
        complaint = make_complaint(**fields)
        return walk(
            complaint,
            [
                ("acknowledge", people["wang"], {}),
                ("assign", people["li"], {"department": "after_sales", "assignee": "zhao"}),
            ],
        )

    return make


class Api:
    """The test client speaking JSON with a bearer token."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {"Accept-Language": "en"}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {issue_token(user=user, name='test')}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path, data, content_type="application/json", headers={**self.headers, **(headers or {})}
        )


@pytest.fixture
def api(people: dict[str, User]) -> Callable[[str | None], Api]:
    return lambda username: Api(people[username] if username else None)
