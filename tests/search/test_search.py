"""Keyword search: Chinese substrings, English words, phones, references, on both databases."""

from __future__ import annotations

import pytest

from kesu.complaints.selectors import queue_page
from kesu.search.tokens import document_tokens, query_phrases


def test_chinese_runs_become_pairs_and_a_final_character() -> None:
    assert document_tokens("我要退款") == ["我要", "要退", "退款", "款"]
    assert document_tokens("iPhone１５屏幕坏了!") == ["iphone15", "屏幕", "幕坏", "坏了", "了"]


def test_queries_become_phrases() -> None:
    assert query_phrases("退款") == [(["退款"], False)]
    assert query_phrases("退") == [(["退"], True)]
    assert query_phrases("退款慢 iPhone") == [(["退款", "款慢"], False), (["iphone"], False)]
    assert query_phrases("退款iphone") == [(["退款", "款", "iphone"], False)]
    assert query_phrases("!!! ,,,") == []


CASES = [
    ("热水器", {"water"}),
    ("水器漏", {"water"}),  # across what a segmenter would call word boundaries
    ("漏", {"water"}),
    ("漏电", set()),
    ("快递 态度", {"courier"}),
    ("态度 热水器", set()),
    ("ＩＰＨＯＮＥ", {"phone"}),  # full-width folds to the same word
    ("iphone 屏幕", {"phone"}),
    ("screen", {"english"}),
    ("SCREEN cracked", {"english"}),
    ("13912345678", {"courier"}),  # the customer's phone
    ("王建国", {"courier"}),  # the customer's name
    ("DD20261101", {"water"}),  # the order number
    ("\"'*", set()),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), CASES)
def test_search_finds_substrings_and_names(query, expected, make_complaint, people) -> None:
    made = {
        "water": make_complaint(description="家里的热水器漏水了", order_ref="DD20261101"),
        "courier": make_complaint(description="快递员态度很差", name="王建国", phone="13912345678"),
        "phone": make_complaint(description="新买的iPhone屏幕有坏点", phone="13700000001"),
        "english": make_complaint(
            description="The screen was cracked on arrival", email="a@example.com", phone=""
        ),
    }
    ids = {c.pk: key for key, c in made.items()}
    page = queue_page(people["admin"], {"q": query, "page_size": 50})
    assert {ids[c.pk] for c in page.items} == expected
    assert page.total == len(expected)
