"""Demo data: an organisation, one login per role and ~300 complaints that lived real lives.

Every complaint goes through the real services — `receive()` then `perform()` action by
action, each at a moment after the last — so timelines, counters and deadlines are what the
product itself would have written. Nothing here is copied from third-party data: the texts
are kesu.demo.scenarios, written for the demo. Customers are not messaged (the history is
replayed with notify_customer=False).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kesu.accounts.models import Department, Role, Store, User
from kesu.accounts.services import create_user
from kesu.complaints.models import Channel, Complaint
from kesu.complaints.workflow import perform
from kesu.demo import scenarios as text
from kesu.demo.scenarios import Scenario
from kesu.errors import KesuError
from kesu.intake.chat import ChatCustomer, ChatMessage, receive_chat
from kesu.intake.email_channel import receive_email
from kesu.intake.mentions import Mention, receive_mention
from kesu.intake.models import Source, SourceKind
from kesu.intake.services import parse_incoming, receive
from kesu.knowledge import services as knowledge
from kesu.notify.services import mark_read
from kesu.surveys.services import start_survey
from kesu.triage import services as triage

DEPARTMENTS = {
    "customer_service": ("客服中心", "Customer service"),
    "after_sales": ("售后服务部", "After-sales service"),
    "quality": ("质量管理部", "Quality management"),
    "logistics": ("物流配送部", "Logistics"),
    "store_ops": ("门店运营部", "Store operations"),
    "finance": ("财务结算部", "Finance"),
}

STORES = [
    ("bj-chaoyang", "北京朝阳门店", "Beijing Chaoyang", "北京"),
    ("sh-xuhui", "上海徐汇门店", "Shanghai Xuhui", "上海"),
    ("gz-tianhe", "广州天河门店", "Guangzhou Tianhe", "广州"),
    ("sz-nanshan", "深圳南山门店", "Shenzhen Nanshan", "深圳"),
    ("hz-xihu", "杭州西湖门店", "Hangzhou Xihu", "杭州"),
    ("cd-jinjiang", "成都锦江门店", "Chengdu Jinjiang", "成都"),
]


@dataclass(frozen=True)
class Login:
    username: str
    role: Role
    name: str
    departments: tuple[str, ...]


# The logins printed by `make run`: one per role.
LOGINS = (
    Login("admin", Role.ADMIN, "系统管理员", ()),
    Login("agent", Role.AGENT, "小王", ("customer_service",)),
    Login("handler", Role.HANDLER, "赵敏", ("after_sales",)),
    Login("manager", Role.MANAGER, "李经理", ("after_sales", "customer_service", "store_ops")),
    Login("expert", Role.EXPERT, "陈专家", ("quality",)),
    Login("auditor", Role.AUDITOR, "孙审计", ()),
)
# Colleagues who hold the other departments' cases.
COLLEAGUES = (
    Login("zhou", Role.HANDLER, "周强", ("logistics",)),
    Login("wu", Role.HANDLER, "吴芳", ("quality",)),
    Login("zheng", Role.HANDLER, "郑伟", ("store_ops",)),
    Login("feng", Role.HANDLER, "冯丽", ("finance",)),
    Login("qian", Role.HANDLER, "钱磊", ("after_sales", "customer_service")),
    Login("he", Role.MANAGER, "何经理", ("logistics", "quality", "finance")),
)
# Mobile prefixes in use in mainland China (the generated numbers are random, not anyone's).
MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "180",
    "186",
    "187",
    "188",
    "189",
    "199",
)
STAFF_CHANNELS = {"hotline", "store", "walk_in", "letter"}
TIMES = ("上午九点多", "中午十二点左右", "下午三点", "傍晚六点", "晚上八点半", "上午十点")
# What customers add in their own words, by the demand their complaint makes.
DEMANDS_IN_WORDS = {
    "refund": ("要求全额退款", "钱退回原支付账户就行"),
    "replacement": ("希望换一个新的", "换同型号的新品"),
    "repair": ("尽快上门维修", "修好就行，但要尽快"),
    "redo": ("重新做一份，按原定时间交付",),
    "apology": ("要一个书面道歉", "当事员工当面道歉"),
    "compensation": ("要求赔偿损失", "按规定赔偿"),
    "fee_waiver": ("把这笔费用免掉",),
}


def demo_loaded() -> bool:
    return User.objects.exists() or Complaint.objects.exists()


def logins() -> list[tuple[str, str, str]]:
    """(username, role, name) of the printed demo logins that exist in this database."""
    names = [login.username for login in LOGINS]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    return [(x.username, str(x.role.label), x.name) for x in LOGINS if x.username in existing]


class Story:
    """One complaint's life: actions at increasing moments, stopping where 'now' is reached."""

    def __init__(
        self,
        complaint: Complaint,
        start: datetime,
        now: datetime,
        rng: random.Random,
        slowness: float,
    ) -> None:
        self.complaint = complaint
        self.at = start
        self.now = now
        self.rng = rng
        self.slowness = slowness

    def after(self, low_hours: float, high_hours: float) -> bool:
        """Move the clock on; False when the next step would be in the future."""
        hours = self.rng.uniform(low_hours, high_hours) * self.slowness
        moment = self.at + timedelta(hours=hours)
        if moment >= self.now - timedelta(minutes=5):
            return False
        self.at = moment
        return True

    def do(self, action: str, actor: User, **data: Any) -> None:
        perform(self.complaint, action, actor, at=self.at, notify_customer=False, **data)


class DemoBuilder:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.people: dict[str, User] = {}
        self.departments: dict[str, Department] = {}
        self.customers: list[dict[str, str]] = []

    # --- Organisation ---------------------------------------------------------------------

    def organisation(self) -> None:
        for code, (zh, en) in DEPARTMENTS.items():
            self.departments[code] = Department.objects.create(code=code, name_zh=zh, name_en=en)
        for login in LOGINS + COLLEAGUES:
            self.people[login.username] = create_user(
                username=login.username,
                role=login.role,
                password=settings.KESU_DEMO_PASSWORD,
                display_name=login.name,
                email=f"{login.username}@kesu.invalid",
                departments=[self.departments[c] for c in login.departments],
            )
        managers = ["manager", "he", "manager", "manager", "he", "manager"]
        for (code, zh, en, city), manager in zip(STORES, managers, strict=True):
            Store.objects.create(
                code=code, name_zh=zh, name_en=en, city=city, manager=self.people[manager]
            )

    def handlers_of(self, department: str) -> list[User]:
        return [
            u
            for u in self.people.values()
            if u.role == Role.HANDLER and department in {d.code for d in u.departments.all()}
        ]

    def manager_of(self, department: str) -> User:
        return self.people["manager" if department in LOGINS[3].departments else "he"]

    # --- Complaints -----------------------------------------------------------------------

    def customer(self) -> dict[str, str]:
        if self.customers and self.rng.random() < 0.1:
            return self.rng.choice(self.customers)  # a repeat complainant
        name = self.rng.choice(text.SURNAMES) + self.rng.choice(text.GIVEN_NAMES)
        phone = f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
        who = {"name": name, "phone": phone}
        if self.rng.random() < 0.5:
            who["email"] = f"user{self.rng.randrange(10**6)}@example.com"
        self.customers.append(who)
        return who

    def fill(self, template: str, slots: dict[str, Any]) -> str:
        return template.format(**slots)

    def complaint_fields(self, scenario: Scenario, occurred: datetime) -> dict[str, Any]:
        store_code, store_name, _en, _city = self.rng.choice(STORES)
        amount = self.rng.randint(*scenario.amount) if scenario.amount else None
        local = timezone.localtime(occurred)
        order = f"{scenario.industry[:2].upper()}{local:%Y%m%d}{self.rng.randrange(10**5):05d}"
        slots = {
            "product": self.rng.choice(scenario.products),
            "store": store_name,
            "amount": amount if amount is not None else "",
            "order": order,
            "date": f"{local.month}月{local.day}日",
            "days": self.rng.randint(2, 7),
            "time": self.rng.choice(TIMES),
        }
        description = self.rng.choice(text.OPENERS) + self.fill(scenario.description, slots)
        if scenario.grade in "AB" or self.rng.random() < 0.12:
            description += self.rng.choice(text.THREATS)
        description += self.rng.choice(text.CLOSERS)
        fields: dict[str, Any] = {
            "subject": self.fill(scenario.subject, slots)[:200],
            "description": description,
            "product": slots["product"],
            "order_ref": slots["order"],
            "occurred_at": occurred.isoformat(),
            "demand": scenario.demand,
            "demand_detail": self.rng.choice(DEMANDS_IN_WORDS.get(scenario.demand, ("",))),
            **self.customer(),
        }
        if scenario.industry in ("retail", "print") or self.rng.random() < 0.3:
            fields["store"] = store_code
        if amount is not None:
            fields["amount"] = str(amount)
        fields["_slots"] = slots
        return fields

    def build_one(self, scenario: Scenario, received_at: datetime) -> Complaint:
        occurred = received_at - timedelta(hours=self.rng.uniform(1, 72))
        fields = self.complaint_fields(scenario, occurred)
        slots = fields.pop("_slots")
        channel = self.rng.choice(scenario.channels)
        fields["channel"] = channel
        # Calls, counters and letters are logged by the agent; the rest arrive on their own.
        agent = self.people["agent"] if channel in STAFF_CHANNELS else None
        incoming = parse_incoming(fields, staff=agent is not None)
        complaint = receive(
            incoming, actor=agent, received_at=received_at, notify_customer=False
        ).complaint
        slowness = self.rng.choice([0.6, 0.8, 1, 1, 1, 1.3, 2, 4])
        self.live(Story(complaint, received_at, self.now, self.rng, slowness), scenario, slots)
        return complaint

    def live(self, story: Story, scenario: Scenario, slots: dict[str, Any]) -> None:
        """Take the complaint as far along its life as the time since it arrived allows."""
        rng = story.rng
        agent = self.people["agent"]
        department = scenario.department
        handlers = self.handlers_of(department)
        handler = (
            self.people["handler"]
            if department == "after_sales" and rng.random() < 0.7
            else rng.choice(handlers)
        )
        manager = self.manager_of(department)
        grade = scenario.grade
        priority = {"A": "P1", "B": "P1", "C": "P2", "D": "P3", "E": "P4"}[grade]

        if story.complaint.alert_raised_at is not None:
            # A risk alert (E2): the expert on duty acknowledges it within minutes and has
            # read it; only the newest complaints still show an open alert.
            if not story.after(0.03, 0.15):
                return
            expert = self.people["expert"]
            story.do("acknowledge_alert", expert, note=rng.choice(text.ALERT_NOTES))
            mark_read(expert, complaint=story.complaint)
        if not story.after(0.1, 6):
            return
        story.do("acknowledge", agent if story.complaint.created_by_id else handler)
        story.do(
            "classify",
            manager,
            nature=scenario.nature,
            category=scenario.category,
            grade=grade,
            priority=priority,
        )
        if not story.after(0.2, 10):
            return
        if rng.random() < 0.08:
            # Sent to the wrong department first; its handler passes it on (a counted transfer).
            wrong = rng.choice([d for d in DEPARTMENTS if d != department])
            wrong_handler = rng.choice(self.handlers_of(wrong))
            story.do(
                "assign", self.people["admin"], department=wrong, assignee=wrong_handler.username
            )
            if not story.after(1, 12):
                return
            story.do(
                "transfer",
                wrong_handler,
                department=department,
                assignee=handler.username,
                reason=rng.choice(text.TRANSFER_REASONS),
            )
        else:
            story.do("assign", manager, department=department, assignee=handler.username)
        if grade in "AB" or rng.random() < 0.06:
            story.do(
                "escalate",
                manager,
                level=3 if grade == "A" else 2,
                reason=rng.choice(text.ESCALATION_REASONS),
            )
        if not story.after(0.5, 20):
            return
        story.do(
            "contact",
            handler,
            method=rng.choice(["phone", "phone", "sms", "wechat"]),
            reached=True,
            summary=rng.choice(text.CONTACT_SUMMARIES),
        )
        if not story.after(1, 24):
            return
        story.do("investigate", handler)
        if rng.random() < 0.5:
            story.do("note", handler, text=rng.choice(text.INTERNAL_NOTES), internal=True)
        if scenario.responsibility == "unfounded":
            if story.after(4, 48):
                story.do("mark_invalid", handler, reason=rng.choice(text.INVALID_REASONS))
            return
        if not self.propose(story, scenario, slots, handler, manager):
            return
        if rng.random() < 0.15:
            if not story.after(4, 40):
                return
            story.do("customer_reject", handler, reason=rng.choice(text.REJECT_REASONS))
            if not self.propose(story, scenario, slots, handler, manager, bigger=True):
                return
        if not story.after(2, 36):
            return
        story.do("customer_accept", handler)
        if rng.random() < 0.4:
            story.do("note", handler, text=rng.choice(text.PUBLIC_REPLIES), internal=False)
        if not story.after(1, 24):
            return
        story.do("start_remedy", handler)
        if not story.after(6, 96):
            return
        story.do(
            "resolve",
            handler,
            responsibility=scenario.responsibility,
            root_cause=scenario.root_cause,
            corrective_action=scenario.corrective_action,
            resolution=self.fill(scenario.remedy, slots),
        )
        if not story.after(12, 72):
            return
        satisfaction = rng.choice([5, 5, 5, 4, 4, 4, 3, 2, 1])
        if satisfaction <= 2 and rng.random() < 0.6:
            story.do(
                "reopen",
                agent if story.complaint.created_by_id else handler,
                reason=rng.choice(text.REOPEN_REASONS),
            )
            return
        story.do("close", handler, satisfaction=satisfaction)

    def propose(
        self,
        story: Story,
        scenario: Scenario,
        slots: dict[str, Any],
        handler: User,
        manager: User,
        *,
        bigger: bool = False,
    ) -> bool:
        if not story.after(4, 60):
            return False
        amount: int | None = None
        if scenario.remedy_type in ("refund", "compensation", "fee_waiver") and slots["amount"]:
            amount = int(slots["amount"] * (1.5 if bigger else 1))
        remedy = {
            "remedy_type": scenario.remedy_type,
            "remedy_description": self.fill(
                scenario.remedy, {**slots, "amount": "" if amount is None else amount}
            ),
        }
        if amount is not None:
            remedy["remedy_amount"] = str(amount)
        if amount is not None and amount > 500:
            story.do("request_approval", handler, **remedy)
            if not story.after(1, 20):
                return False
            approver = manager if amount <= 5000 else self.people["admin"]
            story.do("approve_remedy", approver)
        else:
            story.do("propose_remedy", handler, **remedy)
        return True

    def knowledge(self) -> None:
        """Published articles for the common categories, and two resolved cases promoted."""
        manager = self.people["manager"]
        for kind, categories, title, body in text.ARTICLES:
            article = knowledge.create_article(
                actor=manager, title=title, body=body, kind=kind, language="zh-hans",
                categories=categories, change_note="初稿",
            )  # fmt: skip
            knowledge.set_status(article=article, actor=manager, status="published")
        resolved = Complaint.objects.filter(state="closed", closure="resolved",
                                            satisfaction__gte=4).order_by("-closed_at")  # fmt: skip
        for complaint in resolved[:2]:
            knowledge.promote_to_case(complaint=complaint, actor=manager)

    def channels(self) -> None:
        """One customer across channels: a chat that turns into a complaint, her email about
        it, and her public post; a chat question that is not a complaint; a newsletter.

        The chat source's signing key is read from KESU_DEMO_CHAT_SECRET when a chat system
        calls (docs/api.md); the messages here go straight to the channel's service."""
        source = Source.objects.create(
            code="demo-chat", name="在线客服（演示）", kind=SourceKind.WEBHOOK,
            channel=Channel.CHAT, secret_env="KESU_DEMO_CHAT_SECRET",  # noqa: S106 (a name)
        )  # fmt: skip
        start = self.now - timedelta(hours=30)
        who = ChatCustomer(
            name="林晓燕", phone="+8613912345678", email="lin.xiaoyan@example.com",
            external_id="u-20451",
        )  # fmt: skip

        def chat(number: int, text: str, minutes: int, conversation: str = "s-881") -> None:
            message = ChatMessage(
                id=f"demo-{number}",
                conversation=conversation,
                text=text,
                sent_at=start + timedelta(minutes=minutes),
                customer=who,
            )
            receive_chat(source, message, now=self.now)  # fmt: skip

        chat(1, "你好，在吗？", 0)
        chat(2, "上周在杭州西湖门店买的空气炸锅，用了三次就不加热了，门店说要寄回厂家检测，"
                "要等半个月，我要求直接换新。", 2)  # fmt: skip
        chat(3, "发票和购物小票我都拍照留着。", 5)
        chat(4, "请问你们周末几点开门？", 240, conversation="s-902")
        mail = EmailMessage()
        mail["From"] = "林晓燕 <lin.xiaoyan@example.com>"
        mail["To"] = "kefu@kesu.invalid"
        mail["Subject"] = "空气炸锅不加热，要求换新（补充）"
        mail["Message-ID"] = "<demo-lin-1@example.com>"
        mail.set_content(
            "你好：我在杭州西湖门店买的空气炸锅用了三次就不加热了，门店让我寄回厂家检测，"
            "要等半个月。我要求直接换新，购买日期是上周六。"
        )
        receive_email(mail.as_bytes(), at=start + timedelta(hours=3))
        news = EmailMessage()
        news["From"] = "促销中心 <news@shop.example>"
        news["Subject"] = "本周特惠：全场八折"
        news["Precedence"] = "bulk"
        news["Message-ID"] = "<demo-news-1@shop.example>"
        news.set_content("本周末全场八折，欢迎选购。")
        receive_email(news.as_bytes(), at=start + timedelta(hours=4))
        receive_mention(
            Mention(platform="weibo", url="https://weibo.example/lin/4901",
                    text="在杭州西湖门店买的空气炸锅用三次就坏了，让我寄回去等半个月，太失望了！",
                    author="林晓燕", author_id="5566", phone="+8613912345678",
                    posted_at=start + timedelta(hours=20)),
            actor=self.people["agent"],
        )  # fmt: skip

    def follow_up(self) -> None:
        """Surveys for the cases resolved but not yet closed, as resolving them would have sent."""
        for complaint in Complaint.objects.filter(state="resolved"):
            assert complaint.resolved_at is not None
            start_survey(complaint, now=complaint.resolved_at)

    def complaints(self, count: int, days: int) -> int:
        moments = sorted(
            self.now - timedelta(days=days) * (self.rng.random() ** 1.4) for _ in range(count)
        )
        made = 0
        for moment in moments:
            scenario = self.rng.choice(text.SCENARIOS)
            try:
                self.build_one(scenario, moment)
            except KesuError as error:  # a scenario the workflow refuses is a bug: say so
                raise RuntimeError(f"demo scenario {scenario.key}: {error.detail}") from error
            made += 1
        return made


def load(*, count: int = 300, days: int = 60, seed: int = 2026) -> int:
    """Create the demo organisation, logins and complaints in one transaction; return the count."""
    builder = DemoBuilder(seed, timezone.now())
    with transaction.atomic():
        builder.organisation()
        loaded = builder.complaints(count, days)
        builder.knowledge()
        builder.channels()
        builder.follow_up()
        # The categories the demo managers confirmed train the first classifier, so that a
        # complaint filed in the demo gets a category with its confidence and reasons.
        texts, labels = triage.confirmed_examples()
        if len(texts) >= 10 and len(set(labels)) >= 2:
            triage.train_classifier(
                name=triage.CATEGORY_MODEL,
                texts=texts,
                labels=labels,
                source="demo data",
                activate="always",
            )
        return loaded
