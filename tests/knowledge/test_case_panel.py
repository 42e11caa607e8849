"""What the case page shows from the knowledge base: similar cases, scripts, advice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kesu.complaints.models import Complaint
from kesu.complaints.selectors import complaints_visible_to
from kesu.knowledge.advice import Profile, advice_for, suggested_profile
from kesu.knowledge.selectors import SimilarCase, scripts_for, similar_resolved
from tests.conftest import walk
from tests.knowledge.conftest import resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(in_department, make_complaint, people) -> dict[str, Complaint]:
    """Resolved and open complaints in after-sales, and one resolved in logistics."""
    zhao = people["zhao"]

    def staff(**fields):
        return in_department(actor=people["wang"], **fields)

    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False) as clock:
        made = {
            "same": staff(
                description="电水壶用了两天底座就漏水，桌子全湿了", category="quality_defect"
            ),
            "near": staff(description="电水壶烧水时有塑料异味，不敢用", category="quality_defect"),
            "far": staff(description="快递三天没到，客服一直不回复", category="late_delivery"),
            "open": staff(
                description="电水壶用了两天底座就漏水，桌子全湿了", category="quality_defect"
            ),
            # Another category: found by its words all the same.
            "elsewise": staff(
                description="新电水壶的底座漏水，水流了一桌子", category="wrong_item"
            ),
        }
        clock.shift(timedelta(hours=30))
        resolve(made["same"], zhao, satisfaction=5)
        for key in ("near", "far", "elsewise"):
            resolve(made[key], zhao, remedy_type="replacement", amount="0", remedy="换新")
        logistics = walk(
            make_complaint(actor=people["wang"], description="电水壶用了两天底座就漏水，桌子湿了",
                           category="quality_defect"),
            [("acknowledge", people["wang"], {}),
             ("assign", people["admin"], {"department": "logistics", "assignee": "zhang"})],
        )  # fmt: skip
        made["elsewhere"] = resolve(logistics, people["zhang"])
    made["target"] = staff(
        description="新买的电水壶底座漏水了，用了两天", category="quality_defect"
    )
    return made


def refs(cases: list[SimilarCase]) -> list[str]:
    return [case.reference for case in cases]


def test_the_most_similar_resolved_complaint_comes_first(corpus, people) -> None:
    found = similar_resolved(corpus["target"], among=complaints_visible_to(people["zhao"]), limit=5)
    assert refs(found)[0] == corpus["same"].reference
    assert corpus["elsewise"].reference in refs(found)  # similar text, another category
    assert corpus["open"].reference not in refs(found)  # not resolved
    assert corpus["elsewhere"].reference not in refs(found)  # zhao may not see it
    assert corpus["far"].reference not in refs(found)  # nothing in common
    assert [c.similarity for c in found] == sorted((c.similarity for c in found), reverse=True)
    assert all(0 < c.similarity <= 1 for c in found)
    first = found[0]
    assert first == SimilarCase(
        reference=corpus["same"].reference, subject=corpus["same"].subject,
        similarity=first.similarity, remedy_type="refund", remedy_label="Refund",
        remedy_amount=Decimal("100.00"), handling_hours=30.0, satisfaction=5,
    )  # fmt: skip


def test_what_the_reader_may_see_decides(corpus, people) -> None:
    everything = refs(
        similar_resolved(corpus["target"], among=complaints_visible_to(people["admin"]))
    )
    assert corpus["elsewhere"].reference in everything
    assert refs(
        similar_resolved(corpus["target"], among=complaints_visible_to(people["zhao"]), limit=1)
    ) == [corpus["same"].reference]
    assert similar_resolved(corpus["target"], among=Complaint.objects.none()) == []


def test_a_resolved_complaint_is_not_similar_to_itself(corpus, people) -> None:
    found = similar_resolved(corpus["same"], among=Complaint.objects.all())
    assert corpus["same"].reference not in refs(found)
    assert refs(found)[0] == corpus["elsewhere"].reference


def test_labels_follow_the_readers_language(corpus, people) -> None:
    with translation.override("zh-hans"):
        found = similar_resolved(corpus["target"], among=complaints_visible_to(people["zhao"]))
    assert found[0].remedy_label == "退款"


@pytest.fixture
def scripts(write) -> dict[str, object]:
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False) as clock:
        made = {"old_zh": write("漏水话术（旧）")}
        clock.shift(timedelta(hours=1))
        made["faq_zh"] = write("漏水常见问题", kind="faq")
        clock.shift(timedelta(hours=1))
        made["en"] = write("Leaking kettle script", "Apologise first.", language="en")
        made["policy"] = write("退货政策", kind="policy")
        made["draft"] = write("漏水话术草稿", status="draft")
        made["archived"] = write("漏水话术（作废）", status="archived")
        made["late_en"] = write("Late delivery script", "Give the new date.", language="en",
                                categories=("late_delivery",))  # fmt: skip
    return made


def test_scripts_for_a_category_in_the_language_newest_first(scripts) -> None:
    assert scripts_for(category="quality_defect", language="zh-hans") == [
        scripts["faq_zh"], scripts["old_zh"],
    ]  # fmt: skip
    assert scripts_for(category="quality_defect", language="zh-hans", limit=1) == [
        scripts["faq_zh"]
    ]
    assert scripts_for(category="quality_defect", language="en") == [scripts["en"]]


def test_scripts_fall_back_to_the_other_language(scripts) -> None:
    assert scripts_for(category="late_delivery", language="zh-hans") == [scripts["late_en"]]
    assert scripts_for(category="wrong_item", language="zh-hans") == []
    assert scripts_for(category="", language="zh-hans") == []


def test_advice_for_every_profile() -> None:
    for profile in Profile:
        assert len(advice_for(profile)) >= 2, profile
        assert all(isinstance(sentence, str) for sentence in advice_for(profile))
    assert any("vent" in s for s in advice_for("emotional"))
    assert any("thank" in s for s in advice_for(Profile.JUSTICE_DRIVEN))
    assert any("policy" in s for s in advice_for("prepared"))
    assert any("upward" in s for s in advice_for("publicity_power"))
    assert advice_for("") == [] and advice_for("unknown") == []


def test_a_first_guess_of_the_profile(receive_public) -> None:
    assert suggested_profile(receive_public(description="我要找记者曝光你们").complaint) == (
        Profile.PUBLICITY_POWER
    )
    assert suggested_profile(receive_public(description="请帮我查一下物流").complaint) == ""


def test_the_panel_renders_links_and_advice(corpus, scripts, people) -> None:
    similar = similar_resolved(corpus["target"], among=complaints_visible_to(people["zhao"]))
    html = render_to_string(
        "knowledge/_case_panel.html",
        {"similar": similar, "scripts": scripts_for(category="quality_defect", language="zh-hans"),
         "advice": advice_for(Profile.EMOTIONAL)},
    )  # fmt: skip
    assert f'href="/work/c/{corpus["same"].reference}/"' in html
    assert "Refund ¥100.00" in html and "30.0 h" in html and "satisfaction 5/5" in html
    assert f'href="/work/kb/{scripts["faq_zh"].pk}/"' in html
    assert "Let the customer vent first" in html
    empty = render_to_string(
        "knowledge/_case_panel.html", {"similar": [], "scripts": [], "advice": []}
    )
    assert "No similar resolved complaint yet." in empty and "How to handle" not in empty
