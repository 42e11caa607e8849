"""Reply checks: forbidden phrases and variants, blame, vague promises, CLEAR, others' data."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kesu.complaints.models import Event
from kesu.complaints.workflow import perform
from kesu.errors import InvalidInput
from kesu.replies.models import PhraseRule, ReplyTemplate, validate_template_body
from kesu.replies.services import check, render_template

pytestmark = pytest.mark.django_db


def rules(text: str, language: str = "zh", complaint=None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, text[f.start : f.end])
            for f in check(text, language=language, complaint=complaint)]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("不好意思，规定就是这样的，没法办。", "规定就是这样的"),
        ("规定就这样的，您理解一下。", "规定就这样的"),  # a character dropped, one added
        ("不好意思，规定就是这样。", "规定就是这样"),
        ("規定就是這樣的", "規定就是這樣的"),  # traditional characters
        ("规 定 就 是 这 样 的", "规 定 就 是 这 样 的"),  # spaces inside
        ("规定，就是——这样的！", "规定，就是——这样的"),  # punctuation inside
        ("系统坏了，我也没办法。", "系统坏了，我也没办法"),
    ],
)
def test_forbidden_phrases_survive_real_writing(text: str, quoted: str) -> None:
    found = [r for r in rules(text) if r[0] == "forbidden_phrase"]
    assert found and found[0][2] == quoted


def test_an_insulting_phrase_blocks_and_a_forbidden_one_warns() -> None:
    assert ("forbidden_phrase", "block", "你看不懂中文吗") in rules("这都写了，你看不懂中文吗？")
    assert rules("这种问题我们见得多了")[0][:2] == ("forbidden_phrase", "warn")


def test_english_phrases_are_whole_words() -> None:
    assert rules("I'm afraid that's the policy.", "en")[0][0] == "forbidden_phrase"
    assert rules("It's your fault, really.", "en")[0][0] == "blames_customer"
    assert rules("We will fix it ASAP.", "en")[0][0] == "vague_promise"
    assert rules("As approached, we agree.", "en") == []  # "asap" is not in "as approached"


def test_blaming_the_customer() -> None:
    assert rules("是你自己没看清楚说明书")[0][:2] == ("blames_customer", "warn")


def test_a_vague_promise_counts_only_without_a_date() -> None:
    assert rules("我们会尽快处理")[0][0] == "vague_promise"
    for dated in (
        "我们会尽快处理，12月5日前答复您",
        "尽快处理，3个工作日内给您结果",
        "明天尽快回复您",
    ):
        assert rules(dated) == [], dated
    assert rules("We will reply in a few days.", "en")[0][0] == "vague_promise"
    assert rules("We will reply in a few days, by December 5.", "en") == []


def test_a_first_reply_needs_an_apology_and_the_reference(receive_public) -> None:
    complaint = receive_public().complaint
    bare = rules("您的快递明天送到。", complaint=complaint)
    assert [r[0] for r in bare] == ["no_apology", "no_reference"]
    good = f"非常抱歉让您久等了。您的投诉 {complaint.reference} 的快递明天送到。"
    assert rules(good, complaint=complaint) == []


def test_only_the_first_reply_is_held_to_clear(in_department, people) -> None:
    complaint = in_department()
    said = f"非常抱歉给您带来不便，投诉 {complaint.reference} 已受理，明天联系您。"
    perform(complaint, "reply", people["zhao"], text=said)
    assert rules("快递明天送到。", complaint=complaint) == []


def test_other_peoples_phone_and_id_numbers_block(receive_public) -> None:
    complaint = receive_public(phone="13800138000", email="").complaint
    text = "抱歉。请联系 138 0013 8000；另一位客户 13912345678，身份证 110101199003074512。"
    found = [(r[0], r[1], r[2]) for r in rules(text, complaint=complaint)]
    assert ("other_customer_phone", "block", "13912345678") in found
    assert ("id_number", "block", "110101199003074512") in found
    assert not any("138 0013 8000" in r[2] for r in found)  # the customer's own number


def test_spans_point_into_the_text_as_written() -> None:
    text = "您好！\n这种问题，我们见得多了。"
    [finding] = check(text, language="zh")
    assert text[finding.start : finding.end] == "这种问题，我们见得多了"


def test_an_administrators_new_rule_applies(receive_public) -> None:
    PhraseRule.objects.create(kind="forbidden", language="zh", phrase="你爱买不买",
                              severity="block", suggestion="我们尊重您的选择。")  # fmt: skip
    assert rules("你爱买不买")[0][:2] == ("forbidden_phrase", "block")


def test_templates_fill_their_variables_and_refuse_unknown_ones(in_department) -> None:
    complaint = in_department()
    template = ReplyTemplate.objects.get(language="zh", position=10)
    text = render_template(template, complaint)
    assert complaint.reference in text and "{" not in text and "赵敏" in text
    with pytest.raises(ValidationError, match="customer_nmae"):
        validate_template_body("尊敬的{customer_nmae}")


def test_a_reply_with_a_warning_needs_a_reason_which_is_kept(in_department, people) -> None:
    complaint = in_department()
    with pytest.raises(InvalidInput) as refused:
        perform(complaint, "reply", people["zhao"], text="我们会尽快处理。")
    assert [e.field for e in refused.value.errors] == ["override_reason"]
    assert not Event.objects.filter(complaint=complaint, kind="reply").exists()
    event = perform(complaint, "reply", people["zhao"], text="我们会尽快处理。",
                    override_reason="客户要求先回复一句")  # fmt: skip
    assert event.customer_visible and event.data["override_reason"] == "客户要求先回复一句"
    assert {f["rule"] for f in event.data["findings"]} == {"vague_promise", "no_apology",
                                                           "no_reference"}  # fmt: skip


def test_a_blocked_reply_cannot_be_sent_even_with_a_reason(in_department, people) -> None:
    complaint = in_department()
    with pytest.raises(InvalidInput) as refused:
        perform(complaint, "reply", people["zhao"], text="你看不懂中文吗？", override_reason="x")
    assert [e.field for e in refused.value.errors] == ["text"]
