"""Searching the knowledge base: Chinese words inside sentences, English words, filters, status."""

from __future__ import annotations

import pytest

from kesu.knowledge.selectors import search_articles
from kesu.knowledge.text import search_tokens

pytestmark = pytest.mark.django_db


def test_tokens_fold_and_skip_stop_words() -> None:
    tokens = search_tokens("顾客反映电水壶漏水了，Refund the ＦＵＬＬ amount; 退貨")
    assert {"电水壶", "水壶", "漏水", "refund", "full", "amount", "退货"} <= tokens
    assert not {"了", "the", "，", ";"} & tokens
    assert search_tokens("的 了 the") == set()


@pytest.fixture
def corpus(write) -> dict[str, object]:
    return {
        "kettle": write(
            "电水壶质量问题的处理话术",
            "顾客反映新买的电水壶用了两天就漏水时，先真诚致歉，再核对购买日期，七天内可直接退货。",
        ),
        "courier": write(
            "快递延误答复",
            "物流延迟超过三天的，主动告知新的送达时间，并赠送优惠券。",
            kind="faq",
            categories=("late_delivery",),
        ),
        "english": write(
            "Late delivery script",
            "Apologise for the late delivery, give the new delivery date and offer a coupon.",
            language="en",
            categories=("late_delivery",),
        ),
        "policy": write(
            "退货政策", "七天无理由退货，质量问题十五天内包换。", kind="policy", categories=()
        ),
        "old": write("旧版漏水话术", "漏水一律返厂维修。", status="archived"),
        "draft": write("漏水话术草稿", "漏水先道歉，草稿。", status="draft"),
    }


def found(user, **filters) -> list[object]:
    return list(search_articles(user, **filters))


def test_a_chinese_word_finds_the_sentence_that_holds_it(people, corpus) -> None:
    assert found(people["zhao"], query="漏水") == [corpus["kettle"]]
    assert found(people["zhao"], query="核对购买日期") == [corpus["kettle"]]
    # Traditional characters and a word the segmenter splits otherwise in the text.
    assert found(people["zhao"], query="電水壺") == [corpus["kettle"]]
    assert found(people["zhao"], query="送达") == [corpus["courier"]]


def test_more_matching_words_rank_higher(people, corpus) -> None:
    assert set(found(people["zhao"], query="质量问题")) == {corpus["kettle"], corpus["policy"]}
    ranked = found(people["zhao"], query="电水壶 退货")
    assert ranked == [corpus["kettle"], corpus["policy"]]  # two words match before one


def test_english_words_match_whole_words_in_any_case(people, corpus) -> None:
    assert found(people["zhao"], query="DELIVERY coupon") == [corpus["english"]]
    assert found(people["zhao"], query="refund") == []
    assert found(people["zhao"], query="the and") == []  # stop words alone find nothing


def test_filters_narrow_the_results(people, corpus) -> None:
    user = people["wang"]
    assert set(found(user, category="late_delivery")) == {corpus["courier"], corpus["english"]}
    assert found(user, category="late_delivery", language="en") == [corpus["english"]]
    assert found(user, category="late_delivery", kind="faq") == [corpus["courier"]]
    assert found(user, kind="policy", query="退货") == [corpus["policy"]]
    assert set(found(user)) == {corpus[k] for k in ("kettle", "courier", "english", "policy")}


def test_archived_articles_are_found_only_when_asked(people, corpus) -> None:
    assert corpus["old"] not in found(people["zhao"], query="漏水")
    assert found(people["zhao"], query="返厂维修", status="archived") == [corpus["old"]]
    assert corpus["old"] in found(people["zhao"], query="漏水", status="all")


def test_drafts_are_for_the_editors_only(people, corpus) -> None:
    for reader in ("wang", "zhao", "sun"):
        assert found(people[reader], query="草稿", status="draft") == []
        assert corpus["draft"] not in found(people[reader], query="漏水", status="all")
    assert found(people["li"], query="草稿", status="draft") == [corpus["draft"]]
    assert found(people["chen"], status="draft") == [corpus["draft"]]
