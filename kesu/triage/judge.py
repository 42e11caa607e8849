"""Is this a complaint? The question chat and social channels ask of every message.

A web form or a complaints mailbox says "complaint" by where it arrives; a chat conversation or
a public post does not: "你好，几点关门？" is not one, "买的洗衣机漏水，客服也不管" is. The
judgement reads the same signals as triage — risk flags (regulator, media, legal, safety,
group), emotion, the keyword rules — plus a small bilingual lexicon of grievance words (a
fault, a loss, a refusal, a demand), with the negation rule of the emotion lexicon, and says
why. It leans to "yes": a missed complaint costs more than an agent's look at a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kesu.complaints.models import Emotion
from kesu.triage.emotion import _negated, read_emotion
from kesu.triage.engine import Facts
from kesu.triage.services import read
from kesu.triage.text import Folded, compile_keywords

GRIEVANCE_WORDS = [
    # Saying so.
    "投诉", "举报", "差评", "维权", "曝光", "讨说法", "不满意", "太差", "很差", "极差", "真差",
    "不好", "不行", "一般般", "不值", "后悔", "再也不买", "不会再买", "不买了", "不推荐",
    "坑", "上当", "被骗", "不开心", "失望",
    # What went wrong with the thing.
    "坏了", "坏掉", "损坏", "破损", "破了", "裂了", "断裂", "漏水", "漏电", "漏油", "渗水",
    "进水", "故障", "有问题", "出问题", "质量问题", "质量差", "瑕疵", "假货", "假冒", "过期",
    "变质", "发霉", "异物", "异味", "烂", "生锈", "鼓包", "抖动", "顿挫", "异响", "噪音",
    "不亮", "失灵", "隐患", "掉漆", "起球", "褪色", "色差", "不符", "差距很大", "偏小", "偏大",
    "太小", "太薄", "太慢", "很慢", "反应慢", "速度慢", "卡顿", "死机", "不干净", "很脏",
    "太脏", "太贵", "用不了", "不能用", "无法使用", "没法用", "打不开", "开不了机", "无力",
    "少发", "漏发", "发错", "错发", "缺件", "不清不楚",
    # What went wrong with the service.
    "没收到", "未收到", "不发货", "迟迟不", "一直不", "一直没", "没人管", "没人理", "不理",
    "不回复", "没回复", "推脱", "推诿", "踢皮球", "态度差", "态度恶劣", "素质", "骂人",
    "说谎", "乱收费", "多收", "扣费", "扣钱", "乱扣", "收费不合理", "不给退", "不退", "拒绝退",
    "拒退", "拒赔", "不给换", "不给修", "不予解决", "不解决", "未解决", "没解决", "欺诈",
    "虚假宣传", "霸王条款", "误导",
    # What the customer wants back or done.
    "退款", "退货", "赔偿", "赔付", "索赔", "退钱", "还钱", "换货", "要求赔", "要求处理",
    "要求解决", "要求厂家", "希望厂家", "希望处理", "希望解决", "给个说法",
    # English.
    "complaint", "complain", "refund", "broken", "defective", "damaged", "faulty", "not working",
    "doesn't work", "does not work", "never arrived", "never received", "not received",
    "did not receive", "didn't receive", "overcharged", "charged twice", "double charged",
    "unauthorized", "rude", "misleading", "fraud", "compensation", "money back",
    "still waiting", "no response", "unresolved", "poor service", "problem", "issue", "wrong",
    "error", "mistake", "incorrect", "refused", "denied", "dispute", "failed to", "harass",
    "late fee", "disappointed",
]  # fmt: skip
_GRIEVANCE = compile_keywords(GRIEVANCE_WORDS)
# What a question or a pleasantry looks like: without a grievance, it is not a complaint.
_ASKING = re.compile(
    r"[?？]|吗|呢|请问|咨询|问一下|问下|想问|我想|帮我|帮忙|查一下|怎么|如何|多少|几点|哪里|哪儿|什么|"
    r"有没有|能不能|"
    r"可不可以|可以.{0,8}吗|是否|你好|您好|在吗|在不在|谢谢|感谢|好的|收到|辛苦|麻烦你|"
    r"\b(?:hi|hello|hey|thanks|thank you|ok|okay|how|what|when|where|which|can i|could you|"
    r"do you|is there|please)\b",
    re.IGNORECASE,
)
# Shorter than this and nothing else said: "嗯", "1", "ok" are not complaints.
MIN_STATEMENT = 6
LONG_STORY = 80
_UPSET_OR_WORSE = frozenset({Emotion.UPSET, Emotion.ANGRY, Emotion.THREATENING})


@dataclass(frozen=True)
class Judgement:
    complaint: bool
    # Why, for the record: "flag:regulator", "emotion:angry", "words:退款,坏了".
    reasons: tuple[str, ...]

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "no complaint signal"


def judge(text: str, *, addressed: bool = True) -> Judgement:
    """Whether `text` is a complaint, and the signals that say so (none: not one).

    `addressed`: the text was written to us (a chat); a plain statement then counts. A public
    post is not written to us ("今天去店里逛了逛"): it needs a grievance word, an emotion or a
    risk signal."""
    folded = Folded.of(text)
    reasons: list[str] = []
    words = [w for w in _GRIEVANCE.find(folded) if not _negated(folded, w)]
    if words:
        reasons.append("words:" + ",".join(words[:5]))
    emotion = read_emotion(folded)
    if emotion.level in _UPSET_OR_WORSE:
        reasons.append(f"emotion:{emotion.level}")
    # The rules' risk flags (the classifier is not asked: a category alone is no grievance).
    reading = read(Facts(text=text), None)
    reasons.extend(f"flag:{flag}" for flag in reading.flags)
    if not reasons and addressed:
        # No grievance named: a statement long enough to be one counts (customers describe a
        # fault in words no lexicon holds); a question, a greeting or thanks does not.
        # A long message is a story, even with "您好" and a question in it.
        plain = folded.compact
        if len(plain) >= LONG_STORY or (len(plain) >= MIN_STATEMENT and not _ASKING.search(text)):
            reasons.append("statement")
    return Judgement(bool(reasons), tuple(dict.fromkeys(reasons)))
