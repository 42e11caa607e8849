"""Promoting a resolved complaint to a case: the customer's personal data never comes along."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from kesu.errors import Forbidden, NotAllowed
from kesu.knowledge.models import Kind, Status
from kesu.knowledge.redact import Known, redact
from kesu.knowledge.services import promote_to_case
from tests.conftest import walk
from tests.knowledge.conftest import current, resolve

pytestmark = pytest.mark.django_db

KNOWN = Known(name="刘芳", phones=("+8613800138000", "13800138000"),
              emails=("liufang@example.com",), order_refs=("DD20261101",))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我是刘芳，请联系刘女士", "我是〔客户〕，请联系〔客户〕"),
        (
            "手机13800138000，备用+86 138 0013 8000，另一个139-1234-5678",
            "手机〔电话〕，备用〔电话〕，另一个〔电话〕",
        ),
        ("座机010-87654321，(0755)1234567转123", "座机〔电话〕，〔电话〕"),
        ("联系电话：87654321", "联系电话：〔电话〕"),
        ("邮箱LiuFang@example.com或fang.liu+kb@mail.qq.com", "邮箱〔邮箱〕或〔邮箱〕"),
        ("身份证110101199003071234和11010119900307123X", "身份证〔证件号〕和〔证件号〕"),
        (
            "订单DD20261101，运单SF1234567890123，JD-2026-0501-88",
            "订单〔订单号〕，运单〔订单号〕，〔订单号〕",
        ),
        ("寄到北京市朝阳区建国路88号SOHO现代城3号楼1201室。", "寄到〔地址〕。"),
        ("我住在上海市浦东新区张江路123弄5号602室", "我住在〔地址〕"),
        ("家在杭州市西湖区文三路，阳光花园5栋2单元301", "家在〔地址〕，〔地址〕"),
        ("Send it to 221 Baker Street, Apt 4B please", "Send it to 〔地址〕 please"),
        # What is not personal data stays.
        (
            "2026-05-01买的iPhone15，快递在路上，一路顺风",
            "2026-05-01买的iPhone15，快递在路上，一路顺风",
        ),
        ("李经理说王师傅3楼服务台", "李经理说王师傅3楼服务台"),
    ],
)
def test_redact_replaces_each_kind_of_personal_data(text, expected) -> None:
    assert redact(text, KNOWN) == expected


def test_redact_a_latin_name_by_its_parts() -> None:
    assert redact("Mr Smith (John Smith) wrote", Known(name="John Smith")) == (
        "Mr 〔客户〕 (〔客户〕) wrote"
    )


PERSONAL = [
    "刘芳", "刘女士", "13800138000", "138 0013 8000", "010-87654321", "liufang@example.com",
    "110101199003071234", "DD20261101", "SF1234567890123", "建国路88号", "1201室",
]  # fmt: skip


@pytest.fixture
def resolved(in_department, people):
    description = (
        "我是刘芳，5月1日在门店买的电水壶（订单DD20261101）用了两天就漏水。"
        "我的手机13800138000，也可以打+86 138 0013 8000或座机010-87654321，"
        "邮箱liufang@example.com，身份证110101199003071234。"
        "换货请寄到北京市朝阳区建国路88号SOHO现代城3号楼1201室，快递单SF1234567890123。"
    )
    with time_machine.travel(timezone.now(), tick=False) as clock:
        complaint = in_department(
            actor=people["wang"], description=description, name="刘芳", phone="13800138000",
            email="liufang@example.com", order_ref="DD20261101", category="quality_defect",
            product="电水壶",
        )  # fmt: skip
        clock.shift(30 * 3600)
        return resolve(
            complaint, people["zhao"], remedy="给刘女士退款，已电话13800138000告知。",
            root_cause="出厂密封圈缺陷", corrective_action="通知质量部排查同批次",
            satisfaction=5,
        )  # fmt: skip


def test_promote_writes_an_anonymised_draft_case(resolved, people) -> None:
    article = promote_to_case(complaint=resolved, actor=people["li"])
    assert (article.kind, article.status, article.language) == (
        Kind.CASE, Status.DRAFT, "zh-hans",
    )  # fmt: skip
    assert article.source_complaint == resolved
    assert list(article.category_links.values_list("category__code", flat=True)) == [
        "quality_defect"
    ]
    body = current(article).body
    for placeholder in ("〔客户〕", "〔电话〕", "〔邮箱〕", "〔证件号〕", "〔订单号〕", "〔地址〕"):
        assert placeholder in body, placeholder
    for secret in PERSONAL:
        assert secret not in body and secret not in article.title, secret
    # The subject was cut inside a phone number; the title is cut from the cleaned text.
    assert resolved.subject.endswith("+…") and "+" not in article.title
    # The lesson stays: what happened, the finding, the remedy, time and satisfaction.
    for fact in ("用了两天就漏水", "电水壶", "出厂密封圈缺陷", "通知质量部排查同批次", "退款",
                 "¥100.00", "30.0", "5/5"):  # fmt: skip
        assert fact in body, fact
    assert current(article).change_note == f"Promoted from complaint {resolved.reference}."
    assert current(article).author == people["li"]


def test_a_closed_complaint_promotes_in_its_language(in_department, people) -> None:
    complaint = in_department(
        description="The kettle leaked after two days. Call me on 13800138000.",
        language="en", name="Mary Jones", email="mary@example.com", phone="",
    )  # fmt: skip
    resolve(complaint, people["zhao"], remedy="Refund to Mary Jones.", satisfaction=4)
    article = promote_to_case(complaint=complaint, actor=people["admin"])
    body = current(article).body
    assert article.language == "en"
    assert "## What happened" in body and "Root cause: 出厂密封圈缺陷" in body
    assert "## Findings and remedy" in body and article.title.startswith("The kettle leaked")
    assert "Satisfaction: 4/5" in body
    assert "Mary" not in body and "13800138000" not in body and "〔客户〕" in body


def test_an_open_complaint_is_refused(in_department, people) -> None:
    complaint = walk(in_department(), [("investigate", people["zhao"], {})])
    with pytest.raises(NotAllowed, match="Only a resolved complaint"):
        promote_to_case(complaint=complaint, actor=people["li"])
    assert not complaint.__class__.objects.filter(knowledge_article__isnull=False).exists()


def test_an_invalid_complaint_is_refused(in_department, people) -> None:
    complaint = walk(in_department(), [("mark_invalid", people["zhao"], {"reason": "客户误会"})])
    with pytest.raises(NotAllowed):
        promote_to_case(complaint=complaint, actor=people["li"])


def test_a_complaint_becomes_one_case_only(resolved, people) -> None:
    first = promote_to_case(complaint=resolved, actor=people["li"])
    with pytest.raises(NotAllowed, match="already the case"):
        promote_to_case(complaint=resolved, actor=people["admin"])
    assert first.title in str(first)


@pytest.mark.parametrize("who", ["zhao", "wang", "sun"])
def test_only_editors_promote(resolved, people, who) -> None:
    with pytest.raises(Forbidden):
        promote_to_case(complaint=resolved, actor=people[who])


def test_promote_endpoint(client, resolved, in_department, people) -> None:
    client.force_login(people["zhao"])
    assert client.post(f"/work/kb/promote/{resolved.reference}/").status_code == 403
    client.force_login(people["li"])
    assert client.post("/work/kb/promote/KS-20260101-999999/").status_code == 404
    assert client.get(f"/work/kb/promote/{resolved.reference}/").status_code == 405
    response = client.post(f"/work/kb/promote/{resolved.reference}/")
    article = resolved.__class__.objects.get(pk=resolved.pk).knowledge_article
    assert response.status_code == 302
    assert response["Location"] == f"/work/kb/{article.pk}/edit/"
    # Refused again, back to the case page with the reason.
    response = client.post(f"/work/kb/promote/{resolved.reference}/", follow=True)
    assert response.redirect_chain[0][0] == f"/work/c/{resolved.reference}/"
    open_one = in_department()
    response = client.post(f"/work/kb/promote/{open_one.reference}/")
    assert response["Location"] == f"/work/c/{open_one.reference}/"


def test_promote_endpoint_hides_complaints_the_editor_cannot_see(client, people, make_complaint):
    complaint = walk(
        make_complaint(),
        [("acknowledge", people["wang"], {}),
         ("assign", people["admin"], {"department": "logistics", "assignee": "zhang"})],
    )  # fmt: skip
    client.force_login(people["li"])  # after-sales manager: not logistics
    assert client.post(f"/work/kb/promote/{complaint.reference}/").status_code == 404
