"""Risk signals and keyword rules: matching survives real-world writing; reasons are named."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kesu.complaints.models import Flag, Grade
from kesu.triage.engine import Facts
from kesu.triage.explain import headline
from kesu.triage.models import Category, Rule
from kesu.triage.services import read
from kesu.triage.text import Folded, compile_keywords

pytestmark = pytest.mark.django_db


def flags_of(text: str) -> list[str]:
    return read(Facts(text=text)).flags


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("再不解决我就打１２３１５", Flag.REGULATOR),  # full-width digits
        ("我要打 1 2 3 1 5 投诉你们", Flag.REGULATOR),  # spaces inside the number
        ("已經向消協反映", Flag.REGULATOR),  # traditional characters
        ("向市场-监管局举报", Flag.REGULATOR),  # punctuation inside the word
        ("I have filed a complaint with the CFPB", Flag.REGULATOR),
        ("reported them to the Better Business Bureau", Flag.REGULATOR),
        ("我要找媒 体曝光", Flag.MEDIA),
        ("已經聯繫了記者", Flag.MEDIA),
        ("视频已经发到网上了", Flag.MEDIA),
        ("I will go to the media", Flag.MEDIA),
        ("再不退钱就找lawyer", Flag.LEGAL),  # mixed English inside Chinese
        ("我會去法院起訴", Flag.LEGAL),
        ("I will SUE you", Flag.LEGAL),
        ("孩子吃了以后过敏住院", Flag.SAFETY),
        ("充电时冒烟起火", Flag.SAFETY),
        ("我们都是这个小区的业主，联名投诉", Flag.GROUP),
        ("这已经是第三次反映了", Flag.REPEAT),
        # A look-alike first (inside a phone number, inside a word), the real one after it.
        ("回电13812315678，不然就打12315", Flag.REGULATOR),
        ("this issue? I will sue", Flag.LEGAL),
    ],
)
def test_signals_match_real_writing(text: str, flag: str) -> None:
    assert flag in flags_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "我的电话是13812315678，请回电",  # 12315 inside a phone number
        "This is an issue with my account",  # "sue" inside a word
        "我在网上买的衣服尺码不对",  # bought online is not exposure
        "收到了，谢谢",
    ],
)
def test_lookalikes_do_not_match(text: str) -> None:
    assert flags_of(text) == []


def test_the_issue_sentence_gets_regulator_and_media_and_grade_b_or_worse() -> None:
    reading = read(Facts(text="再不解决我就打１２３１５并找媒体曝光"))
    assert {Flag.REGULATOR, Flag.MEDIA} <= set(reading.flags)
    assert reading.grade in (Grade.A, Grade.B)
    assert reading.emotion == "threatening"
    names = [r.get("rule", "") for r in reading.reasons if r["kind"] == "rule"]
    assert any("Regulator" in n for n in names) and any("Media" in n for n in names)
    assert headline(reading.grade, reading.reasons).startswith(f"Grade {reading.grade} because:")
    assert "12315" in headline(reading.grade, reading.reasons)


def test_an_admins_new_rule_takes_effect_and_is_named() -> None:
    category = Category.objects.get(code="quality_defect")
    Rule.objects.create(
        name="异味批次 · Odd smell batch",
        keywords="异味\n怪味",
        category=category,
        grade_floor=Grade.C,
    )
    reading = read(Facts(text="这批牛奶有股怪味"))
    assert reading.category == "quality_defect"
    assert reading.nature == "product_quality"
    assert reading.grade == Grade.C
    rule = next(r for r in reading.reasons if r.get("rule") == "异味批次 · Odd smell batch")
    assert rule["words"] == ["怪味"] and rule["grade_floor"] == "C"


def test_pattern_rules_and_their_validation() -> None:
    Rule.objects.create(
        name="Order number mentioned", pattern=r"订单号?\s*\d{6,}", flag=Flag.URGENT
    )
    assert Flag.URGENT in flags_of("订单 12345678 一直没发货")
    broken = Rule(name="broken", pattern="([", flag=Flag.URGENT)
    with pytest.raises(ValidationError) as caught:
        broken.full_clean()
    assert "pattern" in caught.value.message_dict
    empty = Rule(name="empty", flag=Flag.URGENT)
    with pytest.raises(ValidationError) as caught:
        empty.full_clean()
    assert "keywords" in caught.value.message_dict


def test_an_inactive_rule_is_ignored() -> None:
    Rule.objects.filter(flag=Flag.LEGAL).update(is_active=False)
    from kesu.triage.selectors import forget

    forget()  # update() sends no signal; the admin's save does
    assert Flag.LEGAL not in flags_of("我要找律师起诉")


def test_keywords_fold_like_texts() -> None:
    matcher = compile_keywords(["銀保監", "Better-Business Bureau"])
    assert matcher.find(Folded.of("已投诉到银保监")) == ["银保监"]
    # Punctuation between English words counts as a space, in keywords as in texts.
    assert matcher.find(Folded.of("the better business bureau")) == ["better business bureau"]


def test_a_deactivated_category_is_no_longer_given(people) -> None:
    from kesu.errors import InvalidInput
    from kesu.intake.services import parse_incoming

    assert read(Facts(text="商家发错货了")).category == "wrong_item"
    wrong_item = Category.objects.get(code="wrong_item")
    wrong_item.is_active = False
    wrong_item.save()
    reading = read(Facts(text="商家发错货了"))
    assert reading.category == "" and reading.needs_review
    raw = {"description": "x", "phone": "13900139000", "channel": "hotline",
           "category": "wrong_item"}  # fmt: skip
    with pytest.raises(InvalidInput):
        parse_incoming(raw, staff=True)
